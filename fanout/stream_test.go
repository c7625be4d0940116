package fanout_test

import (
	"context"
	"errors"
	"iter"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/breakeven-go/breakeven/fanout"
)

// streamWindow mirrors the package's: chunks held beyond Limit.
const streamWindow = 2

// countingSeq yields 0..n-1 and counts the items read; returned is set when
// the range function returns (the source was stopped or ran out).
type countingSeq struct {
	n        int
	read     atomic.Int64
	returned atomic.Bool
}

func (c *countingSeq) seq(yield func(int) bool) {
	defer c.returned.Store(true)
	for i := range c.n {
		c.read.Add(1)
		if !yield(i) {
			return
		}
	}
}

// streamModes are the ways Stream runs: the plain loop of Limit(1), fan-out,
// fixed chunks, and unordered.
var streamModes = []struct {
	name    string
	opts    []fanout.Option
	ordered bool
}{
	{"limit1", []fanout.Option{fanout.Limit(1)}, true},
	{"limit4", []fanout.Option{fanout.Limit(4)}, true},
	{"limit64", []fanout.Option{fanout.Limit(64)}, true},
	{"chunk5", []fanout.Option{fanout.Limit(3), fanout.Chunk(5)}, true},
	{"unordered", []fanout.Option{fanout.Limit(8), fanout.Unordered()}, false},
}

func collect[R any](t *testing.T, s iter.Seq2[R, error]) []R {
	t.Helper()
	var out []R
	for r, err := range s {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// TestStreamKeepsOrderUnderRandomDelays: items finish in a random order
// (fake-clock sleeps), results come out in input order, each once.
func TestStreamKeepsOrderUnderRandomDelays(t *testing.T) {
	for _, m := range streamModes {
		t.Run(m.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				const n = 2000
				rng := rand.New(rand.NewPCG(1, 2))
				delays := make([]time.Duration, n)
				for i := range delays {
					delays[i] = time.Duration(rng.IntN(1000)) * time.Microsecond
				}
				got := collect(t, fanout.Stream(t.Context(), (&countingSeq{n: n}).seq, func(ctx context.Context, i int) (int, error) {
					time.Sleep(delays[i])
					return i * 3, nil
				}, m.opts...))
				checkResults(t, got, n, m.ordered)
			})
		})
	}
}

// TestStreamKeepsOrderTinyItems: tiny items travel in adaptive chunks;
// still in order, each once, across many chunks.
func TestStreamKeepsOrderTinyItems(t *testing.T) {
	for _, m := range streamModes {
		t.Run(m.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				const n = 200_000
				got := collect(t, fanout.Stream(t.Context(), (&countingSeq{n: n}).seq, func(ctx context.Context, i int) (int, error) {
					if i%1013 == 0 {
						runtime.Gosched()
					}
					return i * 3, nil
				}, m.opts...))
				checkResults(t, got, n, m.ordered)
			})
		})
	}
}

func checkResults(t *testing.T, got []int, n int, ordered bool) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("%d results, want %d", len(got), n)
	}
	if !ordered {
		got = slices.Clone(got)
		slices.Sort(got)
	}
	for i, r := range got {
		if r != i*3 {
			t.Fatalf("result %d = %d, want %d (ordered %v)", i, r, i*3, ordered)
		}
	}
}

// TestStreamNeverExceedsLimit: calls hold their slot across a yield of the
// processor and a fake-clock sleep; never more than Limit run at once, and
// two streams sharing a Budget stay under it together.
func TestStreamNeverExceedsLimit(t *testing.T) {
	bubble(t, func(t *testing.T) {
		for _, limit := range []int{2, 5, 32} {
			var m maxTracker
			collect(t, fanout.Stream(t.Context(), (&countingSeq{n: 3000}).seq, func(ctx context.Context, i int) (int, error) {
				m.enter()
				defer m.exit()
				runtime.Gosched()
				return i, nil
			}, fanout.Limit(limit)))
			if got := m.max.Load(); got > int64(limit) {
				t.Fatalf("Limit(%d): %d calls at once", limit, got)
			}
		}
	})
	bubble(t, func(t *testing.T) {
		b := fanout.NewBudget(3)
		var m maxTracker
		fn := func(ctx context.Context, i int) (int, error) {
			m.enter()
			defer m.exit()
			time.Sleep(time.Millisecond)
			return i, nil
		}
		done := make(chan int)
		for range 2 {
			go func() {
				done <- len(collect(t, fanout.Stream(t.Context(), (&countingSeq{n: 200}).seq, fn, fanout.Limit(10), fanout.WithBudget(b))))
			}()
		}
		if a, b := <-done, <-done; a != 200 || b != 200 {
			t.Fatalf("results %d, %d; want 200 each", a, b)
		}
		if got := m.max.Load(); got != 3 {
			t.Fatalf("budget of 3 shared by two streams of Limit(10): %d calls at once, want 3", got)
		}
	})
}

