package fanout_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/breakeven-go/breakeven/fanout"
)

// timedSeq yields 0, 1, … sleeping gaps[i] (fake clock) before item i.
func timedSeq(gaps []time.Duration) func(yield func(int) bool) {
	return func(yield func(int) bool) {
		for i, g := range gaps {
			time.Sleep(g)
			if !yield(i) {
				return
			}
		}
	}
}

type batchAt struct {
	items []int
	at    time.Duration
}

func runBatch(t *testing.T, items func(func(int) bool), size int, maxWait time.Duration) []batchAt {
	t.Helper()
	start := time.Now()
	var got []batchAt
	for b := range fanout.Batch(t.Context(), items, size, maxWait) {
		got = append(got, batchAt{slices.Clone(b), time.Since(start)})
	}
	return got
}

func span(from, to int) []int {
	var s []int
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

func checkBatches(t *testing.T, got, want []batchAt) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("batches (items @ time)\n got %v\nwant %v", got, want)
	}
}

// TestBatchSizeTrigger: a fast source gives full batches at once and a
// short last one, with or without a time trigger.
func TestBatchSizeTrigger(t *testing.T) {
	for _, wait := range []time.Duration{0, time.Second} {
		bubble(t, func(t *testing.T) {
			got := runBatch(t, timedSeq(make([]time.Duration, 10)), 4, wait)
			checkBatches(t, got, []batchAt{{span(0, 4), 0}, {span(4, 8), 0}, {span(8, 10), 0}})
		})
	}
}

// TestBatchEndsOnAFullBatch: a source that ends right after a full batch,
// or yields nothing, gets no empty batch at the end; size 1, the smallest
// size, puts each item in its own batch.
func TestBatchEndsOnAFullBatch(t *testing.T) {
	for _, wait := range []time.Duration{0, time.Second} {
		bubble(t, func(t *testing.T) {
			checkBatches(t, runBatch(t, timedSeq(make([]time.Duration, 8)), 4, wait), []batchAt{{span(0, 4), 0}, {span(4, 8), 0}})
			checkBatches(t, runBatch(t, timedSeq(nil), 4, wait), nil)
			checkBatches(t, runBatch(t, timedSeq(make([]time.Duration, 3)), 1, wait), []batchAt{{span(0, 1), 0}, {span(1, 2), 0}, {span(2, 3), 0}})
		})
	}
}

// TestBatchTimeTrigger: a partial batch goes out maxWait after its first
// item arrived, not after its last, and while the source is blocked.
func TestBatchTimeTrigger(t *testing.T) {
	bubble(t, func(t *testing.T) {
		ms := time.Millisecond
		gaps := []time.Duration{
			0, 300 * ms, 300 * ms, // items 0-2 at 0, 300, 600 ms: batch out at 1 s
			5 * time.Second,  // item 3 at 5.6 s
			0, 0, 0, 0, 0, 0, // items 4-9 at 5.6 s: [3 4 5 6] full at once, [7 8 9] at 6.6 s
			10 * time.Second, // item 10 at 15.6 s: the last, out when the source ends
		}
		got := runBatch(t, timedSeq(gaps), 4, time.Second)
		checkBatches(t, got, []batchAt{
			{span(0, 3), time.Second},
			{span(3, 7), 5600 * ms},
			{span(7, 10), 6600 * ms},
			{span(10, 11), 15600 * ms},
		})
	})
}

// TestBatchLoneItemGoesOutOnTime: an item followed by a long silence goes
// out maxWait after it arrived, as a batch of one; the consumer must be
// woken by the first item of a batch, not only by a full one.
func TestBatchLoneItemGoesOutOnTime(t *testing.T) {
	bubble(t, func(t *testing.T) {
		got := runBatch(t, timedSeq([]time.Duration{0, 5 * time.Second}), 4, time.Second)
		checkBatches(t, got, []batchAt{{span(0, 1), time.Second}, {span(1, 2), 5 * time.Second}})
	})
}

// TestBatchTimeTriggerAfterABusyConsumer: a partial batch whose first item
// arrived while the consumer was busy with the batch before still goes out
// maxWait after that item, not maxWait after the consumer came back.
func TestBatchTimeTriggerAfterABusyConsumer(t *testing.T) {
	bubble(t, func(t *testing.T) {
		ms := time.Millisecond
		// items 0, 1 at 0 (full at once), 2 at 100 ms, 3 at 10.1 s (the last)
		src := timedSeq([]time.Duration{0, 0, 100 * ms, 10 * time.Second})
		start := time.Now()
		var got []batchAt
		for b := range fanout.Batch(t.Context(), src, 2, time.Second) {
			got = append(got, batchAt{slices.Clone(b), time.Since(start)})
			if len(got) == 1 {
				time.Sleep(500 * ms) // busy while item 2 arrives
			}
		}
		checkBatches(t, got, []batchAt{{span(0, 2), 0}, {span(2, 3), 1100 * ms}, {span(3, 4), 10100 * ms}})
	})
}

// TestBatchNoWait: maxWait 0 never yields a partial batch before the end,
// however long the source pauses.
func TestBatchNoWait(t *testing.T) {
	bubble(t, func(t *testing.T) {
		gaps := []time.Duration{0, time.Hour, time.Hour, 0, time.Hour}
		got := runBatch(t, timedSeq(gaps), 2, 0)
		checkBatches(t, got, []batchAt{{span(0, 2), time.Hour}, {span(2, 4), 2 * time.Hour}, {span(4, 5), 3 * time.Hour}})
	})
}

