package shed_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/breakeven-go/breakeven/shed"
)

// TestQueueStandsForAWindowAfterATimeout: a waiter that timed out leaves
// the queue standing for the next 100ms even though it is empty again
// (newcomers may wait 5ms), and healthy after that (100ms); a waiter that
// gave up is no longer counted in Stats().Queued.
func TestQueueStandsForAWindowAfterATimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		crit := shed.WithPriority(t.Context(), shed.Critical)
		q := shed.NewQueued(shed.NewInFlight(1), 10)
		hold, _ := q.Acquire(crit)
		defer hold.Release(shed.Success)
		waited := func() time.Duration {
			start := time.Now()
			if _, err := q.Acquire(crit); err == nil {
				t.Fatal("a waiter got the slot that is held throughout")
			}
			return time.Since(start)
		}
		if d := waited(); d != 100*time.Millisecond { // t=0: healthy
			t.Fatalf("first waiter waited %v, want 100ms", d)
		}
		if s := q.Stats(); s.Queued != 0 || s.ShedQueueTimeout != 1 {
			t.Fatalf("after a waiter timed out: Stats = %+v, want 0 queued, 1 timed out", s)
		}
		time.Sleep(50 * time.Millisecond) // t=150ms: 50ms after the timeout
		if d := waited(); d != 5*time.Millisecond {
			t.Fatalf("50ms after a timeout a waiter waited %v, want 5ms: the queue is standing", d)
		}
		time.Sleep(200 * time.Millisecond) // t=355ms, 150ms after the last timeout
		if d := waited(); d != 100*time.Millisecond {
			t.Fatalf("150ms after the last timeout, with the queue empty, a waiter waited %v, want 100ms", d)
		}
	})
}
