package shed

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Queued puts a short, bounded wait queue in front of a Limiter, managed the
// way Facebook's "Fail at Scale" describes: a request that finds no free
// slot waits for one instead of being shed at once, but
//
//   - only while the queue is healthy: if it has not been empty within the
//     last 100 ms, or a waiter timed out within it, the queue is standing,
//     and a request may wait only 5 ms instead of 100 ms (CoDel's rule,
//     which tells a burst from a standing queue);
//   - a standing queue serves its newest waiters first (adaptive LIFO): they
//     are the ones whose clients are still waiting, where the oldest have
//     likely given up;
//   - a request whose ctx deadline comes before its expected wait (queue
//     position x recent service time / limit) is refused at once: it would
//     time out in the queue anyway;
//   - at most Size requests wait; the rest are shed at once.
//
// A queue is for bursts. Under sustained overload it only adds waiting:
// in front of NewInFlight or NewAdaptive (whose limit already lets a short
// queue form at the backend) it keeps the same goodput and raises the
// accepted p99 (TestOverloadOverHTTP logs both).
//
// Every release through the queue hands its slot to a waiter, so the inner
// limiter should not be used directly by others at the same time: their
// releases would not wake a waiter.
//
// A Queued is safe for concurrent use; build one with [NewQueued].
type Queued struct {
	inner          Limiter
	size           int
	target, window time.Duration

	mu          sync.Mutex
	waiters     list.List // of *waiter, oldest at the front
	lastEmpty   time.Time
	lastTimeout time.Time     // a waiter was shed for waiting too long
	service     time.Duration // EWMA of how long admitted requests hold a slot

	queuedNow                  atomic.Int64
	timedOut, deadlineRefused  atomic.Uint64
	servedFromQueue, queueShed atomic.Uint64
}

type waiter struct {
	ctx     context.Context
	granted chan Permit // buffered 1
	elem    *list.Element
}

// NewQueued returns inner with a wait queue of at most size requests; size
// must be at least 1.
func NewQueued(inner Limiter, size int) *Queued {
	if inner == nil || size < 1 {
		panic(fmt.Sprintf("shed: NewQueued(%T, %d): want a limiter and size >= 1", inner, size))
	}
	return &Queued{inner: inner, size: size, target: 5 * time.Millisecond, window: 100 * time.Millisecond, lastEmpty: time.Now()}
}

// Acquire implements Limiter.
func (q *Queued) Acquire(ctx context.Context) (Permit, error) {
	p, err := q.inner.Acquire(ctx)
	if err == nil {
		return q.wrap(p), nil
	}
	if !isOverloaded(err) {
		return Permit{}, err
	}
	q.mu.Lock()
	now := time.Now()
	if q.waiters.Len() == 0 {
		q.lastEmpty = now
	}
	if q.waiters.Len() >= q.size {
		q.mu.Unlock()
		q.queueShed.Add(1)
		return Permit{}, fmt.Errorf("%w: queue of %d full", ErrOverloaded, q.size)
	}
	// A release between the failed Acquire above and this lock found the
	// queue empty and handed its slot to nobody: try once more, under the
	// lock every release's hand-off takes, so no wakeup is lost.
	if p, err := q.inner.Acquire(ctx); err == nil {
		q.mu.Unlock()
		return q.wrap(p), nil
	} else if !isOverloaded(err) {
		q.mu.Unlock()
		return Permit{}, err
	}
	if dl, ok := ctx.Deadline(); ok && q.service > 0 {
		limit := max(1, q.inner.Stats().Limit)
		expected := time.Duration(q.waiters.Len()+1) * q.service / time.Duration(limit)
		if now.Add(expected).After(dl) {
			q.mu.Unlock()
			q.deadlineRefused.Add(1)
			return Permit{}, fmt.Errorf("%w: expected wait %v is past the deadline", ErrOverloaded, expected)
		}
	}
	timeout := q.window
	if q.standing(now) {
		timeout = q.target // CoDel's short leash
	}
	w := &waiter{ctx: ctx, granted: make(chan Permit, 1)}
	w.elem = q.waiters.PushBack(w)
	q.queuedNow.Add(1)
	q.mu.Unlock()

	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case p := <-w.granted:
		q.servedFromQueue.Add(1)
		return p, nil
	case <-t.C:
		err = fmt.Errorf("%w: waited %v in the queue", ErrOverloaded, timeout)
		q.timedOut.Add(1)
		q.mu.Lock()
		q.lastTimeout = time.Now()
		q.mu.Unlock()
	case <-ctx.Done():
		err = ctx.Err()
	}
	q.mu.Lock()
	if w.elem != nil {
		q.waiters.Remove(w.elem)
		w.elem = nil
		q.queuedNow.Add(-1)
		q.mu.Unlock()
		return Permit{}, err
	}
	q.mu.Unlock()
	// Granted while we were giving up: hand the slot back. No work was done,
	// so it teaches an adaptive limiter nothing.
	(<-w.granted).Release(Cancelled)
	return Permit{}, err
}