// TestStreamEarlyBreak: the consumer stops with 10,000 items left. Stream
// reads at most Limit + the window (+ the one item the reader holds while
// it waits for a free chunk) beyond what was yielded, cancels the calls in
// flight, and has stopped the source and every call when the loop ends.
func TestStreamEarlyBreak(t *testing.T) {
	for _, m := range streamModes {
		t.Run(m.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				const limit = 4
				opts := append(slices.Clone(m.opts), fanout.Limit(limit))
				src := &countingSeq{n: 10_100}
				var running, cancelled atomic.Int64
				yielded := 0
				for _, err := range fanout.Stream(t.Context(), src.seq, func(ctx context.Context, i int) (int, error) {
					running.Add(1)
					defer running.Add(-1)
					select {
					case <-time.After(time.Millisecond):
					case <-ctx.Done():
						cancelled.Add(1)
						return 0, ctx.Err()
					}
					return i, nil
				}, opts...) {
					if err != nil {
						t.Fatal(err)
					}
					if yielded++; yielded == 100 {
						break
					}
				}
				if !src.returned.Load() || running.Load() != 0 {
					t.Fatalf("after break: source returned %v, %d calls running", src.returned.Load(), running.Load())
				}
				chunk := 1
				if strings.HasPrefix(m.name, "chunk") {
					chunk = 5
				}
				if ahead := src.read.Load() - int64(yielded); ahead > int64((limit+streamWindow)*chunk+1) {
					t.Fatalf("read %d items beyond the %d yielded; want at most %d", ahead, yielded, (limit+streamWindow)*chunk+1)
				}
				if m.name != "limit1" && cancelled.Load() == 0 {
					t.Fatalf("no call in flight saw its context cancelled")
				}
			})
		})
	}
}

// TestStreamFirstErrorEndsIt: the first error is yielded once, as (zero,
// err), and nothing follows it, even for a consumer that keeps looping.
func TestStreamFirstErrorEndsIt(t *testing.T) {
	boom := errors.New("boom")
	for _, m := range streamModes {
		t.Run(m.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				var errs int
				var after int
				seen := 0
				for r, err := range fanout.Stream(t.Context(), (&countingSeq{n: 5000}).seq, func(ctx context.Context, i int) (int, error) {
					if i == 777 {
						return 0, boom
					}
					return i + 1, nil
				}, m.opts...) {
					if errs > 0 {
						after++
					}
					if err != nil {
						errs++
						if !errors.Is(err, boom) || r != 0 {
							t.Fatalf("got (%d, %v), want (0, boom)", r, err)
						}
						continue // keep looping: the stream must end by itself
					}
					seen++
				}
				if errs != 1 || after != 0 {
					t.Fatalf("%d errors, %d yields after the first", errs, after)
				}
				if m.ordered && seen > 777 {
					t.Fatalf("ordered: %d results before the error at item 777", seen)
				}
			})
		})
	}
}

// TestStreamContextCancelled: cancelling ctx ends the stream with ctx's
// error; a ctx cancelled before the range yields only that error.
func TestStreamContextCancelled(t *testing.T) {
	for _, m := range streamModes {
		t.Run(m.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				var last error
				n := 0
				for _, err := range fanout.Stream(ctx, (&countingSeq{n: 10_000}).seq, func(ctx context.Context, i int) (int, error) {
					select {
					case <-time.After(time.Millisecond):
						return i, nil
					case <-ctx.Done():
						return 0, errors.New("wrapped: " + ctx.Err().Error()) // what fn makes of it must not win
					}
				}, m.opts...) {
					if last != nil {
						t.Fatal("yield after the error")
					}
					if n++; n == 50 {
						cancel()
					}
					last = err
				}
				if last != context.Canceled {
					t.Fatalf("stream ended with %v, want context.Canceled", last)
				}
				var got []error
				for _, err := range fanout.Stream(ctx, (&countingSeq{n: 3}).seq, func(ctx context.Context, i int) (int, error) { return i, nil }, m.opts...) {
					got = append(got, err)
				}
				if len(got) != 1 || got[0] != context.Canceled {
					t.Fatalf("pre-cancelled ctx: yields %v, want one context.Canceled", got)
				}
			})
		})
	}
}

