package fanout

import (
	"context"
	"fmt"
	"sync/atomic"
)

// Budget is a concurrency limit shared by many Map, ForEach and Group
// calls: at most n fn calls run at once across all of them. Create one per
// downstream (per service or connection pool), not per request: a limit per
// request multiplies with the request rate, which is how a fan-out floods the
// service behind it.
//
// Every fn call runs under one unit of the Budget, and the ctx it receives
// says so. A fan-out nested in an fn (a call made with that ctx, or with a
// ctx derived from it, naming the same Budget) does not wait for a second
// unit, which with every unit held by such fns would wait for ever: it runs
// on the unit of the fn it is nested in, and adds workers only with units it
// gets without waiting. That unit is lent to one nested call at a time; a
// second nested call made at the same time (from a goroutine fn started, or
// from the items of a fan-out without this Budget) waits for whichever comes
// first, a unit of its own or the lent unit's return, so the Budget's bound
// holds exactly and nesting never deadlocks on it. Lending assumes that
// the fn waits while its unit is lent, as it does when it makes the nested
// call itself; an fn that goes on using the downstream while a goroutine it
// started fans out with its ctx can have two calls on one unit.
//
// A Budget is safe for concurrent use; use NewBudget (the zero Budget is not
// usable). Waiting for a unit honours the call's ctx, and waiters are served
// in arrival order.
type Budget struct {
	units   chan struct{} // one element per unit held; a channel so that a wait can also watch a lease
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
	return &Budget{units: make(chan struct{}, n), size: n}
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

// lease is one held unit, lendable to one nested call at a time: free
// holds a token while no call borrows it.
type lease struct{ free chan struct{} }

// tryBorrow borrows l if no other call does; a nil l cannot be borrowed.
func (l *lease) tryBorrow() bool {
	if l == nil {
		return false
	}
	select {
	case <-l.free:
		return true
	default:
		return false
	}
}

// returned is ready when l can be borrowed (never for a nil l).
func (l *lease) returned() <-chan struct{} {
	if l == nil {
		return nil
	}
	return l.free
}

// unit is the unit a call runs on: owned (lease nil, released by exit) or
// borrowed from the fn that made the call (handed back by exit). The zero
// unit (no Budget) is valid and exit does nothing.
type unit struct {
	b     *Budget
	lease *lease
}

// enter returns the unit a call made with ctx runs on: the unit of the fn
// ctx comes from, if the call is nested in an fn of b and no other call
// borrows that unit now; else a unit of b free now; else whichever comes
// first of the two, waiting and returning context.Cause(ctx) if ctx is done
// first. A nil b returns the zero unit.
func (b *Budget) enter(ctx context.Context) (unit, error) {
	if b == nil {
		return unit{}, nil
	}
	l, _ := ctx.Value(unitKey{b}).(*lease)
	if l.tryBorrow() {
		return unit{b: b, lease: l}, nil
	}
	if b.tryAcquire() {
		return unit{b: b}, nil
	}
	b.waiting.Add(1)
	defer b.waiting.Add(-1)
	select {
	case b.units <- struct{}{}:
		b.took()
		return unit{b: b}, nil
	case <-l.returned():
		return unit{b: b, lease: l}, nil
	case <-ctx.Done():
		return unit{}, context.Cause(ctx)
	}
}

// exit gives back what enter returned.
func (u unit) exit() {
	switch {
	case u.lease != nil:
		u.lease.free <- struct{}{}
	case u.b != nil:
		u.b.release()
	}
}

// mark returns ctx marked as held by a goroutine running on a unit of b,
// for the fn calls that goroutine makes. With a nil b it returns ctx.
func (b *Budget) mark(ctx context.Context) context.Context {
	if b == nil {
		return ctx
	}
	l := &lease{free: make(chan struct{}, 1)}
	l.free <- struct{}{}
	return context.WithValue(ctx, unitKey{b}, l)
}

// acquire waits for a unit of its own (never a lent one), or returns
// context.Cause(ctx) once ctx is done.
func (b *Budget) acquire(ctx context.Context) error {
	if b.tryAcquire() {
		return nil
	}
	b.waiting.Add(1)
	defer b.waiting.Add(-1)
	select {
	case b.units <- struct{}{}:
		b.took()
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// tryAcquire takes a unit if one is free now.
func (b *Budget) tryAcquire() bool {
	select {
	case b.units <- struct{}{}:
		b.took()
		return true
	default:
		return false
	}
}

func (b *Budget) took() {
	n := b.inUse.Add(1)
	for p := b.peak.Load(); n > p && !b.peak.CompareAndSwap(p, n); p = b.peak.Load() {
	}
}

// release gives back a unit from acquire or tryAcquire.
func (b *Budget) release() {
	b.inUse.Add(-1)
	<-b.units
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
