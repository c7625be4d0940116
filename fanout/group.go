package fanout

import (
	"context"

	"golang.org/x/sync/errgroup"
)

// Group runs tasks of different shapes under one context, with the same
// rules as Map: at most Limit at once (default GOMAXPROCS), units of a
// Budget if one is given, the first error cancelling the group's context,
// and panics recovered on the task's goroutine and re-panicked on the
// caller's as *PanicError. It is x/sync/errgroup with those rules added.
//
// Use Go for tasks that only report an error and Spawn for tasks with a
// typed result. A Group is for one batch of work: create it, add tasks,
// Wait (or defer Stop) once.
type Group struct {
	eg     *errgroup.Group
	ctx    context.Context
	cancel context.CancelFunc
	budget *Budget
}

// NewGroup returns a Group and the context its tasks receive, derived from
// ctx and cancelled when a task fails, when Stop is called, or when Wait
// returns. Of the options, Limit and WithBudget apply; Chunk has no meaning
// for a Group and panics.
func NewGroup(ctx context.Context, opts ...Option) (*Group, context.Context) {
	cfg := newConfig(opts)
	if cfg.chunk != 0 {
		panic("fanout: NewGroup(Chunk(…)): Chunk applies to Map and ForEach only")
	}
	ctx, cancel := context.WithCancel(ctx)
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(cfg.limit)
	return &Group{eg: eg, ctx: ctx, cancel: cancel, budget: cfg.budget}, ctx
}

// Go starts fn once fewer than Limit tasks run (blocking until then), and
// once a Budget unit is held if the group has a Budget. If the group's
// context is already done, fn is not started.
func (g *Group) Go(fn func(ctx context.Context) error) {
	if g.ctx.Err() != nil {
		return
	}
	if g.budget != nil {
		if err := g.budget.acquire(g.ctx); err != nil {
			return // the group is cancelled; Wait reports why
		}
	}
	g.eg.Go(func() (err error) {
		if g.budget != nil {
			defer g.budget.release()
		}
		defer recoverInto(&err)
		if g.ctx.Err() != nil {
			return nil // cancelled while waiting for a slot: do not start
		}
		return fn(g.ctx)
	})
}

// Wait waits for every task, then returns the first error (or re-panics a
// task's panic as *PanicError).
func (g *Group) Wait() error {
	err := g.eg.Wait()
	g.cancel()
	return finish(context.Background(), err, true)
}

// Stop cancels the group's context and waits for the tasks, for use with
// defer so that an early return never leaves tasks running.
func (g *Group) Stop() error {
	g.cancel()
	return g.Wait()
}

// Future is the typed result of a task started with Spawn.
type Future[R any] struct {
	v   R
	err error
}

// Get returns the task's result and error. Call it after Wait: before, the
// task may not have finished.
func (f *Future[R]) Get() (R, error) { return f.v, f.err }

// Spawn starts fn in g like Go and returns its typed result, readable with
// Get after g.Wait.
func Spawn[R any](g *Group, fn func(ctx context.Context) (R, error)) *Future[R] {
	f := new(Future[R])
	g.Go(func(ctx context.Context) error {
		f.v, f.err = fn(ctx)
		return f.err
	})
	return f
}
