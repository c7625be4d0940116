package fanout_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breakeven-go/breakeven/fanout"
)

// Stream under a Budget: nesting, units given back on every way out,
// cancel causes, and what a consumer that stops or panics leaves behind.

// checkBudget fails if b has a unit held or a caller waiting, or ever had
// more than size units out.
func checkBudget(t *testing.T, b *fanout.Budget, size int) {
	t.Helper()
	if s := b.Stats(); s.InUse != 0 || s.Waiting != 0 || s.Peak > int64(size) {
		t.Fatalf("budget of %d after the call: %+v", size, s)
	}
}

// sumStream ranges over a Stream of 0..n-1 through fn and returns the sum
// of the results, or the first error.
func sumStream(ctx context.Context, n int, fn func(context.Context, int) (int, error), opts ...fanout.Option) (int, error) {
	sum := 0
	for r, err := range fanout.Stream(ctx, slices.Values(ints(n)), fn, opts...) {
		if err != nil {
			return 0, err
		}
		sum += r
	}
	return sum, nil
}

// TestStreamNestedBudgetDoesNotDeadlock: a Stream made with the ctx of an
// fn that holds a unit of the same Budget runs on that unit rather than
// wait for another (with NewBudget(1) there is none), and an fn that Stream
// calls lends its unit to a fan-out nested in it. A deadlock fails the test
// (synctest), and the Budget's bound holds throughout.
func TestStreamNestedBudgetDoesNotDeadlock(t *testing.T) {
	shapes := []struct {
		name string
		// run nests leaf calls two deep under b and returns the sum of
		// what the outer level got, which is 4 * (0+1+2) = 12.
		run func(ctx context.Context, b *fanout.Budget, leaf func(context.Context, int) (int, error)) (int, error)
	}{
		{"Stream in Map", func(ctx context.Context, b *fanout.Budget, leaf func(context.Context, int) (int, error)) (int, error) {
			got, err := fanout.Map(ctx, ints(4), func(ctx context.Context, _ int) (int, error) {
				return sumStream(ctx, 3, leaf, fanout.WithBudget(b), fanout.Limit(4))
			}, fanout.WithBudget(b), fanout.Limit(4), fanout.Chunk(1))
			return sumInts(got), err
		}},
		{"Stream(Limit(1)) in Map", func(ctx context.Context, b *fanout.Budget, leaf func(context.Context, int) (int, error)) (int, error) {
			got, err := fanout.Map(ctx, ints(4), func(ctx context.Context, _ int) (int, error) {
				return sumStream(ctx, 3, leaf, fanout.WithBudget(b), fanout.Limit(1))
			}, fanout.WithBudget(b), fanout.Limit(4), fanout.Chunk(1))
			return sumInts(got), err
		}},
		{"Stream in Stream", func(ctx context.Context, b *fanout.Budget, leaf func(context.Context, int) (int, error)) (int, error) {
			return sumStream(ctx, 4, func(ctx context.Context, _ int) (int, error) {
				return sumStream(ctx, 3, leaf, fanout.WithBudget(b), fanout.Limit(3), fanout.Unordered())
			}, fanout.WithBudget(b), fanout.Limit(4))
		}},
		{"Map in Stream", func(ctx context.Context, b *fanout.Budget, leaf func(context.Context, int) (int, error)) (int, error) {
			return sumStream(ctx, 4, func(ctx context.Context, _ int) (int, error) {
				got, err := fanout.Map(ctx, ints(3), leaf, fanout.WithBudget(b), fanout.Limit(3))
				return sumInts(got), err
			}, fanout.WithBudget(b), fanout.Limit(4), fanout.Chunk(1))
		}},
		{"Group in Stream(Limit(1))", func(ctx context.Context, b *fanout.Budget, leaf func(context.Context, int) (int, error)) (int, error) {
			return sumStream(ctx, 4, func(ctx context.Context, _ int) (int, error) {
				g, _ := fanout.NewGroup(ctx, fanout.WithBudget(b), fanout.Limit(3))
				fs := make([]*fanout.Future[int], 3)
				for k := range fs {
					fs[k] = fanout.Spawn(g, func(ctx context.Context) (int, error) { return leaf(ctx, k) })
				}
				if err := g.Wait(); err != nil {
					return 0, err
				}
				sum := 0
				for _, f := range fs {
					v, _ := f.Get()
					sum += v
				}
				return sum, nil
			}, fanout.WithBudget(b), fanout.Limit(1))
		}},
	}
	for _, sh := range shapes {
		for _, size := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/NewBudget(%d)", sh.name, size), func(t *testing.T) {
				bubble(t, func(t *testing.T) {
					b := fanout.NewBudget(size)
					var leaves maxTracker
					leaf := func(ctx context.Context, i int) (int, error) {
						leaves.enter()
						defer leaves.exit()
						time.Sleep(time.Millisecond)
						return i, ctx.Err()
					}
					got, err := sh.run(t.Context(), b, leaf)
					if err != nil || got != 12 {
						t.Fatalf("nested under NewBudget(%d): %d, %v; want 12, nil", size, got, err)
					}
					if m := leaves.max.Load(); m > int64(size) {
						t.Fatalf("%d leaf calls at once on NewBudget(%d)", m, size)
					}
					checkBudget(t, b, size)
				})
			})
		}
	}
}

