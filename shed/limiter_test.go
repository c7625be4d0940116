package shed_test

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/breakeven-go/breakeven/internal/lockstep"
	"github.com/breakeven-go/breakeven/shed"
)

var limiters = []struct {
	name string
	new  func(limit int) shed.Limiter
}{
	{"inflight", func(n int) shed.Limiter { return shed.NewInFlight(n) }},
	{"adaptive", func(n int) shed.Limiter { return shed.NewAdaptive(shed.Limits(n, 1, n)) }},
}

// TestInFlightNeverExceedsLimit: goroutines hammer the gate at its limit,
// holding each permit across yields (so admissions really overlap), and
// never see more than the limit in flight, by their own count or the
// gate's; the peak reaches the limit and many requests are shed, so the
// gate was contended exactly where a check-then-add (load, compare, then
// add, instead of the CAS) lets two in at once. That mutant fails this in
// most runs; TestLastSlotGoesToOneOfTwo fails it in every run.
func TestInFlightNeverExceedsLimit(t *testing.T) {
	for _, im := range limiters {
		t.Run(im.name, func(t *testing.T) {
			const limit, workers, attempts = 4, 8, 20_000
			l := im.new(limit)
			var inFlight, peak atomic.Int64
			var wg sync.WaitGroup
			ctx := shed.WithPriority(context.Background(), shed.Critical)
			start := make(chan struct{})
			for range workers {
				wg.Go(func() {
					<-start
					for range attempts {
						p, err := l.Acquire(ctx)
						if err != nil {
							if !errors.Is(err, shed.ErrOverloaded) {
								t.Errorf("Acquire: %v", err)
							}
							continue
						}
						n := max(inFlight.Add(1), int64(l.Stats().InFlight))
						for o := peak.Load(); n > o && !peak.CompareAndSwap(o, n); o = peak.Load() {
						}
						runtime.Gosched() // hold the slot across yields
						runtime.Gosched()
						inFlight.Add(-1)
						p.Release(shed.Success)
					}
				})
			}
			close(start)
			wg.Wait()
			s := l.Stats()
			if p := peak.Load(); p > limit {
				t.Fatalf("%d requests in flight at once, limit %d", p, limit)
			} else if p < limit || s.ShedCritical == 0 {
				t.Fatalf("peak %d, %d shed: the gate was never contended at its limit %d", p, s.ShedCritical, limit)
			}
			if s.InFlight != 0 || s.Accepted+s.ShedCritical != workers*attempts {
				t.Fatalf("Stats = %+v", s)
			}
		})
	}
}

func TestCriticalIsShedLast(t *testing.T) {
	l := shed.NewInFlight(10) // sheddable may use 9
	var permits []shed.Permit
	for range 9 {
		p, err := l.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		permits = append(permits, p)
	}
	if _, err := l.Acquire(context.Background()); !errors.Is(err, shed.ErrOverloaded) {
		t.Fatalf("10th sheddable request: err = %v, want ErrOverloaded", err)
	}
	p, err := l.Acquire(shed.WithPriority(context.Background(), shed.Critical))
	if err != nil {
		t.Fatalf("critical request refused with a slot kept for it: %v", err)
	}
	p.Release(shed.Success)
	for _, p := range permits {
		p.Release(shed.Dropped)
	}
	if s := l.Stats(); s.ShedSheddable != 1 || s.Dropped != 9 || s.InFlight != 0 {
		t.Fatalf("Stats = %+v", s)
	}
}

// simulate offers an open-loop load of rate req/s to a backend of 4 slots x
// 10 ms behind l, on synctest's clock, for d; it returns the limits seen at
// each 100 ms and the accepted requests' latencies.
func simulate(l shed.Limiter, rate int, d time.Duration, slots chan struct{}) (limits []int, latencies []time.Duration) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	every := time.Second / time.Duration(rate)
	stop := time.Now().Add(d)
	next := time.Now()
	tick := time.Now()
	for time.Now().Before(stop) {
		wg.Go(func() {
			start := time.Now()
			p, err := l.Acquire(context.Background())
			if err != nil {
				return
			}
			slots <- struct{}{}
			time.Sleep(10 * time.Millisecond)
			<-slots
			p.Release(shed.Success)
			mu.Lock()
			latencies = append(latencies, time.Since(start))
			mu.Unlock()
		})
		next = next.Add(every)
		time.Sleep(time.Until(next))
		if time.Since(tick) >= 100*time.Millisecond {
			tick = time.Now()
			limits = append(limits, l.Stats().Limit)
		}
	}
	wg.Wait()
	return limits, latencies
}

// TestAdaptiveDoesNotDriftUnderLongOverload: 10 simulated minutes at 2x
// capacity keep the limit near the backend's (4 slots), and the no-load
// latency estimate stays at the service time instead of ratcheting up.
func TestAdaptiveDoesNotDriftUnderLongOverload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := shed.NewAdaptive()
		slots := make(chan struct{}, 4)
		limits, _ := simulate(a, 800, 10*time.Minute, slots)
		early, late := avg(limits[50:1000]), avg(limits[len(limits)-1000:])
		if late > 20 || late > early*1.5 {
			t.Fatalf("limit averaged %.1f early in the overload and %.1f late: drift", early, late)
		}
		if s := a.Stats(); s.MinLatency > 15*time.Millisecond {
			t.Fatalf("no-load latency estimate = %v after a long overload, want about 10ms", s.MinLatency)
		}
	})
}

