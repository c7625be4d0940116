package fanout

import (
	"context"
	"fmt"
	"sync"

	"golang.org/x/sync/semaphore"
)

// Group runs tasks of different shapes under one context, with the same
// rules as Map: at most Limit at once (default GOMAXPROCS), units of a
// Budget if one is given, the first error cancelling the group's context,
// and panics recovered on the task's goroutine and re-panicked on the
// caller's as *PanicError (a panic wins over errors). It is
// x/sync/errgroup with those rules added, and with no task lost silently:
//
//   - a task that Go does not start, because the group's context is done
//     before it could (already, or while Go waited for a slot or a unit), is
//     reported: Wait returns the cause of the cancellation (the first task's
//     error, or context.Cause of the parent), and its Future returns an error;
//   - a task that calls runtime.Goexit is reported as [ErrGoexit].
//
// Use Go for tasks that only report an error and Spawn for tasks with a
// typed result. A Group is for one batch of work: create it with NewGroup
// (the zero Group is not usable), add tasks, Wait (or defer Stop) once.
//
// Fan-out nested under a Budget: a Group created with the ctx of an fn
// that holds a unit of the same Budget runs a task on the calling
// goroutine, on that fn's unit, when no other unit is free, rather than wait
// for one (see [Budget]).
type Group struct {
	ctx    context.Context // the tasks' ctx (before mark)
	cancel context.CancelCauseFunc
	budget *Budget
	slots  *semaphore.Weighted // Limit
	wg     sync.WaitGroup
	o      outcome
}

// NewGroup returns a Group and the context its tasks receive, derived from
// ctx and cancelled when a task fails (with its error as the cause), when
// Stop is called, or when Wait returns. Of the options, Limit and WithBudget
// apply; Chunk and CollectErrors have no meaning for a Group and panic.
func NewGroup(ctx context.Context, opts ...Option) (*Group, context.Context) {
	if ctx == nil {
		panic("fanout: NewGroup(nil ctx)")
	}
	cfg := newConfig(opts)
	if cfg.chunk != 0 {
		panic("fanout: NewGroup(Chunk(…)): Chunk applies to Map and ForEach only")
	}
	if cfg.collect {
		panic("fanout: NewGroup(CollectErrors()): CollectErrors applies to Map and ForEach only")
	}
	ctx, cancel := context.WithCancelCause(ctx)
	g := &Group{ctx: ctx, cancel: cancel, budget: cfg.budget, slots: semaphore.NewWeighted(int64(cfg.limit))}
	g.o.cancel = cancel
	return g, ctx
}

// Go starts fn in a new goroutine once fewer than Limit tasks run and,
// if the group has a Budget, once it holds a unit, waiting for the slot
// first and then for the unit (so that a Go waiting for a slot holds no
// unit another caller could use). Nested under an fn of the same Budget, it
// may instead run fn on the calling goroutine, on that fn's unit (see
// [Group]). If the group's context is done before fn could start, fn does
// not run and Wait reports it.
func (g *Group) Go(fn func(ctx context.Context) error) {
	g.start(fn, true, nil)
}

// TryGo starts fn like Go only if a slot and, if the group has a Budget, a
// unit are free now and the group's context is not done, and reports
// whether it did. It never waits; a task it did not start is the caller's
// to handle and is not reported by Wait.
func (g *Group) TryGo(fn func(ctx context.Context) error) bool {
	return g.start(fn, false, nil)
}

