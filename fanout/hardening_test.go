package fanout_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/breakeven-go/breakeven/fanout"
)

// Tests for what a cancelled context, a panic, runtime.Goexit, an absurd
// option value or a nested fan-out does to each entry point (issue 16).

// onWorker reports whether the calling goroutine is one of the workers
// fanout (or the errgroup it once used) started, not the caller's
// goroutine, which runs items too.
func onWorker() bool {
	buf := make([]byte, 64<<10)
	buf = buf[:runtime.Stack(buf, false)]
	return bytes.Contains(buf, []byte("created by github.com/breakeven-go/breakeven/fanout.")) ||
		bytes.Contains(buf, []byte("created by golang.org/x/sync/errgroup."))
}

// goexitSafe runs f on a new goroutine and waits for it to end, whether
// it returns or calls runtime.Goexit; it reports whether f returned.
func goexitSafe(f func()) (returned bool) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
		returned = true
	}()
	<-done
	return returned
}

// Defect 1: a task skipped because the group's context was done is
// reported by Wait, and its Future returns an error, never (zero, nil).
func TestGroupSkippedTaskIsReported(t *testing.T) {
	t.Run("parent already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		g, _ := fanout.NewGroup(ctx)
		ran := false
		g.Go(func(context.Context) error { ran = true; return nil })
		f := fanout.Spawn(g, func(context.Context) (int, error) { ran = true; return 1, nil })
		if err := g.Wait(); !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait = %v, want context.Canceled for the skipped tasks", err)
		}
		if v, err := f.Get(); err == nil || !errors.Is(err, context.Canceled) || v != 0 {
			t.Fatalf("skipped future Get = %v, %v; want an error wrapping context.Canceled", v, err)
		}
		if ran {
			t.Fatal("a task ran on a cancelled group")
		}
	})
	t.Run("cancelled while Go waits for a slot", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			errCause := errors.New("shutting down")
			ctx, cancel := context.WithCancelCause(t.Context())
			g, _ := fanout.NewGroup(ctx, fanout.Limit(1))
			release := make(chan struct{})
			g.Go(func(context.Context) error { <-release; return nil })
			time.AfterFunc(time.Second, func() { cancel(errCause) })
			f := fanout.Spawn(g, func(context.Context) (string, error) { return "ran", nil }) // waits for the slot
			close(release)
			if err := g.Wait(); !errors.Is(err, errCause) {
				t.Fatalf("Wait = %v, want the cancel cause %v", err, errCause)
			}
			if v, err := f.Get(); !errors.Is(err, errCause) || v != "" {
				t.Fatalf("future skipped while waiting: Get = %q, %v", v, err)
			}
		})
	})
	t.Run("cancelled while Go waits for a budget unit", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			b := fanout.NewBudget(1)
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			release := make(chan struct{})
			go fanout.ForEach(t.Context(), []int{0}, func(context.Context, int) error { <-release; return nil }, fanout.WithBudget(b))
			synctest.Wait() // the only unit is taken
			g, _ := fanout.NewGroup(ctx, fanout.WithBudget(b))
			f := fanout.Spawn(g, func(context.Context) (int, error) { return 1, nil })
			if err := g.Wait(); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Wait = %v, want DeadlineExceeded", err)
			}
			if _, err := f.Get(); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Get = %v", err)
			}
			close(release)
		})
	})
}

// Defect 2: a Chunk near MaxInt runs every item and gives back the unit.
func TestChunkNearMaxIntRunsEveryItem(t *testing.T) {
	for _, chunk := range []int{math.MaxInt, math.MaxInt - 1, math.MaxInt / 2, math.MaxInt/2 + 1, 1 << 62} {
		b := fanout.NewBudget(1)
		got, err := fanout.Map(context.Background(), ints(100), func(_ context.Context, i int) (int, error) {
			return i + 1, nil
		}, fanout.Chunk(chunk), fanout.Limit(4), fanout.WithBudget(b))
		if err != nil {
			t.Fatalf("Chunk(%d): %v", chunk, err)
		}
		for i, v := range got {
			if v != i+1 {
				t.Fatalf("Chunk(%d): item %d not run (result %d)", chunk, i, v)
			}
		}
		if s := b.Stats(); s.InUse != 0 {
			t.Fatalf("Chunk(%d): %d budget units still held after the call", chunk, s.InUse)
		}
	}
}

