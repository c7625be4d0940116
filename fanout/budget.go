package fanout

import (
	"context"
	"fmt"
	"sync/atomic"

	"golang.org/x/sync/semaphore"
)

// Budget is a concurrency limit shared by many Map, ForEach and Group
// calls: at most n fn calls run at once across all of them. Create one per
// downstream (per service or connection pool), not per request: a limit per
// request multiplies with the request rate, which is how a fan-out floods the
// service behind it.
//
// Every fn call runs under one unit of the Budget, and the ctx it receives
// says so. A call made with that ctx and the same Budget (a fan-out nested
// in an fn) does not wait for a second unit, which with every unit held by
// such fns would wait for ever: it runs on the unit of the fn that made it,
// and adds workers only with units it gets without waiting. The unit is lent
// to one nested call at a time; a second call made at the same time with the
// same ctx (from a goroutine fn started) waits for a unit of its own, so the
// Budget's bound holds exactly.
//
// A Budget is safe for concurrent use; use NewBudget (the zero Budget is not
// usable). Waiting for a unit honours the call's ctx.
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

// The helpers below are what every entry point of this package (Map,
// ForEach, Group, Stream) uses to take and give back units; keep their
// meaning stable.
//
// A call starts with enter(ctx), which returns the unit it runs on (its own
// or one lent by the fn whose ctx it was given), hands fn a ctx from mark
// (one mark per goroutine that holds a unit), may add goroutines only with
// tryAcquire'd units (released with release), and ends with unit.exit, by
// defer so that a runtime.Goexit in fn does not leak the unit.

// unitKey is the context key under which mark records that the ctx's
// holder runs on a unit of b.
type unitKey struct{ b *Budget }

// lease is one held unit, lendable to one nested call at a time.
type lease struct{ lent atomic.Bool }

// unit is the unit a call runs on: owned (lease nil, released by exit) or
// borrowed from the fn that made the call (handed back by exit). The zero
// unit (no Budget) is valid and exit does nothing.
type unit struct {
	b     *Budget
	lease *lease
}

// enter returns the unit a call made with ctx runs on: the unit ctx's
// holder runs on, if the call is nested in an fn of b and that unit is not
// lent to another call now; otherwise a unit acquired from b, waiting for one
// and returning context.Cause(ctx) if ctx is done first. A nil b returns the
// zero unit.
func (b *Budget) enter(ctx context.Context) (unit, error) {
	if b == nil {
		return unit{}, nil
	}
	if l := b.borrow(ctx); l != nil {
		return unit{b: b, lease: l}, nil
	}
	if err := b.acquire(ctx); err != nil {
		return unit{}, err
	}
	return unit{b: b}, nil
}

// exit gives back what enter returned.
func (u unit) exit() {
	switch {
	case u.lease != nil:
		u.lease.lent.Store(false)
	case u.b != nil:
		u.b.release()
	}
}

// borrow returns the lease of the unit ctx's holder runs on, marked lent,
// or nil if ctx holds no unit of b or its unit is lent already.
func (b *Budget) borrow(ctx context.Context) *lease {
	l, _ := ctx.Value(unitKey{b}).(*lease)
	if l != nil && l.lent.CompareAndSwap(false, true) {
		return l
	}
	return nil
}

// mark returns ctx marked as held by a goroutine running on a unit of b,
// for the fn calls that goroutine makes. With a nil b it returns ctx.
func (b *Budget) mark(ctx context.Context) context.Context {
	if b == nil {
		return ctx
	}
	return context.WithValue(ctx, unitKey{b}, new(lease))
}

// acquire waits for a unit, or returns context.Cause(ctx) once ctx is done.
func (b *Budget) acquire(ctx context.Context) error {
	b.waiting.Add(1)
	err := b.sem.Acquire(ctx, 1)
	b.waiting.Add(-1)
	if err != nil {
		return context.Cause(ctx)
	}
	b.took()
	return nil
}

// tryAcquire takes a unit if one is free now.
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

// release gives back a unit from acquire or tryAcquire.
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