// start starts fn, waiting for a slot and a unit if wait is set. end, if not
// nil, learns how the task ended: nil, its error, a *PanicError, ErrGoexit,
// or why it did not start.
func (g *Group) start(fn func(ctx context.Context) error, wait bool, end func(error)) bool {
	g.check()
	if fn == nil {
		panic("fanout: Group.Go(nil)")
	}
	if g.ctx.Err() != nil {
		return g.skip(wait, end)
	}
	// The slot first, then the unit.
	if !wait {
		if !g.slots.TryAcquire(1) {
			return false
		}
	} else if g.slots.Acquire(g.ctx, 1) != nil {
		return g.skip(wait, end)
	}
	var u unit
	if g.budget != nil {
		switch {
		case g.budget.tryAcquire():
			u = unit{b: g.budget}
		case !wait:
			g.slots.Release(1)
			return false
		default:
			// Nested under an fn of the same Budget, enter may lend this
			// goroutine's unit: the task then runs here, on it.
			var err error
			if u, err = g.budget.enter(g.ctx); err != nil {
				g.slots.Release(1)
				return g.skip(wait, end)
			}
		}
	}
	if g.ctx.Err() != nil { // done while this Go waited
		u.exit()
		g.slots.Release(1)
		return g.skip(wait, end)
	}
	task := func() {
		defer g.slots.Release(1)
		defer u.exit()
		ctx := g.budget.mark(g.ctx)
		guard(func() error { return fn(ctx) }, func(e ending) {
			g.o.ended(e)
			err := e.err
			switch {
			case e.panic != nil:
				err = e.panic
			case e.goexit:
				err = ErrGoexit
			case err != nil:
				g.o.fail(0, err)
			}
			if end != nil {
				end(err)
			}
		})
	}
	if u.lease != nil {
		task()
		return true
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		task()
	}()
	return true
}

func (g *Group) check() {
	if g == nil || g.ctx == nil {
		panic("fanout: Group used without NewGroup")
	}
}

// skip records a task Go did not start, for Wait and end, and returns
// false. TryGo's caller learns it from TryGo's result instead.
func (g *Group) skip(wait bool, end func(error)) bool {
	if !wait {
		return false
	}
	cause := context.Cause(g.ctx)
	g.o.mu.Lock()
	if g.o.skippedCause == nil {
		g.o.skippedCause = cause
	}
	g.o.mu.Unlock()
	if end != nil {
		end(fmt.Errorf("fanout: task not started: %w", cause))
	}
	return false
}

// Wait waits for every task, then returns the first error (ErrGoexit for
// a task that called runtime.Goexit), or if there is none and a task was not
// started, the cause of the cancellation that stopped it; or re-panics a
// task's panic as *PanicError, even if another task failed first.
//
// Wait and Stop must not be called from one of the group's tasks: they wait
// for every task, that one included.
func (g *Group) Wait() error {
	g.check()
	g.wg.Wait()
	g.cancel(nil)
	g.o.mu.Lock()
	cause := g.o.skippedCause
	g.o.mu.Unlock()
	return g.o.result(cause)
}

// Stop cancels the group's context and waits for the tasks, for use with
// defer so that an early return never leaves tasks running. It returns what
// Wait returns.
func (g *Group) Stop() error {
	g.check()
	g.cancel(nil)
	return g.Wait()
}

// Future is the typed result of a task started with Spawn (the zero Future
// is not usable).
type Future[R any] struct {
	done chan struct{}
	v    R
	err  error
}

// Get waits for the task to end and returns its result and error. A task
// that did not run returns an error that wraps the cause (never a zero
// result with a nil error), one that panicked its *PanicError, one that
// called runtime.Goexit ErrGoexit.
func (f *Future[R]) Get() (R, error) {
	if f.done == nil {
		panic("fanout: Future not made by Spawn")
	}
	<-f.done
	return f.v, f.err
}

// Spawn starts fn in g like Go and returns its typed result, readable with
// Get.
func Spawn[R any](g *Group, fn func(ctx context.Context) (R, error)) *Future[R] {
	if fn == nil {
		panic("fanout: Spawn(nil)")
	}
	f := &Future[R]{done: make(chan struct{})}
	g.start(func(ctx context.Context) error {
		var err error
		f.v, err = fn(ctx)
		return err
	}, true, func(err error) {
		f.err = err
		close(f.done)
	})
	return f
}
