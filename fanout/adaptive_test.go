package fanout_test

import (
	"bytes"
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breakeven-go/breakeven/fanout"
)

// The adaptive rule of the package doc, made deterministic: inside a
// synctest bubble an item that sleeps d takes exactly d of the bubble's
// clock, which is the clock fanout times its first items with. So the
// measured cost of every item is known, whatever the machine's speed or
// load, and the tests below check what the rule promises for it.

// itemRun is what one item saw: the goroutine it ran on (the caller's or a
// worker of fanout's) and when it started and ended on the bubble's clock.
type itemRun struct {
	onWorker   bool
	goroutine  string // "goroutine 42"
	start, end time.Duration
}

// runTimed runs ForEach over n items in a synctest bubble, item i sleeping
// cost(i), with Limit(limit) on at least as many Ps (so the adaptive rule
// applies), and returns what each item saw.
func runTimed(t *testing.T, n, limit int, cost func(i int) time.Duration) []itemRun {
	t.Helper()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(limit, runtime.GOMAXPROCS(0))))
	runs := make([]itemRun, n)
	bubble(t, func(t *testing.T) {
		t0 := time.Now()
		err := fanout.ForEach(t.Context(), ints(n), func(_ context.Context, i int) error {
			runs[i].onWorker = onWorker()
			runs[i].goroutine = goroutineName()
			runs[i].start = time.Since(t0)
			time.Sleep(cost(i))
			runs[i].end = time.Since(t0)
			return nil
		}, fanout.Limit(limit))
		if err != nil {
			t.Fatal(err)
		}
	})
	return runs
}

// goroutineName returns the calling goroutine's "goroutine N".
func goroutineName() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	name, _, _ := bytes.Cut(buf, []byte(" ["))
	return string(name)
}

func constant(d time.Duration) func(int) time.Duration {
	return func(int) time.Duration { return d }
}

// A job whose items add up to less than a goroutine costs (tens of
// microseconds) runs as a plain loop on the caller's goroutine: never
// on a worker, one item after another.
func TestAdaptiveSmallJobIsAPlainLoop(t *testing.T) {
	for _, tc := range []struct {
		n    int
		cost time.Duration
	}{
		{3, 5 * time.Microsecond},   // a few items: all run while sampling
		{30, 500 * time.Nanosecond}, // sampled, the rest estimated too cheap
		{600, 20 * time.Nanosecond}, // tiny items: sampling stops on its item count
		{1, time.Millisecond},       // one item, however slow
		{51, time.Microsecond},      // 2 sampled, 49µs left: just under the work a fan-out needs
	} {
		runs := runTimed(t, tc.n, 2, constant(tc.cost))
		for i, r := range runs {
			if r.onWorker {
				t.Fatalf("%d items of %v: item %d ran on a worker goroutine", tc.n, tc.cost, i)
			}
			if i > 0 && r.start != runs[i-1].end {
				t.Fatalf("%d items of %v: item %d started at %v, item %d ended at %v: not a plain loop", tc.n, tc.cost, i, r.start, i-1, runs[i-1].end)
			}
		}
	}
}

