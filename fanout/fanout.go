package fanout

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The adaptive rule. With a Limit above GOMAXPROCS, fn is taken to be
// I/O-bound (it waits more than it computes, or more calls than cores would
// not help) and fanout starts its workers at once, one item at a time:
// timing a first item that takes a millisecond would delay the whole call
// by that millisecond. With Limit(1) (the default with one P) it runs a
// plain loop on the caller's goroutine. Otherwise it times the first items
// on the caller's goroutine until sampleTime has passed (or sampleItems
// items ran), then:
//
//   - if the remaining items' estimated cost is under minParallelWork, it
//     runs them in the same loop: starting, scheduling and joining a second
//     goroutine costs a few microseconds, which such a job cannot win back;
//   - otherwise it starts up to Limit workers, each taking chunks of consecutive items from a shared atomic
//     cursor, sized so that one chunk takes about chunkTime (the cursor's
//     cache line then moves between cores rarely) but every worker still
//     gets at least 4 chunks to even out uneven items.
const (
	sampleTime      = 2 * time.Microsecond
	sampleItems     = 64
	minParallelWork = 50 * time.Microsecond
	chunkTime       = 10 * time.Microsecond
	chunksPerWorker = 4
)

// Map calls fn for every item, at most Limit at a time, and returns the
// results in the order of items.
//
// fn receives a context derived from ctx that is cancelled when the first
// fn call fails (with that error as its cause) or when Map returns. After
// the first error no new item starts (items already running finish) and Map
// returns that error with a nil slice; with [CollectErrors] every item runs
// and Map returns every error and the results. If ctx is done first, Map
// stops starting items and returns context.Cause(ctx) (ctx.Err() unless a
// cause was set). If fn panics, the panic is recovered, the other items are
// cancelled, and Map panics on the caller's goroutine with a *PanicError
// holding the original value and stack, even if other items failed first.
// If fn calls runtime.Goexit, see [ErrGoexit].
//
// Map starts at most Limit goroutines (default GOMAXPROCS), whatever the
// number of items, and runs nothing until a unit of the Budget (if any) is
// held; see [Budget] for fan-out nested in fn. Its adaptive rule (see the
// package doc) decides between a plain loop and fan-out.
//
// Costs, against a serial loop (BenchmarkFanout; the figures are in
// BENCHMARKS.md): on tiny items with two cores it wins, where errgroup with
// SetLimit and a goroutine per item cost many times the loop; with one core
// it runs the plain loop and costs about the same. On CPU-heavy items it
// scales with the cores like errgroup does. For items that wait (I/O) at a
// high Limit it matches errgroup's time with far fewer allocations; an
// unbounded goroutine per item is faster, and that is the fan-out that
// floods a downstream.
func Map[T, R any](ctx context.Context, items []T, fn func(context.Context, T) (R, error), opts ...Option) ([]R, error) {
	if ctx == nil || fn == nil {
		panic("fanout: Map with a nil ctx or fn")
	}
	cfg := newConfig(opts)
	j := &job[T, R]{items: items, fn: fn, results: make([]R, len(items))}
	err := j.run(ctx, cfg)
	if err != nil && !cfg.collect {
		return nil, err
	}
	return j.results, err
}

// ForEach calls fn for every item, at most Limit at a time, with the error,
// cancellation, panic and Budget behaviour of [Map].
func ForEach[T any](ctx context.Context, items []T, fn func(context.Context, T) error, opts ...Option) error {
	if ctx == nil || fn == nil {
		panic("fanout: ForEach with a nil ctx or fn")
	}
	j := &job[T, struct{}]{items: items, each: fn}
	return j.run(ctx, newConfig(opts))
}

// job is one Map (fn, results) or ForEach (each) call. The loops call fn
// directly, with no closure between them and fn, so that a loop over tiny
// items costs about what a plain loop costs.
type job[T, R any] struct {
	items   []T
	results []R
	fn      func(context.Context, T) (R, error)
	each    func(context.Context, T) error
}

// run runs every item under cfg and returns the call's error (re-panicking
// an fn panic on the caller's goroutine).
func (j *job[T, R]) run(parent context.Context, cfg config) error {
	if parent.Err() != nil {
		return context.Cause(parent)
	}
	n := len(j.items)
	if n == 0 {
		return nil
	}
	// The unit the caller's goroutine runs items on; released by defer, so
	// that a runtime.Goexit in fn on this goroutine does not leak it.
	u, err := cfg.budget.enter(parent)
	if err != nil {
		return err
	}
	defer u.exit()

	ctx, cancel := context.WithCancelCause(parent)
	o := &outcome{cancel: cancel, collect: cfg.collect}
	if parent.Done() != nil {
		// The loops watch o.stop, not ctx.Done(); this sets it when the
		// parent is cancelled.
		defer context.AfterFunc(parent, o.halt)()
	}
	var wg sync.WaitGroup
	// On every way out (return, a re-panic, a Goexit in fn on this
	// goroutine): stop the workers, cancel fn's ctx, wait for the workers,
	// then (the defer above) give back the unit.
	defer func() {
		o.halt()
		cancel(nil)
		wg.Wait()
	}()

	guard(func() error {
		mine := cfg.budget.mark(ctx)
		switch {
		case cfg.limit == 1:
			j.loop(mine, o, 0, n)
		case cfg.chunk == 0 && cfg.limit <= runtime.GOMAXPROCS(0):
			next, perItem, ok := j.sample(mine, o, n)
			switch {
			case !ok || next == n:
			case perItem == 0 || time.Duration(n-next) < minParallelWork/perItem: // a product could overflow
				j.loop(mine, o, next, n)
			default:
				j.fanOut(mine, ctx, o, &wg, next, perItem, cfg)
			}
		default:
			j.fanOut(mine, ctx, o, &wg, 0, 0, cfg)
		}
		return nil
	}, o.ended)
	wg.Wait()

	var cause error
	if o.skipped.Load() && parent.Err() != nil {
		cause = context.Cause(parent)
	}
	return o.result(cause)
}

