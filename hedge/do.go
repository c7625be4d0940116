package hedge

import (
	"context"
	"errors"
	"runtime/debug"
	"time"

	"github.com/breakeven-go/breakeven/internal/panics"
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
// wins; an attempt that fails starts the next one at once instead of
// waiting for the delay, if the Budget allows; Do fails only when every
// attempt it started has failed, and then returns the first attempt's
// result and error. If ctx is done first, Do returns ctx.Err() at once.
//
// Nothing outlives the call but the attempts' goroutines: when Do returns,
// every attempt's context is cancelled, the winner's included, and the
// goroutine of an attempt still running ends when its fn returns, so fn
// must honour its context for losers to stop promptly. A result that keeps
// reading from its attempt's context after Do returns (a response body)
// needs [DoWith] with KeepContext.
//
// If fn panics while Do is waiting, Do cancels the other attempts and
// panics on the caller's goroutine with a [*PanicError] holding the value
// and the stack of the attempt that panicked.
func Do[T any](ctx context.Context, h *Hedger, fn func(context.Context) (T, error)) (T, error) {
	v, _, err := DoWith(ctx, h, fn, Results[T]{})
	return v, err
}

// DoDiscard is Do for results that hold resources: discard is called with
// every result that fn returned with a nil error and Do does not return (a
// losing HTTP response, to close its body). It runs on the goroutine of
// the attempt that produced the result, after that attempt's context is
// cancelled, never on the caller's goroutine, so a discard that blocks
// never delays Do.
func DoDiscard[T any](ctx context.Context, h *Hedger, fn func(context.Context) (T, error), discard func(T)) (T, error) {
	v, _, err := DoWith(ctx, h, fn, Results[T]{Discard: discard})
	return v, err
}

// Results says how [DoWith] treats the results of a hedged call. The zero
// value is Do's behaviour: an attempt fails when it returns an error,
// nothing is discarded, and the winner's context ends with the call.
type Results[T any] struct {
	// Failed classifies an attempt's outcome: true if it counts as a
	// failure (a "server busy" reply, an error worth another try). A failed
	// attempt starts the next one at once, as an error does; if every
	// attempt fails, the call returns the first attempt's v and err. Nil
	// means err != nil.
	Failed func(v T, err error) bool
	// Discard, if set, is called with every result that fn returned with a
	// nil error and the call does not return, as in DoDiscard.
	Discard func(v T)
	// KeepContext keeps the returned attempt's context alive after the call
	// returns, for results that still read from it (an HTTP response
	// body), until the caller calls the release func DoWith returns.
	KeepContext bool
}

// DoWith is Do with r's classification, discard and context lifetime. It
// returns release, which ends the returned attempt's context: with
// r.KeepContext, call it once done with v (until then the context stays
// registered with ctx); without, the context has already ended and release
// does nothing. release is never nil.
func DoWith[T any](ctx context.Context, h *Hedger, fn func(context.Context) (T, error), r Results[T]) (v T, release func(), err error) {
	if err := ctx.Err(); err != nil {
		return v, noRelease, err
	}
	return run(ctx, h, fn, r)
}

func noRelease() {}

// PanicError is the value Do re-panics with on the caller's goroutine when
// an attempt's fn panics: the original value and the stack of the attempt
// that panicked, which a re-panic would otherwise lose. As in fanout, a
// panic is a bug, so it is passed on rather than turned into an error. A
// panic in an attempt that ends after the call returned has no caller to
// reach; it is counted in Stats.LostPanics.
type PanicError struct {
	Value any    // what fn passed to panic
	Stack []byte // the panicking goroutine's stack, from debug.Stack
}

// Error returns the panic value and the stack of the attempt that panicked.
func (p *PanicError) Error() string {
	return panics.Message("hedge", p.Value, p.Stack)
}

// Unwrap returns Value if it is an error, so errors.Is and errors.As see
// through a recovered *PanicError.
func (p *PanicError) Unwrap() error {
	return panics.Unwrap(p.Value)
}

// errGoexit is the error of an attempt whose fn called runtime.Goexit: the
// attempt failed, and the caller must not wait for it forever.
var errGoexit = errors.New("hedge: fn called runtime.Goexit")

type outcome[T any] struct {
	v       T
	err     error
	failed  bool
	panic   *PanicError
	attempt int
}

// attempt is the caller's handle on one attempt.
type attempt struct {
	cancel context.CancelFunc
	// verdict answers a delivered outcome: true if the caller keeps the
	// result, false if the attempt's goroutine must discard it.
	verdict chan bool
}

// run is the hedged call. Every attempt runs on its own goroutine and hands
// its outcome to the caller over results, then waits for the verdict, so
// that a result is discarded on the goroutine that produced it and never
// on the caller's. Once the call is done (done closed) an attempt discards
// its result without asking.
func run[T any](ctx context.Context, h *Hedger, fn func(context.Context) (T, error), r Results[T]) (T, func(), error) {
	var zero T
	delay := h.currentDelay()
	maxAttempts := h.cfg.maxAttempts
	results := make(chan outcome[T])
	done := make(chan struct{})
	attempts := make([]attempt, 0, maxAttempts)

	start := func() {
		i := len(attempts)
		actx, cancel := context.WithCancel(context.WithValue(ctx, attemptKey{}, i))
		verdict := make(chan bool, 1)
		attempts = append(attempts, attempt{cancel, verdict})
		go func() {
			var o outcome[T]
			o.attempt = i
			returned := false
			began := time.Now()
			defer func() {
				if !returned {
					if p := recover(); p != nil {
						o.panic = &PanicError{Value: p, Stack: debug.Stack()}
					} else {
						o.err, o.failed = errGoexit, true
					}
				}
				select {
				case results <- o:
					if <-verdict {
						return // the caller returns it
					}
				case <-done:
					if o.panic != nil {
						h.lostPanic()
					}
				}
				if o.panic == nil && o.err == nil && r.Discard != nil {
					// The caller cancelled this attempt before closing
					// done; cancelling here too makes the order hold on
					// this goroutine, whatever the interleaving: a
					// discard never waits on a body that streams until
					// its attempt is cancelled.
					cancel()
					r.Discard(o.v)
				}
			}()
			o.v, o.err = fn(actx)
			returned = true
			if r.Failed != nil {
				o.failed = r.Failed(o.v, o.err)
			} else {
				o.failed = o.err != nil
			}
			if !o.failed {
				h.record(time.Since(began))
			}
		}()
	}

	var timer *time.Timer
	var tick <-chan time.Time
	arm := func() {
		if delay <= 0 || len(attempts) >= maxAttempts {
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
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()

	// held is attempt 0's outcome once it failed: what the call returns if
	// every attempt fails.
	var held *outcome[T]
	// finish ends the call: it cancels every attempt but keep (-1: none),
	// then lets late results be discarded, then answers a held outcome
	// that is not returned. (A loser also cancels its own context before
	// its discard runs, so that order does not rest on this one.)
	finish := func(keep int) {
		for i, a := range attempts {
			if i != keep {
				a.cancel()
			}
		}
		close(done)
		if held != nil && keep != 0 {
			attempts[0].verdict <- false
		}
	}
	returned := func(o outcome[T]) (T, func(), error) {
		finish(o.attempt)
		attempts[o.attempt].verdict <- true
		release := attempts[o.attempt].cancel
		if !r.KeepContext {
			release()
			release = noRelease
		}
		return o.v, release, o.err
	}

	start()
	arm()
	failed := 0
	judged, hedged := false, false // MinWins asked; a timed hedge started
	for {
		var o outcome[T]
		select {
		case o = <-results:
		case <-tick:
			select {
			case o = <-results:
				// The timer and an answer were both ready (the caller
				// was waiting for a CPU): the answer came in time, so
				// it is handled and no hedge is started for it.
			default:
				if !judged {
					// Whether this call gets a hedge at all is decided
					// once: a refused hedge asked for again, or a
					// later hedge, is not a new call to judge.
					judged = true
					if !h.worthHedging() {
						tick = nil // wait for the first attempt
						continue
					}
				}
				if !h.takeToken() {
					// The budget said no, most likely because a burst
					// of calls outlived the delay together (the process
					// stalled) and spent the saved tokens. Ask again one
					// delay later: calls that were merely late have
					// ended by then, and a call that is really slow
					// still gets its hedge once the budget has earned a
					// token.
					arm()
					continue
				}
				hedged = true
				start()
				arm()
				continue
			}
		case <-ctx.Done():
			finish(-1)
			return zero, noRelease, ctx.Err()
		}
		if o.panic != nil {
			finish(-1)
			attempts[o.attempt].verdict <- false
			h.finished(o.attempt, true, hedged)
			panic(o.panic)
		}
		if !o.failed {
			h.finished(o.attempt, false, hedged)
			return returned(o)
		}
		failed++
		if o.attempt == 0 {
			first := o // a copy, so o itself stays on the stack
			held = &first
		} else {
			attempts[o.attempt].cancel()
			attempts[o.attempt].verdict <- false
		}
		if len(attempts) < maxAttempts && h.takeToken() {
			start() // a failure hedges at once
			arm()
		} else if failed == len(attempts) {
			h.finished(0, true, hedged)
			return returned(*held)
		}
	}
}
