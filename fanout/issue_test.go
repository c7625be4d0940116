package fanout_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/breakeven-go/breakeven/fanout"
)

// Issue 20: TryGo and CollectErrors. Issue 24: tests that fail when a
// promise of the package doc breaks.

func TestTryGo(t *testing.T) {
	bubble(t, func(t *testing.T) {
		g, _ := fanout.NewGroup(t.Context(), fanout.Limit(2))
		release := make(chan struct{})
		var ran atomic.Int64
		block := func(context.Context) error { ran.Add(1); <-release; return nil }
		for i := range 2 {
			if !g.TryGo(block) {
				t.Fatalf("TryGo refused task %d with free slots", i)
			}
		}
		synctest.Wait()
		if g.TryGo(block) {
			t.Fatal("TryGo started a third task with Limit(2)")
		}
		close(release)
		synctest.Wait()
		errBoom := errors.New("boom")
		if !g.TryGo(func(context.Context) error { return errBoom }) {
			t.Fatal("TryGo refused a task once the slots were free again")
		}
		if err := g.Wait(); !errors.Is(err, errBoom) || ran.Load() != 2 {
			t.Fatalf("Wait = %v after %d tasks, want the TryGo task's error after 2", err, ran.Load())
		}
	})
	bubble(t, func(t *testing.T) {
		b := fanout.NewBudget(1)
		g, _ := fanout.NewGroup(t.Context(), fanout.Limit(4), fanout.WithBudget(b))
		release := make(chan struct{})
		if !g.TryGo(func(context.Context) error { <-release; return nil }) {
			t.Fatal("TryGo refused the budget's only free unit")
		}
		synctest.Wait()
		if g.TryGo(func(context.Context) error { return nil }) {
			t.Fatal("TryGo started a task with no budget unit free")
		}
		close(release)
		if err := g.Wait(); err != nil || b.Stats().InUse != 0 {
			t.Fatalf("Wait = %v, budget %+v", err, b.Stats())
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	g, _ := fanout.NewGroup(ctx)
	if g.TryGo(func(context.Context) error { t.Error("ran on a cancelled group"); return nil }) {
		t.Fatal("TryGo started a task on a cancelled group")
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("Wait = %v: a task TryGo refused is the caller's to report", err)
	}
}

func TestCollectErrors(t *testing.T) {
	fails := map[int]bool{2: true, 5: true, 7: true}
	for _, opts := range [][]fanout.Option{{fanout.Limit(1)}, nil, {fanout.Limit(4), fanout.Chunk(1)}, {fanout.Limit(3), fanout.Chunk(2)}} {
		bubble(t, func(t *testing.T) {
			var ran atomic.Int64
			got, err := fanout.Map(t.Context(), ints(10), func(_ context.Context, i int) (int, error) {
				ran.Add(1)
				time.Sleep(time.Duration(10-i) * time.Millisecond) // later items fail first
				if fails[i] {
					return -1, fmt.Errorf("item %d failed", i)
				}
				return i * 10, nil
			}, append(opts, fanout.CollectErrors())...)
			if ran.Load() != 10 {
				t.Fatalf("opts %v: %d of 10 items ran", opts, ran.Load())
			}
			if err == nil || err.Error() != "item 2 failed\nitem 5 failed\nitem 7 failed" {
				t.Fatalf("opts %v: err = %q, want every error in item order", opts, err)
			}
			for i, v := range got {
				want := i * 10
				if fails[i] {
					want = 0
				}
				if v != want {
					t.Fatalf("opts %v: result %d = %d, want %d", opts, i, v, want)
				}
			}
		})
	}
	if got, err := fanout.Map(context.Background(), ints(3), func(_ context.Context, i int) (int, error) { return i, nil }, fanout.CollectErrors()); err != nil || len(got) != 3 {
		t.Fatalf("no failures: %v, %v", got, err)
	}
	errA := errors.New("a")
	err := fanout.ForEach(context.Background(), ints(4), func(_ context.Context, i int) error {
		if i%2 == 1 {
			return fmt.Errorf("item %d: %w", i, errA)
		}
		return nil
	}, fanout.CollectErrors())
	if !errors.Is(err, errA) || strings.Count(err.Error(), "\n") != 1 {
		t.Fatalf("ForEach = %q", err)
	}
}

func TestCollectErrorsStillStopsOnCancelAndPanic(t *testing.T) {
	bubble(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(5*time.Millisecond+time.Microsecond, cancel)
		var ran atomic.Int64
		got, err := fanout.Map(ctx, ints(100), func(_ context.Context, i int) (int, error) {
			ran.Add(1)
			time.Sleep(time.Millisecond)
			if i == 0 {
				return 0, errors.New("item 0 failed")
			}
			return 1, nil
		}, fanout.Limit(2), fanout.CollectErrors())
		if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "item 0 failed\n") {
			t.Fatalf("err = %q, want item 0's error then the cancellation", err)
		}
		if n := ran.Load(); n >= 100 || len(got) != 100 {
			t.Fatalf("%d items ran after the cancel, %d results", n, len(got))
		}
	})
	defer func() {
		if pe, ok := recover().(*fanout.PanicError); !ok || pe.Value != "bug" {
			t.Fatalf("recovered %v, want the panic with CollectErrors", pe)
		}
	}()
	fanout.ForEach(context.Background(), ints(10), func(_ context.Context, i int) error {
		if i == 3 {
			panic("bug")
		}
		return errors.New("ordinary")
	}, fanout.CollectErrors())
	t.Fatal("ForEach returned after a panic")
}

// Issue 24: Map returns no results with its error, on every path.
func TestMapReturnsNilResultsOnError(t *testing.T) {
	for _, opts := range [][]fanout.Option{{fanout.Limit(1)}, nil, {fanout.Limit(4), fanout.Chunk(1)}, {fanout.Limit(64)}} {
		got, err := fanout.Map(context.Background(), ints(500), func(_ context.Context, i int) (int, error) {
			if i == 300 {
				return 7, errors.New("item 300 failed")
			}
			return i + 1, nil
		}, opts...)
		if err == nil || got != nil {
			t.Fatalf("opts %v: Map = %d results, %v; want nil results with the error", opts, len(got), err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got, err := fanout.Map(ctx, ints(5), func(_ context.Context, i int) (int, error) { return i, nil }); got != nil || err == nil {
		t.Fatalf("Map on a cancelled ctx = %v, %v; want nil, an error", got, err)
	}
}

// Issue 24: a panic cancels the items in flight and starts no new one.
func TestPanicCancelsOtherItems(t *testing.T) {
	bubble(t, func(t *testing.T) {
		var started atomic.Int64
		var sawCancel atomic.Bool
		running := make(chan struct{})
		func() {
			defer func() {
				if _, ok := recover().(*fanout.PanicError); !ok {
					t.Fatal("ForEach did not re-panic")
				}
			}()
			fanout.ForEach(t.Context(), ints(100), func(ctx context.Context, i int) error {
				started.Add(1)
				switch i {
				case 0:
					<-running
					panic("item 0")
				case 1:
					close(running)
					select {
					case <-ctx.Done(): // synctest reports a deadlock if never cancelled
						sawCancel.Store(true)
					case <-time.After(time.Hour):
					}
				}
				return nil
			}, fanout.Limit(2), fanout.Chunk(1))
		}()
		if !sawCancel.Load() {
			t.Fatal("the item in flight was not cancelled by the panic")
		}
		if n := started.Load(); n != 2 {
			t.Fatalf("%d items started; after the panic no new item may start", n)
		}
	})
}

// Issue 24: a job too small to pay for a goroutine runs on the caller's
// goroutine: a few items (all run while sampling), and many trivial ones
// (sampled, then estimated too cheap to fan out). Timing decides it, so one
// run in five may see the machine stall; a version that fans such jobs out
// fails all five.
func TestSmallJobsRunInline(t *testing.T) {
	for _, n := range []int{3, 200} {
		inline := false
		for attempt := 0; attempt < 5 && !inline; attempt++ {
			var onWorkers atomic.Int64
			before := runtime.NumGoroutine()
			err := fanout.ForEach(context.Background(), ints(n), func(context.Context, int) error {
				if runtime.NumGoroutine() > before { // cheap: timing the items must not slow them
					onWorkers.Add(1)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			inline = onWorkers.Load() == 0
			if !inline {
				t.Logf("%d items, attempt %d: %d items ran while fanout had started goroutines", n, attempt, onWorkers.Load())
			}
		}
		if !inline {
			t.Fatalf("%d trivial items were fanned out to worker goroutines in five attempts", n)
		}
	}
}

// With CollectErrors, a worker that calls runtime.Goexit still stops the
// call and is reported, after the items' own errors.
func TestCollectErrorsReportsGoexit(t *testing.T) {
	bubble(t, func(t *testing.T) {
		var err error
		returned := goexitSafe(func() {
			err = fanout.ForEach(t.Context(), ints(8), func(ctx context.Context, i int) error {
				time.Sleep(time.Millisecond) // let every worker take an item
				if onWorker() {
					runtime.Goexit()
				}
				return fmt.Errorf("item %d", i)
			}, fanout.Limit(4), fanout.Chunk(1), fanout.CollectErrors())
		})
		if returned && (!errors.Is(err, fanout.ErrGoexit) || !strings.HasSuffix(err.Error(), fanout.ErrGoexit.Error())) {
			t.Fatalf("ForEach = %v, want ErrGoexit last", err)
		}
	})
}
