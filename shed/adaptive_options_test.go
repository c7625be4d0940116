package shed_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/breakeven-go/breakeven/shed"
)

// TestAdaptiveOptionBoundsAreInclusive: Limits takes 1 <= min <= initial
// <= max and Tolerance at least 1, equal values included.
func TestAdaptiveOptionBoundsAreInclusive(t *testing.T) {
	for _, tc := range []struct{ initial, min, max int }{{2, 2, 10}, {10, 2, 10}, {1, 1, 1}} {
		if got := shed.NewAdaptive(shed.Limits(tc.initial, tc.min, tc.max)).Stats().Limit; got != tc.initial {
			t.Errorf("Limits(%d, %d, %d): limit %d, want %d", tc.initial, tc.min, tc.max, got, tc.initial)
		}
	}
	shed.NewAdaptive(shed.Tolerance(1)) // no queue tolerated at all: allowed
}

// TestAdaptiveDroppedWindowShrinks: a window (100ms by default) whose
// outcomes are all Dropped (our own timeouts) multiplies the limit by 0.9,
// once the window is over and not before.
func TestAdaptiveDroppedWindowShrinks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := shed.NewAdaptive(shed.Limits(10, 2, 100))
		var held []shed.Permit
		for range 10 {
			p, err := a.Acquire(shed.WithPriority(t.Context(), shed.Critical))
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, p)
		}
		time.Sleep(99 * time.Millisecond)
		held[0].Release(shed.Dropped)
		if got := a.Stats().Limit; got != 10 {
			t.Fatalf("a Dropped outcome 99ms into the first window moved the limit to %d, want 10 until the window ends", got)
		}
		time.Sleep(time.Millisecond)
		for _, p := range held[1:] {
			p.Release(shed.Dropped)
		}
		if got := a.Stats().Limit; got != 9 {
			t.Fatalf("after a window of 10 Dropped outcomes the limit is %d, want 9 (10 x 0.9)", got)
		}
	})
}

// TestAdaptiveDropShareIsMoreThanOneInTwenty: the limit shrinks on drops
// alone when more than one outcome in twenty of a window was Dropped;
// exactly one in twenty is noise.
func TestAdaptiveDropShareIsMoreThanOneInTwenty(t *testing.T) {
	for _, tc := range []struct {
		drops  int
		shrink bool
	}{{1, false}, {2, true}} {
		synctest.Test(t, func(t *testing.T) {
			a := shed.NewAdaptive(shed.Limits(21, 2, 100))
			var held []shed.Permit
			for range 21 {
				p, err := a.Acquire(shed.WithPriority(t.Context(), shed.Critical))
				if err != nil {
					t.Fatal(err)
				}
				held = append(held, p)
			}
			time.Sleep(99 * time.Millisecond)
			for i, p := range held[:20] {
				if i < tc.drops {
					p.Release(shed.Dropped)
				} else {
					p.Release(shed.Success)
				}
			}
			time.Sleep(time.Millisecond)
			held[20].Release(shed.Cancelled) // ends the window, adds no outcome
			if got := a.Stats().Limit; (got < 21) != tc.shrink {
				t.Fatalf("%d of 20 outcomes Dropped: limit 21 -> %d; want shrink %v", tc.drops, got, tc.shrink)
			}
		})
	}
}

// TestAdaptiveGrowsWhenHalfInUse: the limit grows in a window where at
// least half of it was in use (slow start: it doubles), and not in one
// where less was.
func TestAdaptiveGrowsWhenHalfInUse(t *testing.T) {
	for _, tc := range []struct{ inUse, want int }{{5, 20}, {4, 10}} {
		synctest.Test(t, func(t *testing.T) {
			a := shed.NewAdaptive(shed.Limits(10, 2, 100))
			var held []shed.Permit
			for range tc.inUse {
				p, err := a.Acquire(shed.WithPriority(t.Context(), shed.Critical))
				if err != nil {
					t.Fatal(err)
				}
				held = append(held, p)
			}
			time.Sleep(100 * time.Millisecond)
			for _, p := range held {
				p.Release(shed.Success)
			}
			if got := a.Stats().Limit; got != tc.want {
				t.Fatalf("a first window with %d of 10 in use: limit %d, want %d", tc.inUse, got, tc.want)
			}
		})
	}
}

// TestAdaptiveWindowNeedsACompletedRequest: a window ends only with at
// least one completed request; a Cancelled outcome (the client went away)
// neither ends it nor starts a new one.
func TestAdaptiveWindowNeedsACompletedRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := shed.NewAdaptive(shed.Limits(10, 2, 100))
		var held []shed.Permit
		for range 5 {
			p, err := a.Acquire(shed.WithPriority(t.Context(), shed.Critical))
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, p)
		}
		time.Sleep(100 * time.Millisecond)
		held[0].Release(shed.Cancelled) // the window is over, but nothing completed
		time.Sleep(50 * time.Millisecond)
		for _, p := range held[1:] {
			p.Release(shed.Success) // 150ms into the first window: it ends here
		}
		if s := a.Stats(); s.MinLatency != 150*time.Millisecond {
			t.Fatalf("Stats = %+v, want the first window ended by the requests that completed at 150ms (MinLatency 150ms)", s)
		}
	})
}
