package shed_test

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/breakeven-go/breakeven/shed"
)

// holdAll acquires n Critical permits from a at once, failing the test if
// one is refused.
func holdAll(t *testing.T, a *shed.Adaptive, n int) []shed.Permit {
	t.Helper()
	held := make([]shed.Permit, 0, n)
	for range n {
		p, err := a.Acquire(shed.WithPriority(t.Context(), shed.Critical))
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, p)
	}
	return held
}

// roundTrip holds n Critical permits of a for d, then releases them all
// with o: n requests that each took d.
func roundTrip(t *testing.T, a *shed.Adaptive, n int, d time.Duration, o shed.Outcome) {
	t.Helper()
	held := holdAll(t, a, n)
	time.Sleep(d)
	for _, p := range held {
		p.Release(o)
	}
}

// clients runs n closed-loop clients against a until the clock reaches
// until: each acquires a Critical permit, holds it for service and
// releases it with Success (a refused client waits a millisecond).
func clients(t *testing.T, a *shed.Adaptive, n int, service time.Duration, until time.Time) *sync.WaitGroup {
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for time.Now().Before(until) {
				p, err := a.Acquire(shed.WithPriority(t.Context(), shed.Critical))
				if err != nil {
					time.Sleep(time.Millisecond)
					continue
				}
				time.Sleep(service)
				p.Release(shed.Success)
			}
		})
	}
	return &wg
}

// TestAdaptiveSlowStartStepsEveryRoundTripOrTwo: in slow start the limit
// doubles every round trip or two (Window's doc), not once per Window,
// while at least half of it is in use, exactly half included: two clients
// of 10 ms requests at a limit of 4 see it at 8 well before the 100 ms
// Window is over.
func TestAdaptiveSlowStartStepsEveryRoundTripOrTwo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := shed.NewAdaptive(shed.Limits(4, 2, 100))
		start := time.Now()
		wg := clients(t, a, 2, 10*time.Millisecond, start.Add(60*time.Millisecond))
		time.Sleep(45 * time.Millisecond)
		got := a.Stats().Limit
		wg.Wait()
		if got != 8 {
			t.Fatalf("45ms (four round trips) into slow start with half of the limit in use: limit %d, want 8", got)
		}
	})
}

// TestAdaptiveUpdatesOncePerWindowAfterSlowStart: once slow start is over
// (here ended by a window of drops), the limit moves at most once per
// Window, not every round trip.
func TestAdaptiveUpdatesOncePerWindowAfterSlowStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := shed.NewAdaptive(shed.Limits(10, 2, 100))
		roundTrip(t, a, 10, 100*time.Millisecond, shed.Dropped) // ends slow start: 10 -> 9
		if got := a.Stats().Limit; got != 9 {
			t.Fatalf("after a window of drops: limit %d, want 9", got)
		}
		last, limit := time.Now(), 9
		var changes []time.Duration // time since the previous change
		end := last.Add(450 * time.Millisecond)
		wg := clients(t, a, 9, 10*time.Millisecond, end) // saturated, no queue: the limit grows
		for time.Now().Before(end) {
			time.Sleep(time.Millisecond)
			if l := a.Stats().Limit; l != limit {
				changes = append(changes, time.Since(last))
				last, limit = time.Now(), l
			}
		}
		wg.Wait()
		if len(changes) == 0 {
			t.Fatal("the limit never grew under a load that uses all of it without a queue")
		}
		for _, d := range changes {
			if d < 90*time.Millisecond {
				t.Fatalf("after slow start the limit changed %v after the previous change, want once per 100ms Window (changes %v)", d, changes)
			}
		}
	})
}

// TestAdaptiveSlowStartStepsWhenHalfTheLimitHasAnswered: a slow-start step
// does not wait for the Window when requests arrive late in it: at a limit
// of 4, two requests (half of it) of 10 ms that arrive 30 ms into the first
// window double the limit as they complete, three round trips after the
// window began, instead of at the end of the 100 ms Window.
func TestAdaptiveSlowStartStepsWhenHalfTheLimitHasAnswered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := shed.NewAdaptive(shed.Limits(4, 2, 100))
		time.Sleep(30 * time.Millisecond)
		roundTrip(t, a, 2, 10*time.Millisecond, shed.Success)
		if got := a.Stats().Limit; got != 8 {
			t.Fatalf("two 10ms requests (half the limit of 4) completed 40ms into slow start: limit %d, want 8", got)
		}
	})
}
