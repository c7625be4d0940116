package ratelimit_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/time/rate"

	"github.com/breakeven-go/breakeven/internal/baseline"
	"github.com/breakeven-go/breakeven/ratelimit"
)

type allower interface{ AllowN(n int) bool }

// limiterImpls: the limiter and the baseline it is measured against pass
// the same exactness tests.
var limiterImpls = []struct {
	name string
	new  func(r rate.Limit, burst int) allower
}{
	{"ours", func(r rate.Limit, b int) allower { return ratelimit.New(r, b) }},
	{"mutex-gcra", func(r rate.Limit, b int) allower { return baseline.NewMutexGCRA(r, b) }},
}

// TestExactUnderContention: 64 goroutines hammering New(1000/s, 10) for one
// second admit between 950 and 1015 (at most r*T + burst = 1010).
func TestExactUnderContention(t *testing.T) {
	for _, im := range limiterImpls {
		t.Run(im.name, func(t *testing.T) {
			l := im.new(1000, 10)
			var admitted atomic.Int64
			start := time.Now()
			deadline := start.Add(time.Second)
			var wg sync.WaitGroup
			for range 64 {
				wg.Go(func() {
					for time.Now().Before(deadline) {
						// Count only admissions that returned before the
						// deadline: a call preempted across it would
						// stretch the window being checked.
						if l.AllowN(1) && time.Now().Before(deadline) {
							admitted.Add(1)
						}
					}
				})
			}
			wg.Wait()
			if n := admitted.Load(); n < 950 || n > 1015 {
				t.Fatalf("admitted %d events in 1s at 1000/s burst 10, want 950..1015", n)
			}
		})
	}
}

// TestWindowBoundProperty drives the limiter on synctest's fake clock with
// random schedules of sleeps and AllowN calls from several goroutines, and
// checks that every window of length T holds at most r*T + burst admitted
// events.
func TestWindowBoundProperty(t *testing.T) {
	for _, im := range limiterImpls {
		t.Run(im.name, func(t *testing.T) {
			for seed := range uint64(20) {
				synctest.Test(t, func(t *testing.T) {
					r := rand.New(rand.NewPCG(seed, 7))
					limit := rate.Limit(10 + r.IntN(990))
					burst := 1 + r.IntN(20)
					l := im.new(limit, burst)
					var mu sync.Mutex
					var times []time.Duration
					start := time.Now()
					var wg sync.WaitGroup
					for g := range 4 {
						rr := rand.New(rand.NewPCG(seed, uint64(g)))
						wg.Go(func() {
							for range 300 {
								time.Sleep(time.Duration(rr.IntN(int(3e9/float64(limit)))) * time.Nanosecond)
								n := 1 + rr.IntN(min(burst, 3))
								if l.AllowN(n) {
									mu.Lock()
									for range n {
										times = append(times, time.Since(start))
									}
									mu.Unlock()
								}
							}
						})
					}
					wg.Wait()
					checkWindows(t, times, limit, burst)
				})
			}
		})
	}
}

func checkWindows(t *testing.T, times []time.Duration, limit rate.Limit, burst int) {
	t.Helper()
	for _, window := range []time.Duration{time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond, time.Second} {
		allowed := int(float64(limit)*window.Seconds()) + burst
		j := 0
		for i := range times {
			for times[i]-times[j] >= window {
				j++
			}
			if n := i - j + 1; n > allowed {
				t.Fatalf("%d events in a %v window at %v/s burst %d, want at most %d", n, window, limit, burst, allowed)
			}
		}
	}
}

func TestWaitPastDeadlineFailsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(1, 1) // one event per second
		if !l.Allow() {
			t.Fatal("a full limiter refused its first event")
		}
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := l.Wait(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait past the deadline: err = %v, want one matching context.DeadlineExceeded", err)
		}
		if waited := time.Since(start); waited != 0 {
			t.Fatalf("Wait past the deadline waited %v, want an immediate error", waited)
		}
		if l.Stats().Allowed != 1 {
			t.Fatalf("a refused Wait was counted: %+v", l.Stats())
		}
	})
}

func TestWaitBlocksUntilTheEventFits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(10, 1)
		start := time.Now()
		for i := range 3 {
			if err := l.Wait(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got, want := time.Since(start), time.Duration(i)*100*time.Millisecond; got != want {
				t.Fatalf("Wait %d returned after %v, want %v", i, got, want)
			}
		}
		if s := l.Stats(); s.Allowed != 3 || s.Waited != 2 {
			t.Fatalf("Stats = %+v, want 3 allowed, 2 after waiting", s)
		}
	})
}

// TestCancelledWaitGivesItsEventBack: a Wait cancelled while blocked
// leaves the limiter as it was.
func TestCancelledWaitGivesItsEventBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(1, 1)
		l.Allow()
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- l.Wait(ctx) }()
		synctest.Wait()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Wait: err = %v", err)
		}
		time.Sleep(time.Second)
		if !l.Allow() {
			t.Fatal("after the cancelled Wait and 1s, the limiter had no token: the Wait kept its reservation")
		}
	})
}

func TestSpecialRates(t *testing.T) {
	inf := ratelimit.New(rate.Inf, 0)
	for range 1000 {
		if !inf.Allow() {
			t.Fatal("rate.Inf refused an event")
		}
	}
	synctest.Test(t, func(t *testing.T) {
		zero := ratelimit.New(0, 3)
		for i := range 3 {
			if !zero.Allow() {
				t.Fatalf("rate 0 burst 3 refused event %d of its burst", i)
			}
		}
		time.Sleep(time.Hour)
		if zero.Allow() {
			t.Fatal("rate 0 admitted an event after its burst")
		}
		if err := zero.Wait(t.Context()); err == nil {
			t.Fatal("Wait on a spent rate-0 limiter succeeded")
		}
	})
	l := ratelimit.New(100, 5)
	if l.AllowN(6) {
		t.Fatal("AllowN above the burst succeeded")
	}
	if err := l.WaitN(context.Background(), 6); err == nil || !strings.HasPrefix(err.Error(), "ratelimit: ") {
		t.Fatalf("WaitN above the burst: err = %v", err)
	}
}

func TestSetLimitAndBurst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(1, 1)
		l.Allow()
		l.SetLimit(1000)
		l.SetBurst(10)
		time.Sleep(10 * time.Millisecond)
		if l.Limit() != 1000 || l.Burst() != 10 {
			t.Fatalf("Limit, Burst = %v, %d", l.Limit(), l.Burst())
		}
		if n := l.Tokens(); n < 9 || n > 10 {
			t.Fatalf("Tokens after 10ms at 1000/s = %d, want about 10", n)
		}
	})
}

func TestAllowDoesNotAllocate(t *testing.T) {
	l := ratelimit.New(rate.Inf, 1)
	m := ratelimit.New(1e6, 1000)
	if a := testing.AllocsPerRun(1000, func() { l.Allow(); m.Allow() }); a != 0 {
		t.Fatalf("Allow allocates %v times per call", a)
	}
}

func TestBadInputPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"New(-1, 1)":       func() { ratelimit.New(-1, 1) },
		"New(10, -1)":      func() { ratelimit.New(10, -1) },
		"New(2e+09, 1)":    func() { ratelimit.New(2e9, 1) },
		"SetBurst(10, -2)": func() { ratelimit.New(10, 1).SetBurst(-2) },
	} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.HasPrefix(msg, "ratelimit: ") {
					t.Errorf("%s panicked with %q, want a ratelimit: message", name, msg)
				}
			}()
			f()
		}()
	}
}