// TestStreamPanicPropagates: a panic in fn, or in the source, reaches the
// consumer's goroutine as a *PanicError with the value, after every
// goroutine of the stream ended (goleak in TestMain).
func TestStreamPanicPropagates(t *testing.T) {
	for _, m := range streamModes {
		t.Run(m.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				b := fanout.NewBudget(8)
				pe := catchPanic(t, func() {
					for range fanout.Stream(t.Context(), (&countingSeq{n: 5000}).seq, func(ctx context.Context, i int) (int, error) {
						if i == 300 {
							panic("bad item")
						}
						return i, nil
					}, append(slices.Clone(m.opts), fanout.WithBudget(b))...) {
					}
				})
				if pe.Value != "bad item" || !strings.Contains(string(pe.Stack), "stream_test.go") {
					t.Fatalf("PanicError %v, stack lacks the test file", pe.Value)
				}
				if st := b.Stats(); st.InUse != 0 {
					t.Fatalf("after the panic: %d budget units still held", st.InUse)
				}
				if m.name == "limit1" {
					return // the source runs on the consumer's goroutine: its panic is the consumer's own
				}
				pe = catchPanic(t, func() {
					for range fanout.Stream(t.Context(), func(yield func(int) bool) {
						for i := range 100 {
							if i == 50 {
								panic("bad source")
							}
							if !yield(i) {
								return
							}
						}
					}, func(ctx context.Context, i int) (int, error) { return i, nil }, m.opts...) {
					}
				})
				if pe.Value != "bad source" {
					t.Fatalf("PanicError %v, want the source's", pe.Value)
				}
			})
		})
	}
}

func catchPanic(t *testing.T, f func()) (pe *fanout.PanicError) {
	t.Helper()
	defer func() {
		r := recover()
		var ok bool
		if pe, ok = r.(*fanout.PanicError); !ok {
			t.Fatalf("recovered %#v, want a *fanout.PanicError", r)
		}
	}()
	f()
	return nil
}

// TestStreamGoexit: fn calling runtime.Goexit on a worker, or the source
// on the reader, ends the stream with an error instead of leaving the
// consumer waiting for a result that cannot come.
func TestStreamGoexit(t *testing.T) {
	bubble(t, func(t *testing.T) {
		var last error
		for _, err := range fanout.Stream(t.Context(), (&countingSeq{n: 100}).seq, func(ctx context.Context, i int) (int, error) {
			if i == 10 {
				runtime.Goexit()
			}
			return i, nil
		}, fanout.Limit(4)) {
			last = err
		}
		if last == nil || !strings.HasPrefix(last.Error(), "fanout: ") {
			t.Fatalf("stream ended with %v, want a fanout error", last)
		}
		last = nil
		for _, err := range fanout.Stream(t.Context(), func(yield func(int) bool) {
			yield(1)
			runtime.Goexit() // the source, on Stream's reader goroutine
		}, func(ctx context.Context, i int) (int, error) { return i, nil }, fanout.Limit(4)) {
			last = err
		}
		if last == nil || !strings.HasPrefix(last.Error(), "fanout: ") {
			t.Fatalf("source Goexit: stream ended with %v, want a fanout error", last)
		}
	})
}

// TestStreamConsumerPanics: a panic in the loop body is the consumer's own;
// it passes through unchanged and the stream's goroutines end.
func TestStreamConsumerPanics(t *testing.T) {
	bubble(t, func(t *testing.T) {
		for _, m := range streamModes {
			func() {
				defer func() {
					if r := recover(); r != "consumer" {
						t.Fatalf("%s: recovered %v", m.name, r)
					}
				}()
				for range fanout.Stream(t.Context(), (&countingSeq{n: 1000}).seq, func(ctx context.Context, i int) (int, error) { return i, nil }, m.opts...) {
					panic("consumer")
				}
			}()
		}
	})
}