func sumInts(s []int) int {
	sum := 0
	for _, v := range s {
		sum += v
	}
	return sum
}

// TestStreamNestedFailuresGiveUnitsBack: a panic or a runtime.Goexit in a
// Stream nested under NewBudget(1) ends it, with the unit it ran on given
// back (else the outer call, or the next, would wait for ever), and Goexit
// on a worker is reported as fanout.ErrGoexit, as Map does.
func TestStreamNestedFailuresGiveUnitsBack(t *testing.T) {
	for _, m := range streamModes {
		t.Run(m.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				b := fanout.NewBudget(1)
				opts := append(slices.Clone(m.opts), fanout.WithBudget(b))
				nested := func(inner func(context.Context, int) (int, error)) (int, error) {
					return sumStream(t.Context(), 2, func(ctx context.Context, _ int) (int, error) {
						return sumStream(ctx, 50, inner, opts...)
					}, fanout.WithBudget(b), fanout.Limit(2))
				}
				pe := catchPanic(t, func() {
					nested(func(_ context.Context, i int) (int, error) {
						if i == 7 {
							panic("inner")
						}
						return i, nil
					})
				})
				if inner, ok := pe.Value.(*fanout.PanicError); !ok || inner.Value != "inner" {
					t.Fatalf("outer PanicError holds %#v, want the inner *PanicError", pe.Value)
				}
				checkBudget(t, b, 1)

				if m.name != "limit1" { // with Limit(1) fn runs on the consumer's goroutine: Goexit ends it
					_, err := nested(func(_ context.Context, i int) (int, error) {
						if i == 7 {
							runtime.Goexit()
						}
						return i, nil
					})
					if !errors.Is(err, fanout.ErrGoexit) {
						t.Fatalf("inner Goexit on a worker: %v, want fanout.ErrGoexit", err)
					}
					checkBudget(t, b, 1)
				}

				if got, err := nested(func(_ context.Context, i int) (int, error) { return i, nil }); err != nil || got != 2*49*50/2 {
					t.Fatalf("next nested stream on the budget: %d, %v", got, err)
				}
				checkBudget(t, b, 1)
			})
		})
	}
}

// TestStreamGoexitOnConsumerGivesUnitBack: with Limit(1) fn runs on the
// consumer's goroutine; a Goexit there ends that goroutine, as in a plain
// loop, and the unit goes back.
func TestStreamGoexitOnConsumerGivesUnitBack(t *testing.T) {
	b := fanout.NewBudget(1)
	returned := goexitSafe(func() {
		sumStream(context.Background(), 10, func(_ context.Context, i int) (int, error) {
			if i == 3 {
				runtime.Goexit()
			}
			return i, nil
		}, fanout.Limit(1), fanout.WithBudget(b))
	})
	if returned {
		t.Fatal("Stream returned after Goexit on the consumer's goroutine")
	}
	checkBudget(t, b, 1)
}

// TestStreamCancelCauses: fn's failure is the cause the other calls see on
// their ctx, and a ctx cancelled with a cause ends the stream with that
// cause, before the range or during it.
func TestStreamCancelCauses(t *testing.T) {
	errClient := errors.New("client went away")
	for _, m := range streamModes {
		t.Run(m.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				ctx, cancel := context.WithCancelCause(t.Context())
				defer cancel(nil)
				var last error
				n := 0
				for _, err := range fanout.Stream(ctx, (&countingSeq{n: 10_000}).seq, func(ctx context.Context, i int) (int, error) {
					select {
					case <-time.After(time.Millisecond):
						return i, nil
					case <-ctx.Done():
						return 0, ctx.Err()
					}
				}, m.opts...) {
					if n++; n == 50 {
						cancel(errClient)
					}
					last = err
				}
				if last != errClient {
					t.Fatalf("cancelled with a cause: stream ended with %v, want the cause", last)
				}
				var got []error
				for _, err := range fanout.Stream(ctx, (&countingSeq{n: 3}).seq, func(ctx context.Context, i int) (int, error) { return i, nil }, m.opts...) {
					got = append(got, err)
				}
				if len(got) != 1 || got[0] != errClient {
					t.Fatalf("ctx cancelled before the range: yields %v, want one %v", got, errClient)
				}
			})
		})
	}
	for _, opts := range [][]fanout.Option{{fanout.Limit(2), fanout.Chunk(1)}, {fanout.Limit(2), fanout.Chunk(1), fanout.Unordered()}} {
		bubble(t, func(t *testing.T) {
			errBoom := errors.New("boom")
			started := make(chan struct{})
			var seen error
			var last error
			for _, err := range fanout.Stream(t.Context(), (&countingSeq{n: 2}).seq, func(ctx context.Context, i int) (int, error) {
				if i == 1 {
					<-started
					return 0, errBoom
				}
				close(started)
				<-ctx.Done()
				seen = context.Cause(ctx)
				return 0, ctx.Err()
			}, opts...) {
				last = err
			}
			if last != errBoom || seen != errBoom {
				t.Fatalf("stream ended with %v; the other call saw cause %v; want %v for both", last, seen, errBoom)
			}
		})
	}
}

