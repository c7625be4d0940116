package ratelimit_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
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

// TestNeverOverUnderContention: 64 goroutines hammering New(1000/s, 10)
// for one second admit at most r*T + burst = 1010. Only the upper bound is
// checked: how many get through on a loaded machine depends on its speed.
func TestNeverOverUnderContention(t *testing.T) {
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
			if n := admitted.Load(); n > 1010 {
				t.Fatalf("admitted %d events in 1s at 1000/s burst 10, want at most 1010", n)
			}
		})
	}
}

// TestExactUnderContention (issue 24): 32 goroutines race AllowN of 1 to 3
// events, yielding between calls, on a bucket that does not refill within
// the test (one event a day, burst 5000): together they get exactly the
// burst, never one more (a check-then-act race admits twice against one
// token) and never one less (nothing lost), however fast the machine is.
func TestExactUnderContention(t *testing.T) {
	for _, im := range limiterImpls {
		t.Run(im.name, func(t *testing.T) {
			l := im.new(rate.Every(24*time.Hour), 5000)
			var admitted atomic.Int64
			var wg sync.WaitGroup
			for g := range 32 {
				wg.Go(func() {
					r := rand.New(rand.NewPCG(uint64(g), 1))
					for range 2000 {
						n := 1 + r.IntN(3)
						if l.AllowN(n) {
							admitted.Add(int64(n))
						}
						runtime.Gosched()
					}
					for l.AllowN(1) { // take what the larger calls left
						admitted.Add(1)
					}
				})
			}
			wg.Wait()
			if n := admitted.Load(); n != 5000 {
				t.Fatalf("32 racing goroutines got %d events from a burst of 5000 that does not refill, want exactly 5000", n)
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
		if err := l.SetLimit(1000); err != nil {
			t.Fatal(err)
		}
		if err := l.SetBurst(10); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
		if l.Limit() != 1000 || l.Burst() != 10 {
			t.Fatalf("Limit, Burst = %v, %d", l.Limit(), l.Burst())
		}
		if n := l.Tokens(); n != 10 {
			t.Fatalf("Tokens after 10ms at 1000/s = %d, want 10", n)
		}
	})
}

// TestReserveSaturates (issue 19, defect 6): reservations far past the
// burst push tat towards the int64 horizon; they must saturate (refuse),
// never wrap around to a delay of 0.
func TestReserveSaturates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(rate.Every(time.Hour), 600000)
		var last time.Duration
		for i := range 10 {
			r := l.ReserveN(600000)
			if !r.OK() {
				if r.Delay() != rate.InfDuration {
					t.Fatalf("reservation %d refused with Delay %v", i, r.Delay())
				}
				continue
			}
			if i > 0 && r.Delay() <= last {
				t.Fatalf("reservation %d: Delay %v after %v: tat wrapped around", i, r.Delay(), last)
			}
			last = r.Delay()
		}
		if l.Allow() {
			t.Fatal("Allow admitted with centuries of reservations queued")
		}
	})
}

// TestSetBurstKeepsTokens (issue 19, defect 7): raising the burst does not
// fill the bucket and lowering it never makes Tokens negative, as in
// x/time/rate.
func TestSetBurstKeepsTokens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(10, 10)
		x := rate.NewLimiter(10, 10)
		for range 10 {
			l.Allow()
			x.Allow()
		}
		if err := l.SetBurst(1000); err != nil {
			t.Fatal(err)
		}
		x.SetBurst(1000)
		n, xn := 0, 0
		for l.Allow() {
			n++
		}
		for x.Allow() {
			xn++
		}
		if n != xn || n > 1 {
			t.Fatalf("after SetBurst(10 -> 1000) on an empty bucket: %d admitted at once (x/time/rate: %d)", n, xn)
		}
		time.Sleep(time.Second) // 10 tokens back
		if err := l.SetBurst(5); err != nil {
			t.Fatal(err)
		}
		if got := l.Tokens(); got != 5 {
			t.Fatalf("Tokens after SetBurst(1000 -> 5) with 10 tokens = %d, want 5", got)
		}
		if err := l.SetBurst(1); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			l.Allow()
		}
		if err := l.SetBurst(0); err != nil || l.Tokens() < 0 {
			t.Fatalf("SetBurst(0): %v, Tokens %d", err, l.Tokens())
		}
	})
}