// TestStreamSlowSourceDoesNotHoldResults: with tiny items (chunks of many)
// and a source that pauses, the items read before the pause are processed
// and yielded during it, not after the next item arrives.
func TestStreamSlowSourceDoesNotHoldResults(t *testing.T) {
	bubble(t, func(t *testing.T) {
		// Bursts of 1 to 600 items, each followed by an hour's pause;
		// burst[i] is the burst item i belongs to.
		rng := rand.New(rand.NewPCG(3, 4))
		var burst []int
		for b := 0; len(burst) < 20_000; b++ {
			for range 1 + rng.IntN(600) {
				burst = append(burst, b)
			}
		}
		src := func(yield func(int) bool) {
			for i := range burst {
				if i > 0 && burst[i] != burst[i-1] {
					time.Sleep(time.Hour)
				}
				if !yield(i) {
					return
				}
			}
		}
		start := time.Now()
		for r, err := range fanout.Stream(t.Context(), src, func(ctx context.Context, i int) (int, error) { return i, nil }, fanout.Limit(2)) {
			if err != nil {
				t.Fatal(err)
			}
			if want := time.Duration(burst[r]) * time.Hour; time.Since(start) != want {
				t.Fatalf("item %d yielded at %v, want %v (before the source's next pause ended)", r, time.Since(start), want)
			}
		}
	})
}

// TestStreamMeter: the meter shows items held behind a slow head item and,
// at the end, everything yielded and nothing in flight or held.
func TestStreamMeter(t *testing.T) {
	bubble(t, func(t *testing.T) {
		var m fanout.StreamMeter
		release := make(chan struct{})
		next, stop := iter.Pull2(fanout.Stream(t.Context(), (&countingSeq{n: 20}).seq, func(ctx context.Context, i int) (int, error) {
			if i == 0 {
				<-release
			}
			time.Sleep(time.Millisecond)
			return i, nil
		}, fanout.Limit(4), fanout.Meter(&m)))
		defer stop()
		go func() {
			time.Sleep(time.Second)
			synctest.Wait()
			st := m.Stats()
			if st.InFlight != 1 || st.Held != 5 || st.Yielded != 0 {
				t.Errorf("head blocked: stats %+v, want 1 in flight, 5 held (window of 6 chunks), 0 yielded", st)
			}
			close(release)
		}()
		for i := range 20 {
			if r, err, ok := next(); !ok || err != nil || r != i {
				t.Fatalf("next = %d, %v; want %d", r, err, i)
			}
		}
		stop()
		if st := m.Stats(); st != (fanout.StreamStats{Yielded: 20}) {
			t.Fatalf("after the stream: %+v", st)
		}
	})
}

// TestStreamMeterAfterAPanic: when fn panics, the stream ends with a
// *PanicError and its meter shows nothing left in flight or held, on the
// consumer's goroutine (Limit(1)) as on workers.
func TestStreamMeterAfterAPanic(t *testing.T) {
	for _, limit := range []int{1, 4} {
		bubble(t, func(t *testing.T) {
			var m fanout.StreamMeter
			catchPanic(t, func() {
				for range fanout.Stream(t.Context(), (&countingSeq{n: 20}).seq, func(ctx context.Context, i int) (int, error) {
					if i == 2 {
						panic("bad item")
					}
					return i, nil
				}, fanout.Limit(limit), fanout.Meter(&m)) {
				}
			})
			if st := m.Stats(); st.InFlight != 0 || st.Held != 0 {
				t.Fatalf("Limit(%d): after fn panicked: %+v, want nothing in flight or held", limit, st)
			}
		})
	}
}

// TestStreamOptionsOnlyForStream: Unordered and Meter mean nothing to Map
// and say so.
func TestStreamOptionsOnlyForStream(t *testing.T) {
	for _, o := range []fanout.Option{fanout.Unordered(), fanout.Meter(new(fanout.StreamMeter))} {
		func() {
			defer func() {
				if r, _ := recover().(string); !strings.HasPrefix(r, "fanout: ") {
					t.Fatalf("Map with a Stream option: recovered %q", r)
				}
			}()
			fanout.Map(t.Context(), []int{1}, func(ctx context.Context, i int) (int, error) { return i, nil }, o)
		}()
	}
}

