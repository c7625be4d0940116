package fanout_test

import (
	"context"
	"testing"

	"github.com/breakeven-go/breakeven/fanout"
	"github.com/breakeven-go/breakeven/internal/lockstep"
)

// TestGroupCancelledGoGivesBackItsUnit (issue 24): a Go that took a Budget
// unit just as its group was cancelled does not start its task, and gives
// the unit back. Round after round a helper goroutine, spinning on the round
// number (no wake-up to stagger the two), cancels the group while this one
// calls Go, after a delay that sweeps across the rounds so that some
// cancellations land between the unit and the check that follows it. A Go
// that returned there without the unit's release leaves the Budget short of
// a unit for good, which the next round sees. Bounded rounds; nothing
// depends on the machine's speed.
func TestGroupCancelledGoGivesBackItsUnit(t *testing.T) {
	const rounds = 3000
	b := fanout.NewBudget(1)
	var cancel context.CancelFunc
	var g *fanout.Group
	skipped := 0
	lockstep.Rounds(t, rounds,
		func(int) {
			var ctx context.Context
			ctx, cancel = context.WithCancel(context.Background())
			g, _ = fanout.NewGroup(ctx, fanout.WithBudget(b))
		},
		func(r int) { lockstep.Sweep(r, 64); cancel() },
		func(int) { g.Go(func(context.Context) error { return nil }) },
		func(r int) {
			if g.Wait() != nil {
				skipped++
			}
			if s := b.Stats(); s.InUse != 0 {
				t.Fatalf("round %d: %d units still held after Wait: a cancelled Go kept its unit", r, s.InUse)
			}
		})
	t.Logf("%d of %d Go calls were not started (the group was cancelled first)", skipped, rounds)
}
