package fanout

import (
	"errors"
	"runtime/debug"

	"github.com/breakeven-go/breakeven/internal/panics"
)

// PanicError is the value fanout re-panics with on the caller's goroutine
// when fn panics: the original value and the stack of the goroutine that
// panicked, which the re-panic would otherwise lose.
//
// Why re-panic rather than return it as an error: a panic is a bug, and an
// error return is easy to log and forget; errgroup's attempt to return
// panics as errors was reverted for that reason (golang/go#53757). A caller
// that wants to survive it can recover and inspect the *PanicError. A panic
// wins over errors: when one item panics and others fail, the caller gets
// the panic. An error that fn returns is only ever returned, even if it
// wraps a *PanicError that fn recovered itself.
type PanicError struct {
	Value any    // what fn passed to panic
	Stack []byte // the panicking goroutine's stack, from debug.Stack
}

// Error returns the panic value and the stack it was raised on.
func (p *PanicError) Error() string {
	return panics.Message("fanout", p.Value, p.Stack)
}

// Unwrap returns Value if it is an error, so errors.Is and errors.As see
// through a recovered *PanicError.
func (p *PanicError) Unwrap() error {
	return panics.Unwrap(p.Value)
}

// ErrGoexit is the error a Group task, or a Map or ForEach item run on a
// worker goroutine, is reported with when it calls runtime.Goexit (as
// t.FailNow and t.Fatal do): the goroutine ends, the other items or tasks
// are cancelled as on an error, and Wait, Map or ForEach return ErrGoexit
// (unless another error came first) instead of counting the task as a
// success.
//
// fanout reports it rather than calling runtime.Goexit again on the
// caller's goroutine: ending the caller silently (an HTTP handler, a
// service's main loop) hides the bug further from where it happened. An fn
// that calls Goexit on the caller's own goroutine (Limit(1), or the first
// items, which fanout runs on the caller's goroutine) ends the caller, as in
// a plain loop; fanout still releases its Budget unit and cancels the
// other items.
var ErrGoexit = errors.New("fanout: fn called runtime.Goexit (t.FailNow or t.Fatal outside the test's goroutine?)")

// ending is how a function run by guard ended.
type ending struct {
	err    error       // what it returned
	panic  *PanicError // non-nil if it panicked
	goexit bool        // it called runtime.Goexit
}

// guard runs f and passes end how f ended: returned, panicked (recovered
// into a *PanicError with the panicking stack) or called runtime.Goexit.
// end runs by defer, so it runs on Goexit too, which then goes on ending
// the goroutine. It is called once per worker or task, not per item.
func guard(f func() error, end func(ending)) {
	var e ending
	normal := false
	defer func() {
		if !normal {
			if r := recover(); r != nil {
				e.panic = &PanicError{Value: r, Stack: debug.Stack()}
			} else {
				e.goexit = true
			}
		}
		end(e)
	}()
	e.err = f()
	normal = true
}