// Defect 3: a panic wins over an error recorded before it.
func TestPanicWinsOverEarlierError(t *testing.T) {
	errFirst := errors.New("first error")
	bubble(t, func(t *testing.T) {
		started := make(chan struct{})
		defer func() {
			pe, ok := recover().(*fanout.PanicError)
			if !ok || pe.Value != "late panic" {
				t.Fatalf("recovered %v, want the *PanicError of the item that panicked after another failed", pe)
			}
		}()
		fanout.ForEach(t.Context(), []int{0, 1}, func(ctx context.Context, i int) error {
			if i == 0 {
				<-started
				return errFirst
			}
			close(started)
			<-ctx.Done() // cancelled by item 0's error
			panic("late panic")
		}, fanout.Limit(2), fanout.Chunk(1))
		t.Fatal("ForEach returned after an item panicked")
	})
}

func TestGroupPanicWinsOverEarlierError(t *testing.T) {
	bubble(t, func(t *testing.T) {
		g, _ := fanout.NewGroup(t.Context(), fanout.Limit(2))
		started := make(chan struct{})
		g.Go(func(ctx context.Context) error {
			close(started)
			<-ctx.Done()
			panic("late panic")
		})
		<-started
		g.Go(func(context.Context) error { return errors.New("first error") })
		defer func() {
			if pe, ok := recover().(*fanout.PanicError); !ok || pe.Value != "late panic" {
				t.Fatalf("recovered %v, want the late panic", pe)
			}
		}()
		g.Wait()
		t.Fatal("Wait returned after a task panicked")
	})
}

// Defect 3, second half: an error that wraps a *PanicError fn recovered
// itself is an error, not a panic.
func TestReturnedPanicErrorIsNotRepanicked(t *testing.T) {
	for _, opts := range [][]fanout.Option{nil, {fanout.Limit(1)}, {fanout.Limit(4), fanout.Chunk(1)}} {
		_, err := fanout.Map(context.Background(), ints(10), func(_ context.Context, i int) (int, error) {
			if i == 3 {
				return 0, fmt.Errorf("item 3: %w", &fanout.PanicError{Value: "handled"})
			}
			return i, nil
		}, opts...)
		if _, ok := errors.AsType[*fanout.PanicError](err); !ok {
			t.Fatalf("opts %v: Map = %v, want the returned error wrapping a *PanicError", opts, err)
		}
	}
	g, _ := fanout.NewGroup(context.Background())
	g.Go(func(context.Context) error { return fmt.Errorf("task: %w", &fanout.PanicError{Value: "handled"}) })
	if err := g.Wait(); err == nil {
		t.Fatal("Group.Wait lost the returned error")
	}
}