func isOverloaded(err error) bool { return errors.Is(err, ErrOverloaded) }

// wrap makes the inner permit report back to the queue on release.
func (q *Queued) wrap(p Permit) Permit {
	return Permit{owner: &queuedRelease{q: q, inner: p}, start: time.Now()}
}

// queuedRelease is allocated per admission through the queue: the queue
// must hear of every release to hand the slot on.
type queuedRelease struct {
	q     *Queued
	inner Permit
}

func (r *queuedRelease) release(start time.Time, o Outcome) {
	r.inner.Release(o)
	r.q.handOff(time.Since(start))
}

// handOff tries to admit a waiter into the slot just freed: the newest in a
// standing queue, else the oldest; if that one does not fit (a Sheddable
// waiter may not take the slots kept for Critical ones), the next waiter of
// another priority that fits, so a Critical waiter is never stuck behind a
// Sheddable one.
func (q *Queued) handOff(held time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.service == 0 {
		q.service = held
	} else {
		q.service += (held - q.service) / 8
	}
	lifo := q.standing(time.Now())
	var refused [Critical + 1]bool // priorities the limiter refused just now
	e := q.waiters.Front()
	if lifo {
		e = q.waiters.Back() // adaptive LIFO
	}
	for e != nil {
		w := e.Value.(*waiter)
		next := e.Next()
		if lifo {
			next = e.Prev()
		}
		prio := PriorityFrom(w.ctx)
		if prio != Critical {
			prio = Sheddable // as the gate treats it
		}
		if refused[prio] {
			e = next
			continue
		}
		p, err := q.inner.Acquire(w.ctx)
		if err != nil {
			if isOverloaded(err) {
				refused[prio] = true // the same answer for every waiter of prio
				if refused[Sheddable] && refused[Critical] {
					return // the slot went to a newcomer; wait for the next release
				}
			} else {
				q.waiters.Remove(e) // this waiter's ctx is done; try the next
				w.elem = nil
				q.queuedNow.Add(-1)
			}
			e = next
			continue
		}
		q.waiters.Remove(e)
		w.elem = nil
		q.queuedNow.Add(-1)
		if q.waiters.Len() == 0 {
			q.lastEmpty = time.Now()
		}
		w.granted <- q.wrap(p)
		return
	}
}

// standing reports whether the queue is in its overload state: it has not
// been empty for a whole window, or a waiter timed out within the last
// window (timeouts empty the queue without relieving the overload, so
// emptiness alone would reopen the long leash).
func (q *Queued) standing(now time.Time) bool {
	return now.Sub(q.lastEmpty) > q.window || (!q.lastTimeout.IsZero() && now.Sub(q.lastTimeout) < q.window)
}

// Stats implements Limiter: the inner limiter's, plus the queue's.
func (q *Queued) Stats() Stats {
	s := q.inner.Stats()
	s.Queued = int(q.queuedNow.Load())
	s.ShedQueueTimeout = q.timedOut.Load()
	s.ShedDeadline = q.deadlineRefused.Load()
	s.ShedQueueFull = q.queueShed.Load()
	s.ServedFromQueue = q.servedFromQueue.Load()
	return s
}
