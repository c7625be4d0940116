package fanout_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breakeven-go/breakeven/fanout"
)

// option builds an option from a fuzzed value: a value below 1 must panic
// at once with a "fanout: Name(" message (and gives no option), any other
// must be accepted.
func option(t *testing.T, name string, v int, make func(int) fanout.Option) (opt fanout.Option) {
	t.Helper()
	defer func() {
		r := recover()
		msg, _ := r.(string)
		switch {
		case v < 1 && !strings.HasPrefix(msg, fmt.Sprintf("fanout: %s(%d)", name, v)):
			t.Fatalf("%s(%d): panicked with %v, want a fanout: %s message", name, v, r, name)
		case v >= 1 && r != nil:
			t.Fatalf("%s(%d) panicked: %v", name, v, r)
		}
	}()
	return make(v)
}

// huge maps a fuzzed value to an option value: small values as they are
// (those below 1 must be refused), values below -1000 counted down from
// MaxInt, for absurdly large ones.
func huge(v int) int {
	if v < -1000 {
		return math.MaxInt + v + 1 // MinInt maps to 0
	}
	return v
}

var errFuzz = errors.New("fuzzed failure")

// FuzzOptions: for any limit, chunk, budget and item count, nested or not,
// with or without CollectErrors, an item failing or panicking: no panic but
// the item's own, no Budget unit lost, every item run exactly once or an
// error returned, and never an item run twice.
func FuzzOptions(f *testing.F) {
	f.Add(0, 0, 0, uint16(100), -1, -1, false, false)
	f.Add(1, 0, 1, uint16(10), 3, -1, false, false)
	f.Add(-1, -1, 2, uint16(500), -1, -1, true, false)
	f.Add(4, 1, 1, uint16(64), 10, 20, true, true)
	f.Add(100, 7, 3, uint16(999), 998, -1, false, true)
	f.Add(2, math.MaxInt, 1, uint16(5), -1, -1, false, false)
	f.Add(3, -2, -5, uint16(300), -1, 150, true, false)
	f.Add(-5000, -7000, 1, uint16(50), 2, -1, true, false)
	f.Fuzz(func(t *testing.T, limit, chunk, budget int, items uint16, failAt, panicAt int, nested, collect bool) {
		var opts []fanout.Option
		if limit != 0 {
			opts = append(opts, option(t, "Limit", huge(limit), fanout.Limit))
		}
		if chunk != 0 {
			opts = append(opts, option(t, "Chunk", huge(chunk), fanout.Chunk))
		}
		var b *fanout.Budget
		if budget != 0 {
			var nb func(int) fanout.Option = func(n int) fanout.Option { b = fanout.NewBudget(n); return fanout.WithBudget(b) }
			if budget > 1024 {
				budget = budget%1024 + 1 // any size above the items' count is as good
			}
			opts = append(opts, option(t, "NewBudget", huge(budget), nb))
		}
		if collect {
			opts = append(opts, fanout.CollectErrors())
		}
		n := int(items) % 1000
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()

		runs := make([]atomic.Int32, n)
		var panicking atomic.Bool
		fn := func(ctx context.Context, i int) (int, error) {
			runs[i].Add(1)
			if nested {
				if err := fanout.ForEach(ctx, []int{0, 1}, func(context.Context, int) error { return nil }, opts...); err != nil {
					return 0, err
				}
			}
			switch i {
			case panicAt:
				panicking.Store(true)
				panic("fuzz panic")
			case failAt:
				return 0, errFuzz
			}
			return i + 1, nil
		}
		var got []int
		var err error
		var recovered any
		func() {
			defer func() { recovered = recover() }()
			got, err = fanout.Map(ctx, ints(n), fn, opts...)
		}()

		if b != nil {
			if s := b.Stats(); s.InUse != 0 || s.Waiting != 0 || s.Peak > int64(s.Size) {
				t.Fatalf("budget after the call: %+v", s)
			}
		}
		for i := range runs {
			if r := runs[i].Load(); r > 1 {
				t.Fatalf("item %d ran %d times", i, r)
			}
		}
		if ctx.Err() != nil {
			t.Fatal("the call did not finish within a minute")
		}
		if recovered != nil {
			pe, ok := recovered.(*fanout.PanicError)
			if !ok || pe.Value != "fuzz panic" || panicAt < 0 || panicAt >= n {
				t.Fatalf("Map panicked with %v, not the item's *PanicError", recovered)
			}
			return
		}
		if panicking.Load() {
			t.Fatal("an item panicked and Map returned")
		}
		failed := failAt >= 0 && failAt < n && failAt != panicAt
		switch {
		case failed && !errors.Is(err, errFuzz):
			t.Fatalf("Map = %v, want the item's error", err)
		case !failed && panicAt >= 0 && panicAt < n:
			// The panicking item never panicked: only another failure stops it.
			t.Fatalf("Map = %v; the item that panics did not and nothing failed", err)
		case !failed && err != nil:
			t.Fatalf("Map = %v with no failing item", err)
		}
		if err != nil && !collect {
			if got != nil {
				t.Fatalf("Map returned %d results with its error", len(got))
			}
			return
		}
		for i := range runs {
			if runs[i].Load() != 1 {
				t.Fatalf("item %d of %d did not run, and Map = %d results, %v", i, n, len(got), err)
			}
			if want := i + 1; i != failAt && got[i] != want {
				t.Fatalf("result %d = %d, want %d", i, got[i], want)
			}
		}
	})
}