// TestStreamBreakWhileSourceBlocked: the consumer breaks while the reader
// is blocked inside items. The loop returns only once the source does
// (Stream owns its goroutines), and the source's very next yield returns
// false: the stream reads nothing more once stopped.
func TestStreamBreakWhileSourceBlocked(t *testing.T) {
	for _, m := range streamModes {
		t.Run(m.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				release := make(chan struct{})
				var readAfter atomic.Int64 // items the stream took after the release
				src := func(yield func(int) bool) {
					for i := 0; i < 1000; i++ { // bounded: a stream that never yields 2 must end, not spin
						if i == 3 {
							<-release // an hour without data
						}
						if !yield(i) {
							return
						}
						if i >= 3 {
							readAfter.Add(1)
						}
					}
				}
				defer time.AfterFunc(time.Hour, func() { close(release) }).Stop()
				start := time.Now()
				broke := false
				for r, err := range fanout.Stream(t.Context(), src, func(ctx context.Context, i int) (int, error) { return i, nil }, m.opts...) {
					if err != nil {
						t.Fatal(err)
					}
					if r == 2 {
						broke = true
						break
					}
				}
				if !broke {
					t.Fatal("the stream ended without yielding result 2")
				}
				if n := readAfter.Load(); n != 0 {
					t.Fatalf("the stream went on reading %d items after the consumer stopped", n)
				}
				if m.name != "limit1" && time.Since(start) != time.Hour {
					t.Fatalf("loop returned after %v, want when the source returned (1h)", time.Since(start))
				}
			})
		})
	}
}

// TestStreamBreakWithSourceOnCancelledCtx: the way out of the wait above.
// A source that watches a ctx the consumer cancels before it breaks ends at
// once, and so does the loop.
func TestStreamBreakWithSourceOnCancelledCtx(t *testing.T) {
	for _, m := range streamModes {
		t.Run(m.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				src := func(yield func(int) bool) {
					for i := 0; ; i++ {
						if i == 3 {
							select {
							case <-ctx.Done(): // nothing comes for an hour
								return
							case <-time.After(time.Hour):
							}
						}
						if !yield(i) {
							return
						}
					}
				}
				start := time.Now()
				for r, err := range fanout.Stream(ctx, src, func(ctx context.Context, i int) (int, error) { return i, nil }, m.opts...) {
					if err != nil {
						t.Fatal(err)
					}
					if r == 2 {
						cancel()
						break
					}
				}
				if d := time.Since(start); d != 0 {
					t.Fatalf("loop returned after %v, want at once", d)
				}
			})
		})
	}
}

// TestStreamConsumerPanicLeavesNothingBehind: a loop body that panics
// gets its panic back unchanged, the units go back, and the meter counts
// the results the body saw, the one it panicked on included, with nothing
// left in flight or held.
func TestStreamConsumerPanicLeavesNothingBehind(t *testing.T) {
	for _, m := range streamModes {
		t.Run(m.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				b := fanout.NewBudget(2)
				var meter fanout.StreamMeter
				opts := append(slices.Clone(m.opts), fanout.WithBudget(b), fanout.Meter(&meter))
				seen := 0
				func() {
					defer func() {
						if r := recover(); r != "consumer" {
							t.Fatalf("recovered %v, want the consumer's panic", r)
						}
					}()
					for range fanout.Stream(t.Context(), (&countingSeq{n: 1000}).seq, func(ctx context.Context, i int) (int, error) {
						time.Sleep(time.Millisecond)
						return i, nil
					}, opts...) {
						if seen++; seen == 3 {
							panic("consumer")
						}
					}
				}()
				if st := meter.Stats(); st != (fanout.StreamStats{Yielded: 3}) {
					t.Fatalf("meter after the panic: %+v, want 3 yielded and nothing in flight or held", st)
				}
				checkBudget(t, b, 2)
			})
		})
	}
}