// do runs item i and reports whether the loop may go on.
func (j *job[T, R]) do(ctx context.Context, o *outcome, i int) bool {
	var err error
	if j.each != nil {
		err = j.each(ctx, j.items[i])
	} else {
		var r R
		if r, err = j.fn(ctx, j.items[i]); err == nil {
			j.results[i] = r
		}
	}
	return err == nil || o.fail(i, err)
}

// loop runs items [from, to) in order on the calling goroutine and reports
// whether it ran them all: it stops before an item once o.stop is set
// (recording it in o.skipped) and after an item whose error stops the call.
// It is the hot path: per item one atomic load (o.stop) and a direct call of
// fn, in a loop of its own for ForEach and for Map.
func (j *job[T, R]) loop(ctx context.Context, o *outcome, from, to int) bool {
	items := j.items[:to]
	if each := j.each; each != nil {
		for i := from; i < len(items); i++ {
			if o.stop.Load() {
				o.skipped.Store(true)
				return false
			}
			if err := each(ctx, items[i]); err != nil && !o.fail(i, err) {
				return false
			}
		}
		return true
	}
	fn, results := j.fn, j.results[:to]
	for i := from; i < len(items); i++ {
		if o.stop.Load() {
			o.skipped.Store(true)
			return false
		}
		r, err := fn(ctx, items[i])
		if err != nil {
			if !o.fail(i, err) {
				return false
			}
			continue
		}
		results[i] = r
	}
	return true
}

// sample runs items from 0 on the caller's goroutine until sampleTime has
// passed or sampleItems ran, and returns how many ran and their mean cost;
// ok is false if it stopped as loop does.
func (j *job[T, R]) sample(ctx context.Context, o *outcome, n int) (next int, perItem time.Duration, ok bool) {
	start := time.Now()
	var elapsed time.Duration
	for next < n && next < sampleItems && elapsed < sampleTime {
		if o.stop.Load() {
			o.skipped.Store(true)
			return next, 0, false
		}
		if !j.do(ctx, o, next) {
			return next, 0, false
		}
		next++
		elapsed = time.Since(start)
	}
	return next, elapsed / time.Duration(next), true
}

// fanOut starts up to cfg.limit workers for items [from, n), for the
// caller to wait for: the first on the caller's unit, the others each with a
// unit of the budget (if any) got without waiting, so a busy budget slows
// this call down rather than blocking it. The caller waits rather than
// work as one of them: a goroutine it starts and does not wait for stays in
// its P's runnext slot, which another P steals only after a pause.
func (j *job[T, R]) fanOut(mine, ctx context.Context, o *outcome, wg *sync.WaitGroup, from int, perItem time.Duration, cfg config) {
	n := len(j.items)
	remaining := n - from
	workers := min(cfg.limit, remaining)
	chunk := cfg.chunk
	if chunk == 0 {
		chunk = 1
		if perItem > 0 {
			chunk = max(1, min(int(chunkTime/perItem), remaining/workers/chunksPerWorker))
		}
	}
	// A chunk larger than the items is all the items; capping it keeps
	// the arithmetic below far from overflow for any Chunk(n).
	chunk = min(chunk, remaining)
	c := &cursor{from: from, n: n, size: chunk, count: int64(remaining/chunk + min(remaining%chunk, 1))}
	workers = int(min(int64(workers), c.count))

	for w := range workers {
		// Worker 0 runs on the caller's unit, which the caller does not use
		// while it waits; the others only with a unit got without waiting.
		wctx, owned := mine, false
		if w > 0 && cfg.budget != nil {
			if !cfg.budget.tryAcquire() {
				break
			}
			wctx, owned = cfg.budget.mark(ctx), true
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if owned {
				defer cfg.budget.release()
			}
			guard(func() error {
				j.chunks(wctx, o, c)
				return nil
			}, o.ended)
		}()
	}
}

// cursor hands out chunks [from+k*size, from+(k+1)*size) ∩ [from, n) for
// k in [0, count). It counts chunks, not items, so that it never overflows.
type cursor struct {
	next  atomic.Int64
	count int64
	from  int
	n     int
	size  int
}

// chunks runs chunks from c until none is left or o stops the call.
func (j *job[T, R]) chunks(ctx context.Context, o *outcome, c *cursor) {
	for {
		k := c.next.Add(1) - 1
		if k >= c.count {
			return
		}
		start := c.from + int(k)*c.size
		end := start + min(c.size, c.n-start)
		if !j.loop(ctx, o, start, end) {
			return
		}
	}
}