// TestStreamAllocsDoNotGrowWithItems: chunks are recycled, so a stream
// allocates per stream (goroutines, channels, its window of chunks), not
// per item.
func TestStreamAllocsDoNotGrowWithItems(t *testing.T) {
	allocs := func(n int) float64 {
		src := (&countingSeq{n: n}).seq
		return testing.AllocsPerRun(5, func() {
			for _, err := range fanout.Stream(context.Background(), src, func(_ context.Context, i int) (int, error) { return i, nil }, fanout.Limit(4)) {
				if err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	// Chunk sizes settle at different moments from run to run, so the
	// counts differ a little; an allocation per item would add 90,000.
	small, large := allocs(10_000), allocs(100_000)
	if large > small+100 {
		t.Fatalf("%.0f allocations for 10,000 items, %.0f for 100,000: some are per item", small, large)
	}
}

// TestStreamUnorderedDoesNotWaitForSlowItems: with Unordered, a stuck item
// holds back nothing: the others are yielded while it waits (in order
// mode this consumer would wait forever; synctest would report it).
func TestStreamUnorderedDoesNotWaitForSlowItems(t *testing.T) {
	bubble(t, func(t *testing.T) {
		release := make(chan struct{})
		got := 0
		for r, err := range fanout.Stream(t.Context(), (&countingSeq{n: 200}).seq, func(ctx context.Context, i int) (int, error) {
			if i == 0 {
				<-release
			}
			time.Sleep(time.Millisecond)
			return i, nil
		}, fanout.Limit(4), fanout.Unordered()) {
			if err != nil {
				t.Fatal(err)
			}
			if got++; got == 100 {
				close(release) // 100 results while item 0 was stuck
			}
			if r == 0 && got < 100 {
				t.Fatalf("item 0 yielded as result %d, before it was released", got)
			}
		}
		if got != 200 {
			t.Fatalf("%d results, want 200", got)
		}
	})
}

// TestStreamReachesItsLimitAfterIdling: a worker that went idle and was
// woken for more work is busy again; a burst of slow items that follows
// must still start up to Limit workers, not leave the stream one worker
// wide because an idle count only grew.
func TestStreamReachesItsLimitAfterIdling(t *testing.T) {
	bubble(t, func(t *testing.T) {
		const limit, burst = 4, 8
		items := func(yield func(int) bool) {
			// Two fast items a millisecond apart: the first worker
			// finishes, goes idle and is woken for the second.
			for i := range 2 {
				if !yield(i) {
					return
				}
				time.Sleep(time.Millisecond)
			}
			for i := range burst {
				if !yield(2 + i) {
					return
				}
			}
		}
		var m maxTracker
		got := collect(t, fanout.Stream(t.Context(), items, func(ctx context.Context, i int) (int, error) {
			if i >= 2 {
				m.enter()
				defer m.exit()
				time.Sleep(10 * time.Millisecond)
			}
			return i, nil
		}, fanout.Limit(limit), fanout.Chunk(1)))
		if len(got) != 2+burst {
			t.Fatalf("%d results, want %d", len(got), 2+burst)
		}
		if peak := m.max.Load(); peak != limit {
			t.Fatalf("burst after an idle spell: %d calls at once, want Limit(%d)", peak, limit)
		}
	})
}

// TestStreamChunkHandsOutConsecutiveItems: with Chunk(3) a worker takes
// three consecutive items at a time, so the two items after a slow one wait
// for it on its worker, while the next chunk runs on another. A worker may
// take a chunk before it is full (so that a slow source does not hold items
// back); with one P the reader fills each chunk before a worker runs, which
// makes the grouping exact.
func TestStreamChunkHandsOutConsecutiveItems(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	bubble(t, func(t *testing.T) {
		start := time.Now()
		var began [6]atomic.Int64
		collect(t, fanout.Stream(t.Context(), (&countingSeq{n: 6}).seq, func(ctx context.Context, i int) (int, error) {
			began[i].Store(int64(time.Since(start)))
			if i == 0 {
				time.Sleep(10 * time.Millisecond)
			}
			return i, nil
		}, fanout.Limit(2), fanout.Chunk(3)))
		for i := range began {
			want := time.Duration(0)
			if i == 1 || i == 2 {
				want = 10 * time.Millisecond // behind item 0, in its chunk
			}
			if got := time.Duration(began[i].Load()); got != want {
				t.Errorf("item %d began at %v, want %v (Chunk(3): items 0-2 on one worker, 3-5 on another)", i, got, want)
			}
		}
	})
}