// TestSetLimitRejectsBadValues (issue 19, defect 9): a bad reload returns an
// error and keeps the old configuration; it never panics.
func TestSetLimitRejectsBadValues(t *testing.T) {
	l := ratelimit.New(10, 5)
	for _, r := range []rate.Limit{-1, rate.Limit(math.NaN()), 2e9, 7e8, 1e-12} {
		if err := l.SetLimit(r); err == nil || !strings.HasPrefix(err.Error(), "ratelimit: SetLimit(") {
			t.Errorf("SetLimit(%v) = %v, want a ratelimit: error", r, err)
		}
	}
	if err := l.SetBurst(-1); err == nil || !strings.HasPrefix(err.Error(), "ratelimit: SetBurst(-1)") {
		t.Errorf("SetBurst(-1) = %v", err)
	}
	if l.Limit() != 10 || l.Burst() != 5 || l.Tokens() != 5 {
		t.Fatalf("after rejected setters: Limit %v, Burst %d, Tokens %d; want 10, 5, 5", l.Limit(), l.Burst(), l.Tokens())
	}
}

// TestSetLimitToAndFromZeroKeepsTokens (issue 19, defect 10): a spent
// bucket stays spent through rate 0, and rate 0 keeps what is left of the
// burst; x/time/rate behaves the same.
func TestSetLimitToAndFromZeroKeepsTokens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(0, 1)
		x := rate.NewLimiter(0, 1)
		l.Allow()
		x.Allow()
		if err := l.SetLimit(10); err != nil {
			t.Fatal(err)
		}
		x.SetLimit(10)
		r, xr := l.Reserve(), x.Reserve()
		if r.Delay() != 100*time.Millisecond || xr.Delay() != 100*time.Millisecond {
			t.Fatalf("after SetLimit(0 -> 10/s) on a spent bucket: wait %v (x/time/rate %v), want 100ms", r.Delay(), xr.Delay())
		}
		time.Sleep(time.Second) // full again: 1 token
		l2 := ratelimit.New(10, 3)
		l2.Allow() // 2 left
		if err := l2.SetLimit(0); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Hour)
		if got := l2.Tokens(); got != 2 {
			t.Fatalf("Tokens at rate 0 an hour after SetLimit(10/s -> 0) with 2 left = %d, want 2", got)
		}
		if first, second, third := l2.Allow(), l2.Allow(), l2.Allow(); !first || !second || third {
			t.Fatalf("rate 0 with 2 tokens left: Allow %v, %v, %v; want true, true, false", first, second, third)
		}
	})
}

// TestCancelAfterSetLimit (issue 19, defect 11): Cancel gives the events
// back even when SetLimit rescaled the bucket in between, at the new
// interval.
func TestCancelAfterSetLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(10, 1)
		l.Allow()
		r := l.Reserve() // due in 100ms
		if err := l.SetLimit(1); err != nil {
			t.Fatal(err)
		}
		r.Cancel()
		// One event owed at 1/s: the bucket is full again in 1s, not 2.
		if r2 := l.Reserve(); r2.Delay() != time.Second {
			t.Fatalf("after Cancel the next reservation waits %v, want 1s", r2.Delay())
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
		"New(-1, 1)":    func() { ratelimit.New(-1, 1) },
		"New(10, -1)":   func() { ratelimit.New(10, -1) },
		"New(2e+09, 1)": func() { ratelimit.New(2e9, 1) },
		"New(7e+08, 1)": func() { ratelimit.New(7e8, 1) },
		"New(1e-12, 1)": func() { ratelimit.New(1e-12, 1) },
		// 1s x 3e9 is past the 2^61 ns a bucket may span (New(1, 2e9) is not)
		"New(1, 3e9)": func() { ratelimit.New(1, 3_000_000_000) },
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
	if l := ratelimit.New(1, 2_000_000_000); l.Burst() != 2_000_000_000 {
		t.Fatalf("New(1, 2e9): Burst %d", l.Burst())
	}
	if l := ratelimit.New(1e9, 1); l.Limit() != 1e9 { // 1e9/s, one event a nanosecond, is the highest rate
		t.Fatalf("New(1e9, 1): Limit %v", l.Limit())
	}
}

// TestCountsOutsideOneToBurst: on a bucket in debt (a reservation waits),
// n = 0 is admitted at once without waiting, as in x/time/rate, and a
// negative n is refused.
func TestCountsOutsideOneToBurst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(10, 2)
		l.AllowN(2)
		if r := l.Reserve(); r.Delay() != 100*time.Millisecond {
			t.Fatalf("Reserve on an empty bucket: Delay %v, want 100ms", r.Delay())
		}
		if zero, negative := l.AllowN(0), l.AllowN(-1); !zero || negative {
			t.Fatalf("AllowN(0) = %v, AllowN(-1) = %v; want true, false", zero, negative)
		}
		if r := l.ReserveN(0); !r.OK() || r.Delay() != 0 {
			t.Fatalf("ReserveN(0): OK %v, Delay %v; want true, 0", r.OK(), r.Delay())
		}
		start := time.Now()
		if err := l.WaitN(t.Context(), 0); err != nil || time.Since(start) != 0 {
			t.Fatalf("WaitN(0) = %v after %v, want nil at once", err, time.Since(start))
		}
	})
}
