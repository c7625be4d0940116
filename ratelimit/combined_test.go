package ratelimit_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/time/rate"

	"github.com/breakeven-go/breakeven/ratelimit"
)

// TestCombinedBoundsRateAndConcurrency: 20 workers whose operations take
// 50 ms, against 100/s burst 5 and at most 3 at once, never run more than 3
// together and start no more than the rate allows.
func TestCombinedBoundsRateAndConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := ratelimit.NewCombined(100, 5, 3)
		var inFlight, peak, started atomic.Int64
		ctx, cancel := context.WithTimeout(t.Context(), 975*time.Millisecond) // between two rounds of starts
		defer cancel()
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				for c.Acquire(ctx) == nil {
					started.Add(1)
					n := inFlight.Add(1)
					for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
					}
					time.Sleep(50 * time.Millisecond)
					inFlight.Add(-1)
					c.Release()
				}
			})
		}
		wg.Wait()
		if peak.Load() > 3 {
			t.Fatalf("%d operations at once, cap 3", peak.Load())
		}
		// 3 slots x 50 ms: 3 starts at 0, 50, ..., 950 ms; the rate
		// (100/s, burst 5) is looser and never delays them.
		if n := started.Load(); n != 60 {
			t.Fatalf("%d operations started in 975ms, want 60", n)
		}
	})
}

func TestCombinedTryAcquire(t *testing.T) {
	c := ratelimit.NewCombined(rate.Every(time.Hour), 1, 2)
	if !c.TryAcquire() {
		t.Fatal("first TryAcquire refused")
	}
	if c.TryAcquire() {
		t.Fatal("second TryAcquire admitted with the rate spent")
	}
	c.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := c.Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire with the rate spent for an hour: %v", err)
	}
}

func TestReservation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(10, 1)
		r1 := l.Reserve()
		r2 := l.Reserve()
		if !r1.OK() || r1.Delay() != 0 || r2.Delay() != 100*time.Millisecond {
			t.Fatalf("delays %v, %v; want 0 and 100ms", r1.Delay(), r2.Delay())
		}
		r2.Cancel()
		if r3 := l.Reserve(); r3.Delay() != 100*time.Millisecond {
			t.Fatalf("after cancelling the second reservation the next waits %v, want 100ms", r3.Delay())
		}
		if r := l.ReserveN(2); r.OK() || r.Delay() != rate.InfDuration {
			t.Fatal("a reservation above the burst is OK")
		}
	})
}

// TestCombinedRateBinds (issue 24): the rate is the binding limit and
// operations end together (each runs until the next whole second), so
// several slots free up at once while callers wait. Starts must still keep
// to the rate: a Combined that took the rate before the slot would let
// callers hoard tokens while waiting for slots and start them together.
func TestCombinedRateBinds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := ratelimit.NewCombined(10, 1, 3)
		var mu sync.Mutex
		var starts []time.Duration
		var inFlight, peak atomic.Int64
		start := time.Now()
		ctx, cancel := context.WithTimeout(t.Context(), 3500*time.Millisecond)
		defer cancel()
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				for c.Acquire(ctx) == nil {
					mu.Lock()
					starts = append(starts, time.Since(start))
					mu.Unlock()
					n := inFlight.Add(1)
					for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
					}
					elapsed := time.Since(start)
					time.Sleep(elapsed.Truncate(time.Second) + time.Second - elapsed)
					inFlight.Add(-1)
					c.Release()
				}
			})
		}
		wg.Wait()
		if peak.Load() > 3 {
			t.Fatalf("%d operations at once, cap 3", peak.Load())
		}
		if len(starts) < 9 {
			t.Fatalf("only %d starts in 3.5s", len(starts))
		}
		checkWindows(t, starts, 10, 1)
	})
}