// TestBatchSlowConsumer: the reader runs at most two batches (one ready,
// one filling) and the item it holds ahead of a consumer that takes its time, and order holds when a full
// batch and a timed-out partial one are both waiting.
func TestBatchSlowConsumer(t *testing.T) {
	bubble(t, func(t *testing.T) {
		src := &countingSeq{n: 1000}
		var got [][]int
		for b := range fanout.Batch(t.Context(), src.seq, 10, time.Millisecond) {
			got = append(got, b)
			synctest.Wait() // let the reader run as far as it can
			if read, yielded := src.read.Load(), int64(10*len(got)); read > yielded+2*10+1 {
				t.Fatalf("read %d items with %d yielded: more than two batches ahead", read, yielded)
			}
			time.Sleep(time.Second)
		}
		var flat []int
		for _, b := range got {
			if len(b) != 10 {
				t.Fatalf("batch of %d from a source that never waits", len(b))
			}
			flat = append(flat, b...)
		}
		if !slices.Equal(flat, span(0, 1000)) {
			t.Fatalf("items out of order or lost")
		}
	})
}

// TestBatchEarlyBreak: the consumer stops; the reader stops reading and has
// ended when the loop does (goleak in TestMain).
func TestBatchEarlyBreak(t *testing.T) {
	bubble(t, func(t *testing.T) {
		for _, wait := range []time.Duration{0, time.Second} {
			src := &countingSeq{n: 100_000}
			n := 0
			for range fanout.Batch(t.Context(), src.seq, 7, wait) {
				if n++; n == 3 {
					break
				}
			}
			if !src.returned.Load() || src.read.Load() > 3*7+2*7+1 {
				t.Fatalf("maxWait %v: after break: source returned %v, read %d", wait, src.returned.Load(), src.read.Load())
			}
		}
	})
}

// TestBatchContextCancelled: cancelling ctx ends the sequence, also while
// the consumer waits for a partial batch.
func TestBatchContextCancelled(t *testing.T) {
	bubble(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		src := func(yield func(int) bool) {
			for i := 0; ; i++ {
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Second):
				}
				if !yield(i) {
					return
				}
			}
		}
		n := 0
		for range fanout.Batch(ctx, src, 100, time.Hour) {
			n++
		}
		if n != 0 || ctx.Err() == nil {
			t.Fatalf("%d batches, ctx %v", n, ctx.Err())
		}
	})
}

// TestBatchSourcePanics: a panic in items reaches the consumer as a
// *PanicError.
func TestBatchSourcePanics(t *testing.T) {
	bubble(t, func(t *testing.T) {
		pe := catchPanic(t, func() {
			for range fanout.Batch(t.Context(), func(yield func(int) bool) {
				yield(1)
				panic("bad source")
			}, 10, time.Second) {
			}
		})
		if pe.Value != "bad source" {
			t.Fatalf("PanicError %v", pe.Value)
		}
	})
}

// TestBatchBadArguments: a size under 1 or a negative maxWait panics at
// the call, with the package's prefix.
func TestBatchBadArguments(t *testing.T) {
	for _, c := range []struct {
		size int
		wait time.Duration
	}{{0, 0}, {-1, time.Second}, {1, -time.Second}} {
		func() {
			defer func() {
				if r, _ := recover().(string); !strings.HasPrefix(r, "fanout: Batch") {
					t.Fatalf("Batch(%d, %v): recovered %q", c.size, c.wait, r)
				}
			}()
			fanout.Batch(t.Context(), (&countingSeq{}).seq, c.size, c.wait)
		}()
	}
}

// TestBatchSourceGoexit: a source that calls runtime.Goexit (t.FailNow in
// a test's iterator) does not end the batches short without a word.
func TestBatchSourceGoexit(t *testing.T) {
	bubble(t, func(t *testing.T) {
		pe := catchPanic(t, func() {
			for range fanout.Batch(t.Context(), func(yield func(int) bool) {
				yield(1)
				runtime.Goexit()
			}, 10, time.Second) {
			}
		})
		if err, _ := pe.Value.(error); err == nil || !strings.HasPrefix(err.Error(), "fanout: ") {
			t.Fatalf("PanicError %v, want a fanout error", pe.Value)
		}
	})
}

// TestBatchStopWhileSourceBlocked: the consumer breaks, or its loop body
// panics, while the reader is blocked inside items. The loop ends when the
// source does (Batch owns its reader), the panic passes through unchanged,
// and the source's next yield returns false.
func TestBatchStopWhileSourceBlocked(t *testing.T) {
	for _, wait := range []time.Duration{0, time.Second} {
		for _, panics := range []bool{false, true} {
			bubble(t, func(t *testing.T) {
				release := make(chan struct{})
				defer time.AfterFunc(time.Hour, func() { close(release) }).Stop()
				readAfter := 0
				src := func(yield func(int) bool) {
					for i := 0; ; i++ {
						if i == 3 {
							<-release
						}
						if !yield(i) {
							return
						}
						if i >= 3 {
							readAfter++
						}
					}
				}
				func() {
					defer func() {
						if r := recover(); panics && r != "consumer" || !panics && r != nil {
							t.Fatalf("recovered %v", r)
						}
					}()
					for range fanout.Batch(t.Context(), src, 2, wait) {
						if panics {
							panic("consumer")
						}
						break
					}
				}()
				if readAfter != 0 {
					t.Fatalf("maxWait %v: %d items read after the consumer stopped", wait, readAfter)
				}
			})
		}
	}
}
