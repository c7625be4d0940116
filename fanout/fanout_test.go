package fanout_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/breakeven-go/breakeven/fanout"
)

func ints(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// maxTracker records the most calls in flight at once.
type maxTracker struct{ cur, max atomic.Int64 }

func (m *maxTracker) enter() {
	n := m.cur.Add(1)
	for p := m.max.Load(); n > p && !m.max.CompareAndSwap(p, n); p = m.max.Load() {
	}
}
func (m *maxTracker) exit() { m.cur.Add(-1) }

func TestMapReturnsResultsInOrder(t *testing.T) {
	for _, opts := range [][]fanout.Option{nil, {fanout.Limit(1)}, {fanout.Limit(7), fanout.Chunk(3)}, {fanout.Limit(64)}} {
		items := ints(5000)
		got, err := fanout.Map(context.Background(), items, func(_ context.Context, i int) (string, error) {
			if i%97 == 0 {
				runtime.Gosched() // vary the order in which items finish
			}
			return fmt.Sprint(i * 2), nil
		}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range got {
			if s != fmt.Sprint(i*2) {
				t.Fatalf("opts %v: result %d = %q, want %q", opts, i, s, fmt.Sprint(i*2))
			}
		}
	}
	if got, err := fanout.Map(context.Background(), nil, func(context.Context, int) (int, error) { return 0, nil }); err != nil || len(got) != 0 {
		t.Fatalf("Map over no items = %v, %v", got, err)
	}
}

// TestFirstErrorWinsAndCancels: the first failing item's error is returned,
// the others' ctx is cancelled, and no item starts after the failure.
func TestFirstErrorWinsAndCancels(t *testing.T) {
	bubble(t, func(t *testing.T) {
		errBoom := errors.New("boom")
		var startedAfterCancel, cancelled, started atomic.Int64
		_, err := fanout.Map(t.Context(), ints(1000), func(ctx context.Context, i int) (int, error) {
			if ctx.Err() != nil {
				startedAfterCancel.Add(1)
			}
			started.Add(1)
			if i == 20 {
				time.Sleep(5500 * time.Microsecond) // mid-way through the others
				return 0, errBoom
			}
			select {
			case <-time.After(time.Millisecond):
				return i, nil
			case <-ctx.Done():
				cancelled.Add(1)
				return 0, fmt.Errorf("item %d: %w", i, ctx.Err())
			}
		}, fanout.Limit(4), fanout.Chunk(1))
		if !errors.Is(err, errBoom) {
			t.Fatalf("Map error = %v, want the first error %v", err, errBoom)
		}
		if n := startedAfterCancel.Load(); n != 0 {
			t.Fatalf("%d items started after the group was cancelled", n)
		}
		if cancelled.Load() == 0 {
			t.Fatal("no item in flight saw its ctx cancelled")
		}
		// Item 20 fails after 5 ms; in that time 4 workers start at most
		// 4 items per ms.
		if n := started.Load(); n > 21+4*5+4 {
			t.Fatalf("%d items started; after the error no new item should start", n)
		}
	})
}

func TestLimitBoundsCallsAndGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	var inFlight maxTracker
	var maxGoroutines atomic.Int64
	err := fanout.ForEach(context.Background(), ints(3000), func(_ context.Context, i int) error {
		inFlight.enter()
		defer inFlight.exit()
		if n := int64(runtime.NumGoroutine()); n > maxGoroutines.Load() {
			maxGoroutines.Store(n) // racy max is fine: any sample above the bound fails
		}
		time.Sleep(10 * time.Microsecond)
		return nil
	}, fanout.Limit(8))
	if err != nil {
		t.Fatal(err)
	}
	if m := inFlight.max.Load(); m > 8 {
		t.Fatalf("%d calls ran at once with Limit(8)", m)
	}
	if extra := maxGoroutines.Load() - int64(before); extra > 8+2 {
		t.Fatalf("goroutines rose by %d with Limit(8), want at most 8 + 2", extra)
	}
}

// TestBudgetIsSharedAcrossCalls: two calls with Limit(8) sharing a budget of
// 4 never run more than 4 fn calls together.
func TestBudgetIsSharedAcrossCalls(t *testing.T) {
	bubble(t, func(t *testing.T) {
		b := fanout.NewBudget(4)
		var inFlight maxTracker
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				err := fanout.ForEach(t.Context(), ints(200), func(context.Context, int) error {
					inFlight.enter()
					defer inFlight.exit()
					time.Sleep(time.Millisecond)
					return nil
				}, fanout.Limit(8), fanout.WithBudget(b), fanout.Chunk(1))
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if m := inFlight.max.Load(); m > 4 || m < 2 {
			t.Fatalf("max in flight = %d with a shared budget of 4, want 2..4", m)
		}
		if s := b.Stats(); s.Peak > 4 || s.InUse != 0 || s.Waiting != 0 || s.Size != 4 {
			t.Fatalf("budget stats after the calls = %+v", s)
		}
	})
}

func TestBudgetWaitHonoursContext(t *testing.T) {
	bubble(t, func(t *testing.T) {
		b := fanout.NewBudget(1)
		release := make(chan struct{})
		go fanout.ForEach(t.Context(), ints(1), func(context.Context, int) error {
			<-release
			return nil
		}, fanout.WithBudget(b))
		synctest.Wait() // the first call holds the only unit
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		ran := false
		err := fanout.ForEach(ctx, ints(3), func(context.Context, int) error { ran = true; return nil }, fanout.WithBudget(b))
		if !errors.Is(err, context.DeadlineExceeded) || ran {
			t.Fatalf("ForEach waiting on a full budget: err = %v, ran = %v; want DeadlineExceeded, no call", err, ran)
		}
		close(release)
	})
}

func TestPanicReachesCallerWithValueAndStack(t *testing.T) {
	for _, opts := range [][]fanout.Option{{fanout.Limit(4), fanout.Chunk(1)}, {fanout.Limit(1)}, nil} {
		func() {
			defer func() {
				pe, ok := recover().(*fanout.PanicError)
				if !ok {
					t.Fatalf("opts %v: recovered %T, want *fanout.PanicError", opts, pe)
				}
				if pe.Value != "item 13 is cursed" {
					t.Fatalf("PanicError.Value = %v", pe.Value)
				}
				if !strings.Contains(string(pe.Stack), "cursedItem") {
					t.Fatalf("PanicError.Stack lacks the panicking function:\n%s", pe.Stack)
				}
			}()
			fanout.ForEach(context.Background(), ints(100), cursedItem, opts...)
			t.Fatalf("opts %v: ForEach returned after a panic", opts)
		}()
	}
}

func cursedItem(_ context.Context, i int) error {
	if i == 13 {
		panic("item 13 is cursed")
	}
	return nil
}

func TestPanicErrorUnwraps(t *testing.T) {
	errInner := errors.New("inner")
	pe := &fanout.PanicError{Value: errInner}
	if !errors.Is(pe, errInner) || !strings.HasPrefix(pe.Error(), "fanout: fn panicked: inner") {
		t.Fatalf("PanicError %q does not unwrap to its error value", pe.Error())
	}
}

func TestCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	if err := fanout.ForEach(ctx, ints(10), func(context.Context, int) error { called = true; return nil }); !errors.Is(err, context.Canceled) || called {
		t.Fatalf("ForEach on a cancelled ctx: err = %v, called = %v", err, called)
	}

	bubble(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		var ran atomic.Int64
		time.AfterFunc(10*time.Millisecond, cancel)
		res, err := fanout.Map(ctx, ints(1000), func(context.Context, int) (int, error) {
			ran.Add(1)
			time.Sleep(time.Millisecond)
			return 1, nil
		}, fanout.Limit(4))
		if !errors.Is(err, context.Canceled) || res != nil {
			t.Fatalf("Map cancelled midway = %v, %v; want nil, context.Canceled", res, err)
		}
		if n := ran.Load(); n >= 1000 || n < 4 {
			t.Fatalf("%d items ran before the cancel took effect", n)
		}
	})
}

func TestBadOptionsPanic(t *testing.T) {
	for name, f := range map[string]func(){
		"Limit(0)":        func() { fanout.Limit(0) },
		"Chunk(-1)":       func() { fanout.Chunk(-1) },
		"NewBudget(0)":    func() { fanout.NewBudget(0) },
		"WithBudget(nil)": func() { fanout.WithBudget(nil) },
	} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.HasPrefix(msg, "fanout: "+name) {
					t.Errorf("%s panicked with %q, want a fanout: %s message", name, msg, name)
				}
			}()
			f()
		}()
	}
}
