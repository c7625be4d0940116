package fanout

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// The adaptive rule. With a Limit above GOMAXPROCS, fn is taken to be
// I/O-bound (it waits more than it computes, or more calls than cores would
// not help) and fanout starts its workers at once, one item at a time:
// timing a first item that takes a millisecond would delay the whole call
// by that millisecond. Otherwise it times the first items on the caller's
// goroutine until sampleTime has passed (or sampleItems items ran), then:
//
//   - if the remaining items' estimated cost is under minParallelWork, it
//     runs them in the same loop: starting, scheduling and joining a second
//     goroutine costs a few microseconds, which such a job cannot win back;
//   - otherwise it starts up to Limit workers, each taking chunks of
//     consecutive items from a shared atomic cursor, sized so that one chunk
//     takes about chunkTime (the cursor's cache line then moves between
//     cores rarely) but every worker still gets at least 4 chunks to even
//     out uneven items.
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
// fn call fails or when Map returns. After the first error no new item
// starts (items already running finish) and Map returns that error with a
// nil slice. If ctx is cancelled first, Map stops starting items and
// returns ctx.Err(). If fn panics, the panic is recovered on the worker, the
// other items are cancelled, and Map panics on the caller's goroutine with a
// *PanicError holding the original value and stack.
//
// Map starts at most Limit goroutines (default GOMAXPROCS), whatever the
// number of items, and none until a unit of the Budget (if any) is held.
// Its adaptive rule (see the package doc) decides between a plain loop and
// fan-out. Measured on a 2-core x86-64 VM (BenchmarkFanout, one call at a
// time, -count 6, benchstat), as ratios to a serial loop:
//
//   - 10k items of ~34 ns: 0.85x at 2 procs, while errgroup with SetLimit
//     costs 13x and a goroutine per item 18x. With one proc fanout loses:
//     1.19x, the price of timing and chunking with no second core to use.
//   - 256 CPU items of ~21 us: 0.52x at 2 procs (errgroup 0.56x); 1.0x on
//     one proc.
//   - 400 items sleeping 1 ms at Limit(100): 0.97x errgroup's time with
//     315 allocations per call against its 1204; an unbounded goroutine per
//     item is 3x faster, and that is the fan-out that floods a downstream.
func Map[T, R any](ctx context.Context, items []T, fn func(context.Context, T) (R, error), opts ...Option) ([]R, error) {
	results := make([]R, len(items))
	err := run(ctx, len(items), func(ctx context.Context, i int) error {
		r, err := fn(ctx, items[i])
		if err != nil {
			return err
		}
		results[i] = r
		return nil
	}, newConfig(opts))
	if err != nil {
		return nil, err
	}
	return results, nil
}

// ForEach calls fn for every item, at most Limit at a time, with the error,
// cancellation and panic behaviour of [Map].
func ForEach[T any](ctx context.Context, items []T, fn func(context.Context, T) error, opts ...Option) error {
	return run(ctx, len(items), func(ctx context.Context, i int) error {
		return fn(ctx, items[i])
	}, newConfig(opts))
}

// run calls do(ctx, i) for i in [0, n).
func run(parent context.Context, n int, do func(context.Context, int) error, cfg config) error {
	if err := parent.Err(); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	// One unit for the caller's goroutine, which runs the first items. It
	// passes to the first worker if the call fans out.
	if cfg.budget != nil {
		if err := cfg.budget.acquire(parent); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithCancel(parent)
	defer cancel()

	var next int
	var perItem time.Duration
	var err error
	switch {
	case cfg.limit == 1:
		next, err = loop(ctx, 0, n, do)
	case cfg.chunk == 0 && cfg.limit <= runtime.GOMAXPROCS(0):
		next, perItem, err = sample(ctx, n, do)
		if err == nil && next < n && time.Duration(n-next)*perItem < minParallelWork {
			next, err = loop(ctx, next, n, do)
		}
	}
	if err == nil && next < n && ctx.Err() == nil {
		return fanOut(ctx, parent, next, n, perItem, do, cfg) // releases the caller's unit
	}
	if cfg.budget != nil {
		cfg.budget.release()
	}
	return finish(parent, err, next == n)
}

// finish turns a run's outcome into Map's error, re-panicking a fn panic on
// the caller's goroutine.
func finish(parent context.Context, err error, complete bool) error {
	if pe, ok := errors.AsType[*PanicError](err); ok {
		panic(pe)
	}
	if err == nil && !complete {
		// Workers stop without an error only when ctx was cancelled.
		return parent.Err()
	}
	return err
}

// sample runs items from 0 on the caller's goroutine until sampleTime has
// passed or sampleItems ran, and returns how many ran and their mean cost.
func sample(ctx context.Context, n int, do func(context.Context, int) error) (next int, perItem time.Duration, err error) {
	defer recoverInto(&err)
	start := time.Now()
	var elapsed time.Duration
	for next < n && next < sampleItems && elapsed < sampleTime {
		if ctx.Err() != nil {
			return next, 0, nil
		}
		if err := do(ctx, next); err != nil {
			return next, 0, err
		}
		next++
		elapsed = time.Since(start)
	}
	return next, elapsed / time.Duration(next), nil
}

// loop runs items [from, n) in order on the calling goroutine and returns
// how far it got.
func loop(ctx context.Context, from, n int, do func(context.Context, int) error) (next int, err error) {
	defer recoverInto(&err)
	done := ctx.Done()
	for next = from; next < n; next++ {
		select {
		case <-done:
			return next, nil
		default:
		}
		if err := do(ctx, next); err != nil {
			return next, err
		}
	}
	return n, nil
}

// fanOut runs items [from, n) on up to cfg.limit workers. The caller's
// budget unit (if any) goes to the first worker; further workers start only
// with a unit they got without waiting, so a busy budget slows this call
// down rather than blocking it.
func fanOut(ctx, parent context.Context, from, n int, perItem time.Duration, do func(context.Context, int) error, cfg config) error {
	remaining := n - from
	workers := min(cfg.limit, remaining)
	chunk := cfg.chunk
	if chunk == 0 {
		chunk = 1
		if perItem > 0 {
			chunk = max(1, min(int(chunkTime/perItem), remaining/(workers*chunksPerWorker)))
		}
	}
	workers = min(workers, (remaining+chunk-1)/chunk)

	var cursor atomic.Int64
	cursor.Store(int64(from))
	// stopped records that a worker quit because ctx was done; it is not
	// a count of items, which would put a shared atomic on every item.
	var stopped atomic.Bool
	g, gctx := errgroup.WithContext(ctx)
	for w := range workers {
		if w > 0 && cfg.budget != nil && !cfg.budget.tryAcquire() {
			break
		}
		g.Go(func() (err error) {
			if cfg.budget != nil {
				defer cfg.budget.release()
			}
			defer recoverInto(&err)
			done := gctx.Done()
			for {
				start := int(cursor.Add(int64(chunk))) - chunk
				if start >= n {
					return nil
				}
				end := min(start+chunk, n)
				for i := start; i < end; i++ {
					select {
					case <-done:
						stopped.Store(true)
						return nil
					default:
					}
					if err := do(gctx, i); err != nil {
						return err
					}
				}
			}
		})
	}
	err := g.Wait()
	return finish(parent, err, !stopped.Load())
}
