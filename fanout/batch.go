package fanout

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime/debug"
	"sync"
	"time"
)

// Batch groups items into slices of at most size items, yielding a shorter
// one when maxWait has passed since its first item arrived (maxWait 0: only
// full batches and the last one). Each batch is a new slice the consumer
// may keep. Batches come in the order of items.
//
// With maxWait 0, items is read on the consumer's goroutine: Batch is a
// plain loop. With maxWait > 0 a partial batch must be yielded while items
// is blocked (a slow source), so one goroutine reads items; it reads at
// most two batches ahead of the consumer (one ready, one filling, plus the
// item it holds), and it ends when items does or the consumer stops (breaks
// out, or its loop body panics, which passes through unchanged): the
// reader's next yield then returns false. Stopping waits for the reader,
// since Batch cannot interrupt items: for a source that can block for long,
// make it watch a ctx and cancel that ctx before breaking out.
//
// When ctx is cancelled the sequence ends; items read but not yet yielded
// are dropped, so check ctx.Err() after the loop. A panic in items
// re-panics on the consumer's goroutine as a *[PanicError].
//
// size must be at least 1 and maxWait not negative.
func Batch[T any](ctx context.Context, items iter.Seq[T], size int, maxWait time.Duration) iter.Seq[[]T] {
	if size < 1 {
		panic(fmt.Sprintf("fanout: Batch size %d: must be at least 1", size))
	}
	if maxWait < 0 {
		panic(fmt.Sprintf("fanout: Batch maxWait %v: must not be negative", maxWait))
	}
	if ctx == nil || items == nil {
		panic("fanout: Batch: nil ctx or items")
	}
	if maxWait == 0 {
		return func(yield func([]T) bool) { batchLoop(ctx, items, size, yield) }
	}
	return func(yield func([]T) bool) {
		b := &batcher[T]{size: size, wake: make(chan struct{}, 1), space: make(chan struct{}, 1), stop: make(chan struct{})}
		b.run(ctx, items, maxWait, yield)
	}
}

// batchLoop is Batch without a time trigger.
func batchLoop[T any](ctx context.Context, items iter.Seq[T], size int, yield func([]T) bool) {
	done := ctx.Done()
	var cur []T
	for item := range items {
		select {
		case <-done:
			return
		default:
		}
		if cur == nil {
			cur = make([]T, 0, size)
		}
		cur = append(cur, item)
		if len(cur) == size {
			if !yield(cur) {
				return
			}
			cur = nil
		}
	}
	if len(cur) > 0 && ctx.Err() == nil {
		yield(cur)
	}
}

// batcher is one run of Batch with a time trigger. The reader fills cur
// and moves it to ready when full; the consumer takes ready, or cur once
// its first item is maxWait old, all under mu, so a partial batch can never
// overtake the full one before it.
type batcher[T any] struct {
	size  int
	wake  chan struct{} // reader → consumer: ready, cur's first item, or the end
	space chan struct{} // consumer → reader: ready was taken
	stop  chan struct{} // closed when the consumer stops

	mu      sync.Mutex
	cur     []T
	firstAt time.Time // when cur's first item arrived
	ready   []T       // a full batch, or nil
	ended   bool      // the reader is done
	panic   *PanicError
	stopped bool
}

func (b *batcher[T]) run(ctx context.Context, items iter.Seq[T], maxWait time.Duration, yield func([]T) bool) {
	var wg sync.WaitGroup
	wg.Go(func() { b.read(items) })
	defer func() {
		b.mu.Lock()
		b.stopped = true
		b.mu.Unlock()
		close(b.stop)
		wg.Wait()
	}()
	timer := time.NewTimer(maxWait)
	defer timer.Stop()
	for {
		b.mu.Lock()
		var out []T
		if b.ready != nil {
			out, b.ready = b.ready, nil
			if len(b.cur) == b.size { // filled while ready waited
				b.ready, b.cur = b.cur, nil
			}
			select {
			case b.space <- struct{}{}:
			default:
			}
		} else if len(b.cur) > 0 && (b.ended || time.Since(b.firstAt) >= maxWait) {
			out, b.cur = b.cur, nil
		}
		ended, pe := b.ended, b.panic
		wait := time.Duration(-1)
		if len(b.cur) > 0 {
			wait = maxWait - time.Since(b.firstAt)
		}
		b.mu.Unlock()
		if pe != nil {
			wg.Wait()
			panic(pe)
		}
		if out != nil {
			if ctx.Err() != nil || !yield(out) {
				return
			}
			continue
		}
		if ended {
			return
		}
		var fire <-chan time.Time
		if wait >= 0 {
			timer.Reset(wait)
			fire = timer.C
		}
		select {
		case <-b.wake:
		case <-fire:
		case <-ctx.Done():
			return
		}
	}
}

// read moves items into batches until items ends or the consumer stops.
func (b *batcher[T]) read(items iter.Seq[T]) {
	returned := false
	defer func() {
		b.mu.Lock()
		if v := recover(); v != nil {
			b.panic = &PanicError{Value: v, Stack: debug.Stack()}
		} else if !returned {
			// items called runtime.Goexit: the batches would end short
			// without a word.
			b.panic = &PanicError{Value: errItemsGoexit, Stack: debug.Stack()}
		}
		b.ended = true
		b.mu.Unlock()
		b.signal()
	}()
	b.readAll(items)
	returned = true
}

// errItemsGoexit is the value Batch and Stream panic with when the source
// itself calls runtime.Goexit on their reader goroutine.
var errItemsGoexit = errors.New("fanout: items called runtime.Goexit")

func (b *batcher[T]) readAll(items iter.Seq[T]) {
	for item := range items {
		b.mu.Lock()
		for len(b.cur) == b.size { // ready is taken: wait for the consumer
			b.mu.Unlock()
			select {
			case <-b.space:
			case <-b.stop:
				return
			}
			b.mu.Lock()
		}
		if b.stopped {
			b.mu.Unlock()
			return
		}
		if b.cur == nil {
			b.cur = make([]T, 0, b.size)
			b.firstAt = time.Now()
		}
		b.cur = append(b.cur, item)
		first := len(b.cur) == 1
		full := len(b.cur) == b.size && b.ready == nil
		if full {
			b.ready, b.cur = b.cur, nil
		}
		b.mu.Unlock()
		if first || full {
			b.signal()
		}
	}
}

func (b *batcher[T]) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}
