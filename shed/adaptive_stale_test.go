package shed_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/breakeven-go/breakeven/shed"
)

// TestAdaptiveLittlesLawProbesAfterTwoWindows: a window mean beyond
// 2 x Tolerance x peak in flight x the estimate is no queue of ours. One
// such window (a stall) changes nothing; two in a row drop the limit to a
// few requests for one window, whose mean becomes the estimate.
func TestAdaptiveLittlesLawProbesAfterTwoWindows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := shed.NewAdaptive(shed.Limits(10, 2, 100))
		learn(t, a, time.Millisecond) // a fast phase: 1ms
		// One at a time, 20ms: 20x the estimate with one in flight. A slow-
		// start window ends once half the limit (5) has answered.
		inTurn(t, a, 5, 20*time.Millisecond)
		if s := a.Stats(); s.Limit != 10 {
			t.Fatalf("after one window beyond Little's law: Stats = %+v, want the limit still 10 (it may be a stall)", s)
		}
		inTurn(t, a, 5, 20*time.Millisecond)
		if s := a.Stats(); s.Limit > 4 {
			t.Fatalf("after two windows in a row beyond Little's law: Stats = %+v, want the limit down to a few requests to re-measure", s)
		}
		inTurn(t, a, 10, 20*time.Millisecond)
		if s := a.Stats(); s.MinLatency != 20*time.Millisecond {
			t.Fatalf("after the re-measuring window: Stats = %+v, want the estimate 20ms", s)
		}
	})
}

// TestAdaptiveFlatLatencyWhileTheLimitHalvesIsReMeasured: the service gets
// slower for good (10 ms to 40 ms, whatever the concurrency) under a load
// that uses the whole limit, so the estimate cannot follow it up, and
// Little's law explains the latency. The limit shrinks, and the latency
// stays put while it halves: no queue of ours. The estimate is re-measured
// then, before the limit has fallen to its minimum.
func TestAdaptiveFlatLatencyWhileTheLimitHalvesIsReMeasured(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := shed.NewAdaptive(shed.Limits(16, 2, 100))
		start := time.Now()
		clients(t, a, 100, 10*time.Millisecond, start.Add(100*time.Millisecond)).Wait()
		if got := a.Stats().MinLatency; got != 10*time.Millisecond {
			t.Fatalf("no-load latency %v after 10ms requests, want 10ms", got)
		}
		slow := time.Now()
		wg := clients(t, a, 100, 40*time.Millisecond, slow.Add(2*time.Second))
		lowest, reMeasured := 1000, time.Duration(0)
		for time.Since(slow) < 2*time.Second {
			time.Sleep(time.Millisecond)
			s := a.Stats()
			if reMeasured == 0 {
				lowest = min(lowest, s.Limit)
				if s.MinLatency == 40*time.Millisecond {
					reMeasured = time.Since(slow)
				}
			}
		}
		wg.Wait()
		if reMeasured == 0 {
			t.Fatalf("2s of 40ms requests: the estimate is still %v", a.Stats().MinLatency)
		}
		if lowest <= 2 {
			t.Fatalf("the estimate was re-measured %v after the slowdown, but only once the limit had fallen to the minimum", reMeasured)
		}
	})
}

// TestAdaptiveStaleAtTheMinimumIsReMeasured: at its minimum the limit
// cannot halve; latency that stays put there for windows in a row is not a
// queue of ours either, and the estimate is re-measured.
func TestAdaptiveStaleAtTheMinimumIsReMeasured(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := shed.NewAdaptive(shed.Limits(2, 2, 2)) // held at its minimum
		start := time.Now()
		clients(t, a, 4, 10*time.Millisecond, start.Add(100*time.Millisecond)).Wait()
		if got := a.Stats().MinLatency; got != 10*time.Millisecond {
			t.Fatalf("no-load latency %v after 10ms requests, want 10ms", got)
		}
		slow := time.Now()
		clients(t, a, 4, 40*time.Millisecond, slow.Add(2*time.Second)).Wait()
		if s := a.Stats(); s.MinLatency != 40*time.Millisecond {
			t.Fatalf("2s of 40ms requests at the minimum limit: Stats = %+v, want the estimate re-measured to 40ms", s)
		}
	})
}

// TestAdaptiveOverloadOfOneSlotDoesNotRatchetTheEstimate: at four times
// the capacity of a one-slot service the latency is our own queue and
// follows the limit down; that is not a stale estimate, so the estimate
// is not re-measured under the queue (which would ratchet it up, Netflix
// concurrency-limits #165).
func TestAdaptiveOverloadOfOneSlotDoesNotRatchetTheEstimate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := shed.NewAdaptive(shed.Limits(1, 1, 1000)) // starting at 4 would queue on one slot at once
		simulate(a, 400, 10*time.Second, make(chan struct{}, 1))
		if s := a.Stats(); s.MinLatency > 15*time.Millisecond {
			t.Fatalf("after 10s at 4x the capacity of a one-slot 10ms service: Stats = %+v, want the estimate about 10ms", s)
		}
	})
}

