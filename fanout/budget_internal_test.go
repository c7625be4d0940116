package fanout

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// The budget helpers every entry point uses (budget.go): their contract,
// tested directly because Stream relies on it too.
func TestBudgetHelpers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBudget(1)
		if err := b.acquire(t.Context()); err != nil {
			t.Fatal(err)
		}
		if b.tryAcquire() {
			t.Fatal("tryAcquire took a second unit of a Budget of 1")
		}
		errCause := errors.New("deadline for the request")
		ctx, cancel := context.WithCancelCause(t.Context())
		time.AfterFunc(time.Second, func() { cancel(errCause) })
		if err := b.acquire(ctx); !errors.Is(err, errCause) {
			t.Fatalf("acquire on a full budget = %v, want the ctx's cause", err)
		}
		if _, err := b.enter(ctx); !errors.Is(err, errCause) {
			t.Fatalf("enter on a full budget, not nested = %v, want the ctx's cause", err)
		}

		// Nested: a ctx marked by the holder of the unit borrows it, once.
		held := b.mark(t.Context())
		u, err := b.enter(held)
		if err != nil || u.lease == nil || b.Stats().InUse != 1 {
			t.Fatalf("nested enter = %+v, %v; want the holder's unit, lent", u, err)
		}
		// A second nested call waits for the lent unit's return.
		got := make(chan unit)
		go func() {
			u2, err := b.enter(held)
			if err != nil {
				t.Error(err)
			}
			got <- u2
		}()
		synctest.Wait()
		if s := b.Stats(); s.Waiting != 1 {
			t.Fatalf("second nested call: stats %+v, want it waiting", s)
		}
		u.exit()
		u2 := <-got
		if u2.lease == nil {
			t.Fatal("second nested call did not get the lent unit on its return")
		}
		u2.exit()
		b.release()
		if s := b.Stats(); s.InUse != 0 || s.Peak != 1 || s.Waiting != 0 {
			t.Fatalf("stats after every unit went back: %+v", s)
		}

		// A free unit is taken before waiting for a lent one.
		b2 := NewBudget(2)
		held2 := b2.mark(t.Context())
		first, _ := b2.enter(held2)
		second, _ := b2.enter(held2)
		if first.lease == nil || second.lease != nil || b2.Stats().InUse != 1 {
			t.Fatalf("enter with the lease lent and a unit free: %+v %+v %+v", first, second, b2.Stats())
		}
		second.exit()
		first.exit()

		// No Budget: the zero unit, nothing to give back.
		var nb *Budget
		if u, err := nb.enter(t.Context()); err != nil || u != (unit{}) || nb.mark(t.Context()) != t.Context() {
			t.Fatal("a nil Budget's helpers are not no-ops")
		}
		unit{}.exit()
	})
}
