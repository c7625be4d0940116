package shed_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/breakeven-go/breakeven/shed"
)

// inTurn sends n requests through a one after another, each held for
// service: at most one in flight, far below half of any limit.
func inTurn(t *testing.T, a *shed.Adaptive, n int, service time.Duration) {
	t.Helper()
	for range n {
		p, err := a.Acquire(shed.WithPriority(t.Context(), shed.Critical))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(service)
		p.Release(shed.Success)
	}
}

// learn sends requests of service one at a time until a has a no-load latency.
func learn(t *testing.T, a *shed.Adaptive, service time.Duration) {
	t.Helper()
	for range 100 {
		if a.Stats().MinLatency != 0 {
			return
		}
		inTurn(t, a, 1, service)
	}
	t.Fatal("no no-load latency learnt after 100 requests")
}

// TestAdaptiveNoLoadFollowsTheMeanUpWhenIdle: in windows where fewer than
// half the slots are used, the no-load estimate follows a higher mean up
// by a tenth of the difference per window, and never past it.
func TestAdaptiveNoLoadFollowsTheMeanUpWhenIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Tolerance 3: 19ms against 10ms is neither over it nor a queue forming.
		a := shed.NewAdaptive(shed.Limits(10, 2, 100), shed.Tolerance(3))
		learn(t, a, 10*time.Millisecond)
		if got := a.Stats().MinLatency; got != 10*time.Millisecond {
			t.Fatalf("no-load latency %v after 10ms requests, want 10ms", got)
		}
		for i := 0; a.Stats().MinLatency == 10*time.Millisecond; i++ {
			if i == 100 {
				t.Fatal("the estimate did not move after 100 slower requests")
			}
			inTurn(t, a, 1, 19*time.Millisecond)
		}
		if got, want := a.Stats().MinLatency, 10*time.Millisecond+900*time.Microsecond; got != want {
			t.Fatalf("after one window of 19ms requests one at a time: no-load latency %v, want %v (a tenth of the way up)", got, want)
		}
		inTurn(t, a, 300, 19*time.Millisecond) // dozens of windows
		if got := a.Stats().MinLatency; got > 19*time.Millisecond || got < 18*time.Millisecond {
			t.Fatalf("after dozens of windows of 19ms requests: no-load latency %v, want it caught up with 19ms and not past it", got)
		}
	})
}

// TestAdaptiveLatencyWithinToleranceKeepsTheLimit: latency up to Tolerance
// times the no-load latency is accepted: requests slower than the
// estimate, but within the tolerance, neither lower the limit nor set off
// a re-measurement, and nothing is shed.
func TestAdaptiveLatencyWithinToleranceKeepsTheLimit(t *testing.T) {
	for _, tc := range []struct {
		tolerance float64
		service   time.Duration
	}{{1.5, 14 * time.Millisecond}, {2, 19 * time.Millisecond}} {
		synctest.Test(t, func(t *testing.T) {
			a := shed.NewAdaptive(shed.Limits(10, 2, 100), shed.Tolerance(tc.tolerance))
			learn(t, a, 10*time.Millisecond)
			inTurn(t, a, 100, tc.service) // 1.4s or more
			if s := a.Stats(); s.Limit != 10 || s.ShedCritical != 0 {
				t.Fatalf("Tolerance(%v), %v requests against a 10ms no-load latency: Stats = %+v, want the limit still 10",
					tc.tolerance, tc.service, s)
			}
		})
	}
}

// TestAdaptiveToleranceOneAcceptsTheNoLoadLatency: with Tolerance(1) (no
// queue tolerated) a service whose latency never changes is within the
// tolerance, and no queue is forming: slow start doubles the limit.
func TestAdaptiveToleranceOneAcceptsTheNoLoadLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := shed.NewAdaptive(shed.Limits(10, 2, 100), shed.Tolerance(1))
		roundTrip(t, a, 5, 100*time.Millisecond, shed.Success)
		if got := a.Stats().Limit; got != 20 {
			t.Fatalf("a first window with half the limit in use at its own no-load latency, Tolerance(1): limit %d, want 20", got)
		}
	})
}