// window runs one window of an Adaptive with a 100 ms Window by hand: k
// requests held for d from now; the first to complete ends the window
// (Success), the others are Cancelled, which the limiter ignores.
func window(t *testing.T, a *shed.Adaptive, k int, d time.Duration) {
	t.Helper()
	held := holdAll(t, a, k)
	time.Sleep(d)
	held[0].Release(shed.Success)
	for _, p := range held[1:] {
		p.Release(shed.Cancelled)
	}
}

// TestAdaptiveQueueThatShrinksWithTheLimitIsNotStale: latency over the
// tolerance shrinks the limit; once it has halved, the latency is judged
// on the lowest window since. A queue of ours shrinks with the limit, a
// round trip late (the first halved window still slow); a stall adds a
// spike to one window. Neither is a stale estimate: no re-measuring, the
// limit stays where the gradient put it.
func TestAdaptiveQueueThatShrinksWithTheLimitIsNotStale(t *testing.T) {
	for _, tc := range []struct {
		name   string
		halved [2]time.Duration // the two windows once the limit has halved
	}{
		{"our queue, a round trip late", [2]time.Duration{200 * time.Millisecond, 160 * time.Millisecond}},
		{"a stall", [2]time.Duration{160 * time.Millisecond, 200 * time.Millisecond}},
	} {
		synctest.Test(t, func(t *testing.T) {
			a := shed.NewAdaptive(shed.Limits(16, 2, 100))
			window(t, a, 8, 100*time.Millisecond) // no-load latency 100ms; slow start 16 -> 32
			held := holdAll(t, a, 2)
			time.Sleep(100 * time.Millisecond)
			held[0].Release(shed.Dropped) // a window of drops ends slow start: 32 -> 29
			held[1].Release(shed.Cancelled)
			for i := 0; a.Stats().Limit > 14; i++ { // twice the no-load latency: over the tolerance
				if i == 20 {
					t.Fatalf("the limit did not halve in 20 windows over the tolerance: Stats %+v", a.Stats())
				}
				window(t, a, a.Stats().Limit, 200*time.Millisecond)
			}
			for _, d := range tc.halved {
				window(t, a, a.Stats().Limit, d)
			}
			if s := a.Stats(); s.Limit <= 4 || s.MinLatency != 100*time.Millisecond {
				t.Fatalf("%s: Stats %+v, want no re-measuring (limit above a probe's 4, estimate still 100ms)", tc.name, s)
			}
		})
	}
}

// TestAdaptiveCapacityLossInOverloadIsNotStale: a backend of 32 slots x 10
// ms at twice its capacity loses 20 slots in the middle of the overload.
// The latency jumps (a queue of ours forms behind the 12 slots left) and
// falls back as the limit shrinks: that is our queue following the limit
// down, not a stale estimate, so the limit must not drop to a probe's few
// requests. Judged against the run's first slow window, whose mean was the
// overload's steady one, the drained queue looked like latency that stayed
// put, and the limit fell to the probe level once.
func TestAdaptiveCapacityLossInOverloadIsNotStale(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := shed.NewAdaptive()
		slots := make(chan struct{}, 32)
		lost, done := make(chan struct{}), make(chan struct{})
		go func() { // takes 20 slots 3s in, gives them back at the end
			time.Sleep(3 * time.Second)
			for range 20 {
				slots <- struct{}{}
			}
			close(lost)
			<-done
			for range 20 {
				<-slots
			}
		}()
		lowest := 1 << 30
		watched := make(chan struct{})
		go func() { // the lowest limit from the loss to the end, every ms
			defer close(watched)
			<-lost
			for {
				select {
				case <-done:
					return
				case <-time.After(time.Millisecond):
					lowest = min(lowest, a.Stats().Limit)
				}
			}
		}()
		simulate(a, 6400, 6*time.Second, slots)
		close(done)
		<-watched
		if lowest <= 4 {
			t.Fatalf("after the backend lost 20 of 32 slots under a 2x overload the limit fell to %d: the estimate was taken for stale and re-measured (Stats %+v)", lowest, a.Stats())
		}
		if s := a.Stats(); s.MinLatency > 15*time.Millisecond {
			t.Fatalf("no-load estimate %v after the overload, want about 10ms", s.MinLatency)
		}
	})
}
