package fanout_test

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breakeven-go/breakeven/fanout"
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
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))) // the two goroutines on two Ps
	const rounds = 3000
	b := fanout.NewBudget(1)
	var started, finished, sink atomic.Int64 // rounds the helper was told to start, and has finished
	var cancel context.CancelFunc
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
			for range r % 64 { // a delay that sweeps the window
				sink.Add(1)
			}
			cancel()
			finished.Store(r)
		}
	})
	skipped := 0
	for r := int64(1); r <= rounds; r++ {
		ctx, c := context.WithCancel(context.Background())
		cancel = c
		g, _ := fanout.NewGroup(ctx, fanout.WithBudget(b))
		started.Store(r) // publishes cancel to the helper
		g.Go(func(context.Context) error { return nil })
		for deadline := time.Now().Add(10 * time.Second); finished.Load() < r; { // cancel never blocks
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the helper goroutine did not finish its call within 10s", r)
			}
		}
		if g.Wait() != nil {
			skipped++
		}
		if s := b.Stats(); s.InUse != 0 {
			t.Fatalf("round %d: %d units still held after Wait: a cancelled Go kept its unit", r, s.InUse)
		}
	}
	t.Logf("%d of %d Go calls were not started (the group was cancelled first)", skipped, rounds)
}