// TestAdaptiveRecoversAfterOverload: after the overload ends, nothing more
// is shed at half load.
func TestAdaptiveRecoversAfterOverload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := shed.NewAdaptive()
		slots := make(chan struct{}, 4)
		simulate(a, 1600, 5*time.Second, slots) // 4x capacity
		before := a.Stats().ShedSheddable
		if before == 0 {
			t.Fatal("nothing shed at 4x capacity")
		}
		simulate(a, 200, 5*time.Second, slots) // half capacity
		if shedAfter := a.Stats().ShedSheddable - before; shedAfter > 20 {
			t.Fatalf("%d requests shed at half load after the overload ended", shedAfter)
		}
	})
}

func avg(xs []int) float64 {
	s := 0
	for _, x := range xs {
		s += x
	}
	return float64(s) / float64(len(xs))
}

func TestAIMDConverges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := shed.NewAdaptive(shed.AIMD())
		slots := make(chan struct{}, 4)
		limits, lat := simulate(a, 800, 30*time.Second, slots)
		if late := avg(limits[len(limits)-100:]); late > 20 {
			t.Fatalf("AIMD limit averaged %.1f at 2x overload of a 4-slot backend", late)
		}
		if len(lat) < 10_000 {
			t.Fatalf("only %d requests served in 30s of a 400/s backend", len(lat))
		}
	})
}

func TestBadOptionsPanic(t *testing.T) {
	for name, f := range map[string]func(){
		"NewInFlight(0)":       func() { shed.NewInFlight(0) },
		"Limits(1, 2, 3)":      func() { shed.Limits(1, 2, 3) },
		"Window(0s)":           func() { shed.Window(0) },
		"Tolerance(0.5)":       func() { shed.Tolerance(0.5) },
		"RetryAfter(100ms)":    func() { shed.RetryAfter(100 * time.Millisecond) },
		"Status(200)":          func() { shed.Status(200) },
		"RetryAfter(25h0m0s)":  func() { shed.RetryAfter(25 * time.Hour) },
		"PriorityHeader(\"\")": func() { shed.PriorityHeader("") },
		"NewPermit(nil)":       func() { shed.NewPermit(nil) },
		"Middleware(nil":       func() { shed.Middleware(nil, http.NotFoundHandler()) },
	} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.HasPrefix(msg, "shed: "+name) {
					t.Errorf("%s panicked with %q", name, msg)
				}
			}()
			f()
		}()
	}
}

// TestLastSlotGoesToOneOfTwo (issue 24): round after round, two Acquires
// reach a gate one below its limit at the same instant, and exactly one of
// them gets the slot. The helper goroutine spins on the round number (no
// channel wake-up between the two callers), so both enter admit within a
// cache-line transfer of each other: a check-then-add (load, compare, then
// add, instead of the CAS) lets both in within a few rounds. The
// winner holds its slot until both have tried. The rounds are bounded and
// nothing depends on how fast the machine is.
func TestLastSlotGoesToOneOfTwo(t *testing.T) {
	for _, im := range []struct {
		name string
		new  func(limit int) shed.Limiter
	}{
		{"inflight", func(n int) shed.Limiter { return shed.NewInFlight(n) }},
		// A window of an hour: the limit stays where it starts.
		{"adaptive", func(n int) shed.Limiter { return shed.NewAdaptive(shed.Limits(n, 1, n), shed.Window(time.Hour)) }},
	} {
		t.Run(im.name, func(t *testing.T) {
			const limit, rounds = 4, 2000
			l := im.new(limit)
			ctx := shed.WithPriority(context.Background(), shed.Critical)
			for range limit - 1 { // held for the whole test: one slot left
				p, err := l.Acquire(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer p.Release(shed.Success)
			}
			var p, helperPermit shed.Permit
			var err, helperErr error
			one := 0
			lockstep.Rounds(t, rounds, nil,
				func(int) { helperPermit, helperErr = l.Acquire(ctx) },
				func(int) { p, err = l.Acquire(ctx) },
				func(r int) {
					admitted := 0
					for _, e := range []error{err, helperErr} {
						if e == nil {
							admitted++
						} else if !errors.Is(e, shed.ErrOverloaded) {
							t.Fatalf("Acquire: %v", e)
						}
					}
					if err == nil {
						p.Release(shed.Success)
					}
					if helperErr == nil {
						helperPermit.Release(shed.Success)
					}
					if admitted > 1 {
						t.Fatalf("round %d: both callers got the last slot (limit %d, %d held)", r, limit, limit-1)
					}
					if admitted == 1 {
						one++
					}
				})
			if one < rounds/2 {
				t.Fatalf("the last slot was taken in only %d of %d rounds: the gate was not at its limit", one, rounds)
			}
		})
	}
}
