package hedge

import (
	"context"
	"sync"
	"time"
)

type attemptKey struct{}

// Attempt returns the index of the attempt a ctx passed to fn belongs to: 0
// for the first, 1 for the first hedge, and so on; -1 outside Do. Backends
// can use it to tag hedges as lower priority.
func Attempt(ctx context.Context) int {
	if n, ok := ctx.Value(attemptKey{}).(int); ok {
		return n
	}
	return -1
}

// Do calls fn, and again (up to MaxAttempts in all) each time the hedge
// delay passes without an answer or an attempt fails, and returns the first
// successful result.
//
// Outcome rules (as in gRPC's hedging design, gRFC A6): the first success
// wins and the other attempts' contexts are cancelled; an attempt that
// fails starts the next one at once instead of waiting for the delay; Do
// fails only when every attempt it started has failed, and then returns
// the first attempt's error. If ctx is done first, Do returns ctx.Err() at
// once; attempts still running see their contexts cancelled.
//
// The winner's context is not cancelled when Do returns, so a result that
// still reads from it (an HTTP response body) stays usable; it is released
// when ctx is. Each attempt runs on its own goroutine, which ends when fn
// returns: fn must honour its context for losers to stop promptly.
func Do[T any](ctx context.Context, h *Hedger, fn func(context.Context) (T, error)) (T, error) {
	v, _, err := do(ctx, h, fn, nil)
	return v, err
}

// DoDiscard is Do for results that hold resources: discard is called with
// every successful result that did not win (a losing HTTP response, to
// close its body), on the goroutine that produced it.
func DoDiscard[T any](ctx context.Context, h *Hedger, fn func(context.Context) (T, error), discard func(T)) (T, error) {
	v, _, err := do(ctx, h, fn, discard)
	return v, err
}

type outcome[T any] struct {
	v       T
	err     error
	attempt int
}

// call is the state one Do shares with its attempt goroutines.
type call[T any] struct {
	mu      sync.Mutex
	done    bool            // a winner was taken or Do returned; later results are discarded
	results chan outcome[T] // buffered for every attempt, so an attempt never blocks
	discard func(T)
}

// deliver hands an attempt's outcome to Do, or discards it if Do is done.
func (c *call[T]) deliver(o outcome[T]) {
	c.mu.Lock()
	if !c.done {
		c.results <- o
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	if o.err == nil && c.discard != nil {
		c.discard(o.v)
	}
}

// finish marks the call done and discards results delivered meanwhile.
func (c *call[T]) finish() {
	c.mu.Lock()
	c.done = true
	c.mu.Unlock()
	for {
		select {
		case o := <-c.results:
			if o.err == nil && c.discard != nil {
				c.discard(o.v)
			}
		default:
			return
		}
	}
}

// do runs the hedged call; it returns the winner's cancel func as well,
// for callers (Transport) that can tell when the result is done with.
func do[T any](ctx context.Context, h *Hedger, fn func(context.Context) (T, error), discard func(T)) (T, context.CancelFunc, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, func() {}, err
	}
	delay := h.currentDelay()
	max := h.cfg.maxAttempts
	c := &call[T]{results: make(chan outcome[T], max), discard: discard}
	cancels := make([]context.CancelFunc, 0, max)
	start := func() {
		attempt := len(cancels)
		actx, cancel := context.WithCancel(context.WithValue(ctx, attemptKey{}, attempt))
		cancels = append(cancels, cancel)
		go func() {
			began := time.Now()
			v, err := fn(actx)
			if err == nil {
				h.record(time.Since(began))
			}
			c.deliver(outcome[T]{v, err, attempt})
		}()
	}
	cancelAllBut := func(keep int) {
		for i, cancel := range cancels {
			if i != keep {
				cancel()
			}
		}
	}

	start()
	var timer *time.Timer
	var tick <-chan time.Time
	arm := func() {
		if delay <= 0 || len(cancels) >= max {
			tick = nil
			return
		}
		if timer == nil {
			timer = time.NewTimer(delay)
		} else {
			timer.Reset(delay)
		}
		tick = timer.C
	}
	arm()
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()

	var firstErr error
	failed := 0
	for {
		select {
		case o := <-c.results:
			if o.err == nil {
				c.finish()
				cancelAllBut(o.attempt)
				h.finished(o.attempt, nil)
				return o.v, cancels[o.attempt], nil
			}
			if firstErr == nil || o.attempt == 0 {
				firstErr = o.err
			}
			failed++
			if len(cancels) < max && h.takeToken() {
				start() // an error hedges at once
				arm()
			} else if failed == len(cancels) {
				c.finish()
				cancelAllBut(-1)
				h.finished(0, firstErr)
				return zero, func() {}, firstErr
			}
		case <-tick:
			if !h.takeToken() {
				tick = nil // the budget said no: no more hedges for this call
				continue
			}
			start()
			arm()
		case <-ctx.Done():
			c.finish()
			cancelAllBut(-1)
			return zero, func() {}, ctx.Err()
		}
	}
}
