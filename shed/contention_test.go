package shed_test

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breakeven-go/breakeven/shed"
)

// TestQueuedNoLostWakeupUnderContention (issue 24): TestQueuedNoLostWakeup
// with a real InFlight and real timing: a slot released while an Acquire is
// on its way into the queue is never lost. Round after round, a helper
// goroutine (spinning on the round number, so no wake-up staggers the two)
// releases the one slot of an InFlight(1) behind a Queued, after a delay
// that sweeps across the rounds, while this goroutine calls Acquire: the
// release lands before the Acquire, between its failed try and the queue
// lock, or while it waits, and every such Acquire succeeds. Without the
// second try under the queue lock, a release in between hands its slot to
// an empty queue and the Acquire waits out its queue timeout with a slot
// free, then fails. Bounded rounds; nothing depends on the machine's speed
// (a failing round costs one queue timeout).
func TestQueuedNoLostWakeupUnderContention(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))) // the two goroutines on two Ps
	const rounds = 1000
	q := shed.NewQueued(shed.NewInFlight(1), 4)
	ctx := shed.WithPriority(context.Background(), shed.Critical)
	held, err := q.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var started, finished, sink atomic.Int64 // rounds the helper was told to start, and has finished
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(stop)
	wg.Go(func() {
		for r := int64(1); r <= rounds; r++ {
			for started.Load() < r { // spin: a wake-up would stagger the two
				select {
				case <-stop:
					return
				default:
				}
			}
			for range r % 128 { // a delay that sweeps the window
				sink.Add(1)
			}
			held.Release(shed.Success)
			finished.Store(r)
		}
	})
	for r := int64(1); r <= rounds; r++ {
		started.Store(r) // publishes held to the helper
		p, err := q.Acquire(ctx)
		for deadline := time.Now().Add(10 * time.Second); finished.Load() < r; { // Release never blocks
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the helper goroutine did not finish its call within 10s", r)
			}
		}
		if err != nil {
			t.Fatalf("round %d: Acquire failed while the only slot was being released: %v (lost wakeup)", r, err)
		}
		held = p // the next round's slot to release
	}
	held.Release(shed.Success)
	if s := q.Stats(); s.InFlight != 0 || s.Queued != 0 || s.ShedQueueTimeout != 0 {
		t.Fatalf("Stats = %+v", s)
	}
}
