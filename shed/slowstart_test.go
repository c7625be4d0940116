package shed_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/breakeven-go/breakeven/shed"
)

// TestAdaptiveSlowStartStopsAtTheQueue: at 2x the capacity of a 4-slot x
// 10 ms backend, slow start doubles the limit from 4 and must stop once a
// queue forms, near the backend's own concurrency, instead of doubling once
// more on requests admitted just after a doubling, which met the old, short
// queue (the latency of the new limit takes a round trip to show). Before,
// it went from 8 to 16, and the overshoot's queue took the next few
// hundred milliseconds to drain: the Shed suite's p99 at 2x.
func TestAdaptiveSlowStartStopsAtTheQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := shed.NewAdaptive()
		slots := make(chan struct{}, 4)
		peak := 0
		stop, done := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			for {
				peak = max(peak, a.Stats().Limit)
				select {
				case <-stop:
					return
				case <-time.After(time.Millisecond):
				}
			}
		}()
		_, latencies := simulate(a, 800, time.Second, slots)
		close(stop)
		<-done
		slow := 0
		for _, l := range latencies {
			if l > 25*time.Millisecond {
				slow++
			}
		}
		if peak > 10 || slow > len(latencies)/100 {
			t.Fatalf("limit peaked at %d, %d of %d requests slower than 25ms: slow start overshot the backend's 4 slots",
				peak, slow, len(latencies))
		}
	})
}

// TestAdaptiveSlowStartEndsWhenAQueueStartsToForm: slow start stops
// doubling once latency is halfway to the tolerance (a queue starts to
// form), before it is over the tolerance: 140 ms against a no-load latency
// of 100 ms, Tolerance 1.5.
func TestAdaptiveSlowStartEndsWhenAQueueStartsToForm(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := shed.NewAdaptive(shed.Limits(10, 2, 100))
		roundTrip(t, a, 5, 100*time.Millisecond, shed.Success) // the first window: no-load 100ms, 10 -> 20
		if got := a.Stats().Limit; got != 20 {
			t.Fatalf("after the first window: limit %d, want 20", got)
		}
		time.Sleep(100 * time.Millisecond) // past a no-load latency since the doubling
		roundTrip(t, a, 10, 140*time.Millisecond, shed.Success)
		if got := a.Stats().Limit; got >= 40 || got < 20 {
			t.Fatalf("a window at 1.4x the no-load latency with half the limit of 20 in use: limit %d, want slow start over (below 40) and no shrink", got)
		}
	})
}
