package fanout

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
)

// outcome collects how the items or tasks of one call ended: the first
// error (or, with CollectErrors, every error), and the first panic, which
// wins over any error.
type outcome struct {
	// stop is set on the first failure and when the parent ctx is done;
	// loops check it before every item (an atomic load, cheaper than a
	// select on ctx.Done()) and start no item once it is set.
	stop atomic.Bool
	// skipped records that a loop quit with items left because stop was
	// set: a flag per loop, not a count of items, which would put a shared
	// atomic on every item.
	skipped atomic.Bool

	cancel  context.CancelCauseFunc // cancels the items' ctx with the failure as cause
	collect bool                    // CollectErrors: record every error, stop on none

	mu    sync.Mutex
	err   error        // first error (or ErrGoexit)
	errs  []indexedErr // every error, with CollectErrors
	panic *PanicError  // first panic

	skippedCause error // Group: why the first task Go did not start
}

type indexedErr struct {
	i   int
	err error
}

// halt stops new items from starting.
func (o *outcome) halt() { o.stop.Store(true) }

// fail records that item i returned err and reports whether the caller's
// loop may go on with its next item.
func (o *outcome) fail(i int, err error) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.collect {
		o.errs = append(o.errs, indexedErr{i, err})
		return true
	}
	if o.err == nil {
		o.err = err
	}
	o.stop.Store(true)
	o.cancel(err)
	return false
}

// ended records how a worker or task ended (see guard). A panic or Goexit
// stops everything, with CollectErrors too: they are not an item's error.
func (o *outcome) ended(e ending) {
	switch {
	case e.panic != nil:
		o.mu.Lock()
		if o.panic == nil {
			o.panic = e.panic
		}
		o.mu.Unlock()
		o.stop.Store(true)
		o.cancel(e.panic)
	case e.goexit:
		o.mu.Lock()
		if o.collect {
			o.errs = append(o.errs, indexedErr{int(^uint(0) >> 1), ErrGoexit}) // after every item
		} else if o.err == nil {
			o.err = ErrGoexit
		}
		o.mu.Unlock()
		o.stop.Store(true)
		o.cancel(ErrGoexit)
	}
}

// result returns the call's error, re-panicking a recorded panic on the
// calling goroutine. cause is the parent ctx's cause if items were skipped
// for it (nil otherwise).
func (o *outcome) result(cause error) error {
	o.mu.Lock()
	pe, err, errs := o.panic, o.err, o.errs
	o.mu.Unlock()
	if pe != nil {
		panic(pe)
	}
	if o.collect {
		slices.SortStableFunc(errs, func(a, b indexedErr) int { return cmp.Compare(a.i, b.i) })
		all := make([]error, 0, len(errs)+1)
		for _, e := range errs {
			all = append(all, e.err)
		}
		return errors.Join(append(all, cause)...)
	}
	if err != nil {
		return err
	}
	return cause
}