// Defect 4: runtime.Goexit in fn on the caller's goroutine gives the
// caller's Budget unit back.
func TestGoexitOnCallerReleasesBudget(t *testing.T) {
	// Limit(1) runs a plain loop on the caller's goroutine; with more than
	// one P the default Limit samples item 0 there.
	optsList := [][]fanout.Option{{fanout.Limit(1)}}
	if runtime.GOMAXPROCS(0) > 1 {
		optsList = append(optsList, nil)
	}
	for _, opts := range optsList {
		b := fanout.NewBudget(1)
		var cancelledOnExit atomic.Bool
		returned := goexitSafe(func() {
			fanout.ForEach(context.Background(), ints(10), func(ctx context.Context, i int) error {
				if i == 0 { // item 0 always runs on the caller's goroutine
					context.AfterFunc(ctx, func() { cancelledOnExit.Store(true) })
					runtime.Goexit()
				}
				return nil
			}, append(opts, fanout.WithBudget(b))...)
		})
		if returned {
			t.Fatalf("opts %v: ForEach returned after Goexit on the caller's goroutine", opts)
		}
		if s := b.Stats(); s.InUse != 0 {
			t.Fatalf("opts %v: budget unit leaked by Goexit: %+v", opts, s)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := fanout.ForEach(ctx, ints(1), func(context.Context, int) error { return nil }, fanout.WithBudget(b))
		cancel()
		if err != nil {
			t.Fatalf("opts %v: next call on the budget: %v", opts, err)
		}
	}
}

// Defect 5: Group.Go waits for a Limit slot before it takes a Budget unit.
func TestGroupGoTakesSlotBeforeUnit(t *testing.T) {
	bubble(t, func(t *testing.T) {
		b := fanout.NewBudget(2)
		g, _ := fanout.NewGroup(t.Context(), fanout.Limit(1), fanout.WithBudget(b))
		release := make(chan struct{})
		g.Go(func(context.Context) error { <-release; return nil })
		go g.Go(func(context.Context) error { return nil }) // waits for the slot
		synctest.Wait()
		if s := b.Stats(); s.InUse != 1 {
			t.Errorf("a Go waiting for a Limit slot holds a budget unit: %d in use, want 1", s.InUse)
		}
		close(release)
		synctest.Wait()
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
	})
}

// Defect 6: a task that calls runtime.Goexit is reported as ErrGoexit.
func TestGoexitIsReported(t *testing.T) {
	g, _ := fanout.NewGroup(context.Background())
	g.Go(func(context.Context) error { runtime.Goexit(); return nil })
	f := fanout.Spawn(g, func(context.Context) (int, error) { runtime.Goexit(); return 1, nil })
	if err := g.Wait(); !errors.Is(err, fanout.ErrGoexit) {
		t.Fatalf("Group.Wait = %v, want ErrGoexit", err)
	}
	if _, err := f.Get(); !errors.Is(err, fanout.ErrGoexit) {
		t.Fatalf("Future.Get = %v, want ErrGoexit", err)
	}

	// On a worker goroutine of Map, the items the worker would have run
	// are lost: Map must not report success.
	bubble(t, func(t *testing.T) {
		var err error
		returned := goexitSafe(func() {
			_, err = fanout.Map(t.Context(), ints(8), func(ctx context.Context, i int) (int, error) {
				time.Sleep(time.Millisecond) // let every worker take an item
				if onWorker() {
					runtime.Goexit()
				}
				return i, nil
			}, fanout.Limit(4), fanout.Chunk(1))
		})
		if returned && !errors.Is(err, fanout.ErrGoexit) {
			t.Fatalf("Map with a worker that called Goexit = %v, want ErrGoexit", err)
		}
	})
}

// Defect 7: nested fan-out on one Budget does not deadlock, and the
// Budget's bound still holds.
func TestNestedBudgetDoesNotDeadlock(t *testing.T) {
	for _, size := range []int{1, 2, 3} {
		bubble(t, func(t *testing.T) {
			b := fanout.NewBudget(size)
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			var leaves maxTracker
			leaf := func(ctx context.Context, i int) (int, error) {
				leaves.enter()
				defer leaves.exit()
				time.Sleep(time.Millisecond)
				return i, nil
			}
			got, err := fanout.Map(ctx, ints(6), func(ctx context.Context, i int) (int, error) {
				inner, err := fanout.Map(ctx, ints(4), leaf, fanout.WithBudget(b), fanout.Limit(4))
				if err != nil {
					return 0, err
				}
				g, gctx := fanout.NewGroup(ctx, fanout.WithBudget(b), fanout.Limit(4))
				sums := make([]int, 3)
				for k := range sums {
					g.Go(func(ctx context.Context) error {
						v, err := leaf(ctx, k)
						sums[k] = v
						return err
					})
				}
				_ = gctx
				if err := g.Wait(); err != nil {
					return 0, err
				}
				return len(inner) + sums[2], nil
			}, fanout.WithBudget(b), fanout.Limit(8), fanout.Chunk(1))
			if err != nil {
				t.Fatalf("NewBudget(%d): nested fan-out: %v", size, err)
			}
			for i, v := range got {
				if v != 6 {
					t.Fatalf("NewBudget(%d): result %d = %d", size, i, v)
				}
			}
			if m := leaves.max.Load(); m > int64(size) {
				t.Fatalf("NewBudget(%d): %d leaf calls at once", size, m)
			}
			if s := b.Stats(); s.Peak > int64(size) || s.InUse != 0 {
				t.Fatalf("NewBudget(%d): stats %+v", size, s)
			}
		})
	}
}

// A nested call lends the fn's unit to one call at a time: two calls made
// at once with the same ctx do not both run on it.
func TestBorrowedUnitIsLentToOneCallAtATime(t *testing.T) {
	bubble(t, func(t *testing.T) {
		b := fanout.NewBudget(2)
		var leaves maxTracker
		err := fanout.ForEach(t.Context(), ints(2), func(ctx context.Context, _ int) error {
			var wg sync.WaitGroup
			for range 3 {
				wg.Go(func() {
					fanout.ForEach(ctx, ints(2), func(context.Context, int) error {
						leaves.enter()
						defer leaves.exit()
						time.Sleep(time.Millisecond)
						return nil
					}, fanout.WithBudget(b))
				})
			}
			wg.Wait()
			return nil
		}, fanout.WithBudget(b), fanout.Limit(1))
		if err != nil {
			t.Fatal(err)
		}
		if m := leaves.max.Load(); m > 2 {
			t.Fatalf("%d calls ran at once on a budget of 2", m)
		}
	})
}

// Absurd values and misuse get a package-prefixed panic at the call, or
// work; never a runtime panic deep inside.
func TestAbsurdValuesAndMisuse(t *testing.T) {
	t.Run("Limit(MaxInt)", func(t *testing.T) {
		got, err := fanout.Map(context.Background(), ints(50), func(_ context.Context, i int) (int, error) { return i, nil }, fanout.Limit(math.MaxInt))
		if err != nil || len(got) != 50 || got[49] != 49 {
			t.Fatalf("Map = %v, %v", got, err)
		}
		g, _ := fanout.NewGroup(context.Background(), fanout.Limit(math.MaxInt))
		g.Go(func(context.Context) error { return nil })
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("NewBudget(MaxInt)", func(t *testing.T) {
		b := fanout.NewBudget(math.MaxInt)
		if err := fanout.ForEach(context.Background(), ints(10), func(context.Context, int) error { return nil }, fanout.WithBudget(b), fanout.Limit(3)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("nil Option is ignored", func(t *testing.T) {
		var opt fanout.Option
		if err := fanout.ForEach(context.Background(), ints(3), func(context.Context, int) error { return nil }, opt); err != nil {
			t.Fatal(err)
		}
	})
	for name, f := range map[string]func(){
		"Map with a nil":              func() { fanout.Map[int, int](context.Background(), ints(3), nil) },
		"ForEach with a nil":          func() { fanout.ForEach(nilContext(), ints(3), func(context.Context, int) error { return nil }) },
		"Group used without":          func() { new(fanout.Group).Go(func(context.Context) error { return nil }) },
		"Group used without NewGroup": func() { new(fanout.Group).Wait() },
		"Group used": func() { // a nil *Group
			var g *fanout.Group
			fanout.Spawn(g, func(context.Context) (int, error) { return 0, nil })
		},
		"WithBudget(&Budget{})":    func() { fanout.WithBudget(new(fanout.Budget)) },
		"Future not made by Spawn": func() { new(fanout.Future[int]).Get() },
		"Group.Go(nil)": func() {
			g, _ := fanout.NewGroup(context.Background())
			g.Go(nil)
		},
		"Spawn(nil)": func() {
			g, _ := fanout.NewGroup(context.Background())
			fanout.Spawn[int](g, nil)
		},
		"NewGroup(CollectErrors": func() { fanout.NewGroup(context.Background(), fanout.CollectErrors()) },
	} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.HasPrefix(msg, "fanout: "+name) {
					t.Errorf("%s: panicked with %q, want a message starting %q", name, msg, "fanout: "+name)
				}
			}()
			f()
		}()
	}
}

// A cancel cause reaches the caller, and the first error is the cause of
// the items' ctx.
func TestCancelCauses(t *testing.T) {
	errCause := errors.New("client went away")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errCause)
	if err := fanout.ForEach(ctx, ints(3), func(context.Context, int) error { return nil }); !errors.Is(err, errCause) {
		t.Fatalf("ForEach on a ctx cancelled with a cause = %v, want the cause", err)
	}
	bubble(t, func(t *testing.T) {
		errBoom := errors.New("boom")
		var seen atomic.Value
		started := make(chan struct{})
		fanout.ForEach(context.Background(), ints(2), func(ctx context.Context, i int) error {
			if i == 0 {
				<-started
				return errBoom
			}
			close(started)
			<-ctx.Done()
			seen.Store(context.Cause(ctx))
			return nil
		}, fanout.Limit(2), fanout.Chunk(1))
		if c, _ := seen.Load().(error); !errors.Is(c, errBoom) {
			t.Fatalf("cause seen by the other item = %v, want %v", c, errBoom)
		}
	})
}

// Cancelling the parent while a Group task runs a nested Map never loses
// the unit.
func TestCancelDuringNestedCallsKeepsBudgetWhole(t *testing.T) {
	bubble(t, func(t *testing.T) {
		b := fanout.NewBudget(2)
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(5*time.Millisecond, cancel)
		err := fanout.ForEach(ctx, ints(20), func(ctx context.Context, _ int) error {
			return fanout.ForEach(ctx, ints(5), func(ctx context.Context, _ int) error {
				select {
				case <-time.After(time.Millisecond):
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}, fanout.WithBudget(b), fanout.Limit(2))
		}, fanout.WithBudget(b), fanout.Limit(2), fanout.Chunk(1))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("ForEach = %v, want context.Canceled", err)
		}
		if s := b.Stats(); s.InUse != 0 || s.Peak > 2 {
			t.Fatalf("budget after a cancelled nested fan-out: %+v", s)
		}
	})
}

// Found while hunting: calls nested under an fn of a Budget, but through a
// fan-out without it (a Group or a Map with no Budget in between), run in
// parallel; only one can borrow the fn's unit, and the others must wait for
// it as well as for a free unit, or with NewBudget(1) they wait for ever.
func TestNestedBudgetThroughUnbudgetedFanOut(t *testing.T) {
	bubble(t, func(t *testing.T) {
		b := fanout.NewBudget(1)
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		var leaves maxTracker
		leaf := func(context.Context, int) error {
			leaves.enter()
			defer leaves.exit()
			time.Sleep(time.Millisecond)
			return nil
		}
		err := fanout.ForEach(ctx, ints(2), func(ctx context.Context, _ int) error {
			// No Budget here: both items inherit the outer fn's unit.
			if err := fanout.ForEach(ctx, ints(3), func(ctx context.Context, _ int) error {
				return fanout.ForEach(ctx, ints(2), leaf, fanout.WithBudget(b))
			}, fanout.Limit(3), fanout.Chunk(1)); err != nil {
				return err
			}
			g, _ := fanout.NewGroup(ctx, fanout.Limit(3))
			for range 3 {
				g.Go(func(ctx context.Context) error {
					return fanout.ForEach(ctx, ints(2), leaf, fanout.WithBudget(b))
				})
			}
			return g.Wait()
		}, fanout.WithBudget(b), fanout.Limit(2))
		if err != nil {
			t.Fatalf("nested fan-out through an unbudgeted one: %v", err)
		}
		if m := leaves.max.Load(); m != 1 {
			t.Fatalf("%d leaf calls at once on NewBudget(1)", m)
		}
		if s := b.Stats(); s.InUse != 0 || s.Peak != 1 || s.Waiting != 0 {
			t.Fatalf("budget stats %+v", s)
		}
	})
}

// A ctx cancelled once every item has run (here by the last item to
// finish) does not turn a complete call into a failure.
func TestCancelAfterLastItemIsSuccess(t *testing.T) {
	for _, opts := range [][]fanout.Option{{fanout.Limit(1)}, nil, {fanout.Limit(2), fanout.Chunk(5)}} {
		ctx, cancel := context.WithCancel(context.Background())
		var finished atomic.Int64
		got, err := fanout.Map(ctx, ints(10), func(_ context.Context, i int) (int, error) {
			if finished.Add(1) == 10 {
				cancel()
			}
			return i, nil
		}, opts...)
		cancel()
		if err != nil || len(got) != 10 || got[9] != 9 {
			t.Fatalf("opts %v: Map = %v, %v; every item ran, want the results", opts, got, err)
		}
	}
}

// nilContext returns a nil context.Context, for the tests that check a nil
// ctx is refused at the call (vet and staticcheck rightly flag a literal nil).
func nilContext() context.Context { return nil }
