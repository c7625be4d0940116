package fanout

import (
	"fmt"
	"runtime/debug"
)

// PanicError is the value fanout re-panics with on the caller's goroutine
// when fn panics: the original value and the stack of the goroutine that
// panicked, which the re-panic would otherwise lose.
//
// Why re-panic rather than return it as an error: a panic is a bug, and an
// error return is easy to log and forget; errgroup's attempt to return
// panics as errors was reverted for that reason (golang/go#53757). A caller
// that wants to survive it can recover and inspect the *PanicError.
type PanicError struct {
	Value any    // what fn passed to panic
	Stack []byte // the panicking goroutine's stack, from debug.Stack
}

func (p *PanicError) Error() string {
	return fmt.Sprintf("fanout: fn panicked: %v\n\n%s", p.Value, p.Stack)
}

// Unwrap returns Value if it is an error, so errors.Is and errors.As see
// through a recovered *PanicError.
func (p *PanicError) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// recoverInto turns a panic in the deferring function into a *PanicError
// in *err. It is deferred once per worker loop, not per item, so the
// recovery costs nothing per item.
func recoverInto(err *error) {
	if r := recover(); r != nil {
		*err = &PanicError{Value: r, Stack: debug.Stack()}
	}
}