// TestStreamBadArguments: a nil ctx, and an option that means nothing to a
// Stream, panic at the call with the package's prefix.
func TestStreamBadArguments(t *testing.T) {
	fn := func(ctx context.Context, i int) (int, error) { return i, nil }
	for name, f := range map[string]func(){
		"nil ctx": func() {
			//lint:ignore SA1012 a nil ctx on purpose
			fanout.Stream(nil, slices.Values(ints(3)), fn)
		},
		"nil items":       func() { fanout.Stream(context.Background(), iter.Seq[int](nil), fn) },
		"CollectErrors()": func() { fanout.Stream(context.Background(), slices.Values(ints(3)), fn, fanout.CollectErrors()) },
		"Batch nil ctx": func() {
			//lint:ignore SA1012 a nil ctx on purpose
			fanout.Batch(nil, slices.Values(ints(3)), 2, 0)
		},
	} {
		func() {
			defer func() {
				if r, _ := recover().(string); !strings.HasPrefix(r, "fanout: ") {
					t.Errorf("%s: recovered %q, want a panic at the call starting with \"fanout: \"", name, r)
				}
			}()
			f()
		}()
	}
}

// TestStreamPanicWinsOverEarlierError: as in Map, a panic reaches the
// consumer even when another call failed first (here the panic happens
// while that failure cancels the stream).
func TestStreamPanicWinsOverEarlierError(t *testing.T) {
	for _, opts := range [][]fanout.Option{{fanout.Limit(2), fanout.Chunk(1)}, {fanout.Limit(2), fanout.Chunk(1), fanout.Unordered()}} {
		bubble(t, func(t *testing.T) {
			started := make(chan struct{})
			pe := catchPanic(t, func() {
				for range fanout.Stream(t.Context(), (&countingSeq{n: 2}).seq, func(ctx context.Context, i int) (int, error) {
					if i == 1 {
						<-started
						return 0, errors.New("boom")
					}
					close(started)
					<-ctx.Done()
					panic("late")
				}, opts...) {
				}
			})
			if pe.Value != "late" {
				t.Fatalf("PanicError %v, want the late panic", pe.Value)
			}
		})
	}
}

// TestStreamEndsGiveUnitsBack: every way a stream under a Budget ends (the
// consumer breaks, an fn fails, ctx is cancelled, an fn panics) leaves no
// unit held and no caller waiting, with calls in flight when it ends.
func TestStreamEndsGiveUnitsBack(t *testing.T) {
	errBoom := errors.New("boom")
	slow := func(ctx context.Context, i int) (int, error) {
		select {
		case <-time.After(time.Millisecond):
			return i, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	ends := []struct {
		name string
		run  func(ctx context.Context, cancel context.CancelFunc, opts []fanout.Option)
	}{
		{"break", func(ctx context.Context, _ context.CancelFunc, opts []fanout.Option) {
			for r := range fanout.Stream(ctx, (&countingSeq{n: 1000}).seq, slow, opts...) {
				if r == 20 {
					break
				}
			}
		}},
		{"fn fails", func(ctx context.Context, _ context.CancelFunc, opts []fanout.Option) {
			for range fanout.Stream(ctx, (&countingSeq{n: 1000}).seq, func(ctx context.Context, i int) (int, error) {
				if i == 30 {
					return 0, errBoom
				}
				return slow(ctx, i)
			}, opts...) {
			}
		}},
		{"ctx cancelled", func(ctx context.Context, cancel context.CancelFunc, opts []fanout.Option) {
			time.AfterFunc(25*time.Millisecond, cancel)
			for range fanout.Stream(ctx, (&countingSeq{n: 1000}).seq, slow, opts...) {
			}
		}},
		{"fn panics", func(ctx context.Context, _ context.CancelFunc, opts []fanout.Option) {
			defer func() { recover() }()
			for range fanout.Stream(ctx, (&countingSeq{n: 1000}).seq, func(ctx context.Context, i int) (int, error) {
				if i == 30 {
					panic("bad item")
				}
				return slow(ctx, i)
			}, opts...) {
			}
		}},
	}
	for _, m := range streamModes {
		for _, end := range ends {
			t.Run(m.name+"/"+end.name, func(t *testing.T) {
				bubble(t, func(t *testing.T) {
					b := fanout.NewBudget(2)
					ctx, cancel := context.WithCancel(t.Context())
					defer cancel()
					end.run(ctx, cancel, append(slices.Clone(m.opts), fanout.WithBudget(b)))
					checkBudget(t, b, 2)
				})
			})
		}
	}
}