// A job that adds up to far more than a goroutine costs fans out: its
// first items are timed on the caller's goroutine (a short prefix, not
// the whole job) and the rest run on Limit workers at once.
func TestAdaptiveLargeJobFansOut(t *testing.T) {
	for _, tc := range []struct {
		n    int
		cost time.Duration
	}{
		{200, time.Microsecond},      // tiny items, handed out in chunks
		{40, 100 * time.Microsecond}, // slow items, handed out one at a time
		{5000, 20 * time.Nanosecond}, // items too tiny to time one by one
		{52, time.Microsecond},       // 2 sampled, 50µs left: just enough to fan out
	} {
		const limit = 2
		runs := runTimed(t, tc.n, limit, constant(tc.cost))
		sampled := 0
		for sampled < len(runs) && !runs[sampled].onWorker {
			sampled++
		}
		if sampled == 0 || sampled > tc.n/4 {
			t.Fatalf("%d items of %v: the caller's goroutine ran the first %d items before fanning out; want a short prefix", tc.n, tc.cost, sampled)
		}
		for i, r := range runs[sampled:] {
			if !r.onWorker {
				t.Fatalf("%d items of %v: item %d ran on the caller's goroutine after fan-out began", tc.n, tc.cost, sampled+i)
			}
		}
		// Limit workers run at once: the fanned-out part takes about half
		// the time one goroutine would, never less (that is more than Limit
		// at once).
		serial := time.Duration(tc.n-sampled) * tc.cost
		took := runs[tc.n-1].end - runs[sampled].start
		for _, r := range runs {
			took = max(took, r.end-runs[sampled].start)
		}
		if took < serial/limit || took > serial*3/(2*limit) {
			t.Fatalf("%d items of %v: the fanned-out items took %v; one goroutine takes %v, %d workers about half", tc.n, tc.cost, took, serial, limit)
		}
	}
}

// Items that each cost more than a hand-off between goroutines are handed
// out one at a time, so a slow item holds back no other item while another
// worker is free: every other item starts before the slow one ends.
// (Chunks are only for tiny items; a chunk of slow items behind a slow one
// would wait for it.)
func TestAdaptiveSlowItemHoldsBackNoOther(t *testing.T) {
	const n, slow = 40, 1
	runs := runTimed(t, n, 2, func(i int) time.Duration {
		if i == slow {
			return 10 * time.Millisecond
		}
		return 100 * time.Microsecond
	})
	for i, r := range runs {
		if i != slow && r.start >= runs[slow].end {
			t.Fatalf("item %d started at %v, after the slow item %d ended (%v): it waited in the slow item's chunk", i, r.start, slow, runs[slow].end)
		}
	}
}

// Tiny items are handed out in chunks of consecutive items, so that a
// worker goes back to the shared cursor rarely: on a worker, no item runs
// alone, between items that other goroutines ran.
func TestAdaptiveTinyItemsGoOutInChunks(t *testing.T) {
	const n = 202 // 2 items timed on the caller's goroutine, 200 fanned out
	runs := runTimed(t, n, 2, constant(time.Microsecond))
	for i := 0; i < n; {
		j := i + 1
		for j < n && runs[j].goroutine == runs[i].goroutine {
			j++
		}
		if runs[i].onWorker && j-i == 1 {
			t.Fatalf("item %d ran alone on %s, between items other goroutines ran: tiny items were not handed out in chunks", i, runs[i].goroutine)
		}
		i = j
	}
}

// A chunk is at most a quarter of a worker's share of the fanned-out
// items, so that every worker gets at least four chunks and uneven items
// even out. The chunk's size shows when its first item is slow: the items
// of the same chunk wait behind it, every other item runs on the other
// worker meanwhile.
func TestAdaptiveEveryWorkerGetsFourChunks(t *testing.T) {
	const n, limit = 62, 2
	var sampled atomic.Int64 // items run on the caller's goroutine
	runs := runTimed(t, n, limit, func(i int) time.Duration {
		if !onWorker() {
			sampled.Add(1)
		} else if i == int(sampled.Load()) { // the first item of the first chunk
			return time.Millisecond
		}
		return time.Microsecond
	})
	first := int(sampled.Load())
	if first == 0 || first == n {
		t.Fatalf("%d of %d items ran on the caller's goroutine; want a fan-out after a short sample", first, n)
	}
	chunk := 1
	for i, r := range runs {
		if i != first && r.start >= runs[first].end {
			chunk++ // waited behind the slow item: in its chunk
		}
	}
	if share := (n - first) / limit; chunk > share/4 {
		t.Fatalf("the first chunk held %d items of a worker's share of %d: fewer than 4 chunks per worker", chunk, share)
	}
}
