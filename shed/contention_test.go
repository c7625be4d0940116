package shed_test

import (
	"context"
	"testing"

	"github.com/breakeven-go/breakeven/internal/lockstep"
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
	const rounds = 1000
	q := shed.NewQueued(shed.NewInFlight(1), 4)
	ctx := shed.WithPriority(context.Background(), shed.Critical)
	held, err := q.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var p shed.Permit
	lockstep.Rounds(t, rounds, nil,
		func(r int) { lockstep.Sweep(r, 128); held.Release(shed.Success) },
		func(int) { p, err = q.Acquire(ctx) },
		func(r int) {
			if err != nil {
				t.Fatalf("round %d: Acquire failed while the only slot was being released: %v (lost wakeup)", r, err)
			}
			held = p // the next round's slot to release
		})
	held.Release(shed.Success)
	if s := q.Stats(); s.InFlight != 0 || s.Queued != 0 || s.ShedQueueTimeout != 0 {
		t.Fatalf("Stats = %+v", s)
	}
}
