package fanout

import (
	"context"
	"fmt"
	"sync/atomic"

	"golang.org/x/sync/semaphore"
)

// Budget is a concurrency limit shared by many Map and ForEach calls: at
// most n fn calls run at once across all of them. Create one per downstream
// (per service or connection pool), not per request: a limit per request
// multiplies with the request rate, which is how a fan-out floods the
// service behind it.
//
// A Budget is safe for concurrent use. Waiting for a unit honours the
// call's ctx.
type Budget struct {
	sem     *semaphore.Weighted
	size    int
	inUse   atomic.Int64
	waiting atomic.Int64
	peak    atomic.Int64
}

// NewBudget returns a Budget of n units; n must be at least 1.
func NewBudget(n int) *Budget {
	if n < 1 {
		panic(fmt.Sprintf("fanout: NewBudget(%d): must be at least 1", n))
	}
	return &Budget{sem: semaphore.NewWeighted(int64(n)), size: n}
}

func (b *Budget) acquire(ctx context.Context) error {
	b.waiting.Add(1)
	err := b.sem.Acquire(ctx, 1)
	b.waiting.Add(-1)
	if err != nil {
		return err
	}
	b.took()
	return nil
}

func (b *Budget) tryAcquire() bool {
	if !b.sem.TryAcquire(1) {
		return false
	}
	b.took()
	return true
}

func (b *Budget) took() {
	n := b.inUse.Add(1)
	for p := b.peak.Load(); n > p && !b.peak.CompareAndSwap(p, n); p = b.peak.Load() {
	}
}

func (b *Budget) release() {
	b.inUse.Add(-1)
	b.sem.Release(1)
}

// BudgetStats is a snapshot of a Budget.
type BudgetStats struct {
	Size    int   // units, as given to NewBudget
	InUse   int64 // units held now
	Waiting int64 // calls waiting for their first unit
	Peak    int64 // most units ever held at once
}

// Stats returns a snapshot of the budget's use.
func (b *Budget) Stats() BudgetStats {
	return BudgetStats{Size: b.size, InUse: b.inUse.Load(), Waiting: b.waiting.Load(), Peak: b.peak.Load()}
}
