package shed

import (
	"context"
	"errors"
	"time"
)

// ErrOverloaded is the error Acquire returns when it sheds a request.
var ErrOverloaded = errors.New("shed: overloaded")

// Outcome tells a Limiter how an admitted request ended, so adaptive
// limiters learn from it.
type Outcome int

const (
	// Success: the request completed; its latency is a valid sample.
	Success Outcome = iota
	// Dropped: the request ran out of time on our side (a server deadline,
	// a 503 or 504 from the handler): a sign of overload whose latency says
	// nothing about the service time. Adaptive limiters shrink the limit when
	// a window holds more than a few of them.
	Dropped
	// Failure: the request failed for its own reasons (a 500, a bug); it
	// is counted but does not move the limit.
	Failure
	// Cancelled: the client went away (it cancelled its request or closed
	// the connection) before the answer. That says nothing about capacity,
	// so it is counted and otherwise ignored: a client that cancels on
	// purpose cannot shrink the limit for everyone else.
	Cancelled
)

// Limiter admits requests up to a concurrency limit. [InFlight], [Adaptive]
// and [Queued] implement it; so can a limiter outside this package, which
// hands out permits with [NewPermit].
type Limiter interface {
	// Acquire admits one request or refuses it with an error wrapping
	// ErrOverloaded (or ctx's error if ctx is done), at once or, for a
	// limiter with a queue, after a bounded wait. An admitted request must
	// call Release on the Permit exactly once. Acquire must be safe for
	// concurrent use and should read the request's Priority (PriorityFrom).
	Acquire(ctx context.Context) (Permit, error)
	// Stats returns a snapshot of the limiter's state and counters.
	Stats() Stats
}

// Permit is an admitted request's slot. It is a small value: Acquire does
// not allocate. The zero Permit releases nothing. A Permit must be released
// exactly once: a second Release frees a slot someone else holds.
type Permit struct {
	owner releaser // this package's limiters
	ext   Releaser // limiters outside it (NewPermit)
	start time.Time
}

type releaser interface {
	release(start time.Time, o Outcome)
}

// Releaser is what a Limiter outside this package implements to take its
// permits back: see [NewPermit].
type Releaser interface {
	// ReleasePermit frees the slot of a permit granted at granted, and
	// learns how the request ended. Permit.Release calls it once per
	// permit.
	ReleasePermit(granted time.Time, o Outcome)
}

// NewPermit returns a permit, granted now, whose Release calls
// r.ReleasePermit. It is how a Limiter implemented outside this package
// hands out permits (wrapping or replacing this package's limiters);
// r must not be nil.
func NewPermit(r Releaser) Permit {
	if r == nil {
		panic("shed: NewPermit(nil)")
	}
	return Permit{ext: r, start: time.Now()}
}

// Release frees the slot and reports how the request ended.
func (p Permit) Release(o Outcome) {
	switch {
	case p.owner != nil:
		p.owner.release(p.start, o)
	case p.ext != nil:
		p.ext.ReleasePermit(p.start, o)
	}
}

// Priority orders requests for shedding: under pressure, Sheddable
// requests are refused before Critical ones.
type Priority int

const (
	// Sheddable requests (the default) may use up to 90% of the limit.
	Sheddable Priority = iota
	// Critical requests (health checks, payments) may use all of it.
	Critical
)

// sheddableShare is the part of the limit Sheddable requests may fill,
// keeping the rest for Critical ones.
const sheddableShare = 0.9

type priorityKey struct{}

// WithPriority returns a ctx carrying p, which Acquire reads.
func WithPriority(ctx context.Context, p Priority) context.Context {
	return context.WithValue(ctx, priorityKey{}, p)
}

// PriorityFrom returns the priority ctx carries (Sheddable by default).
func PriorityFrom(ctx context.Context) Priority {
	p, _ := ctx.Value(priorityKey{}).(Priority)
	return p
}

// Stats is a snapshot of a Limiter.
type Stats struct {
	Limit           int    // current concurrency limit
	InFlight        int    // admitted and not yet released
	Accepted        uint64 // requests admitted
	ShedSheddable   uint64 // Sheddable requests refused
	ShedCritical    uint64 // Critical requests refused
	Dropped, Failed uint64 // releases with Dropped and Failure outcomes
	Cancelled       uint64 // releases with the Cancelled outcome (clients gone)
	// Adaptive limiters: the no-load latency estimate, and the latest
	// window's mean latency.
	MinLatency, RecentLatency time.Duration

	// Queued limiters (NewQueued) also report the following. Behind a
	// queue, ShedSheddable and ShedCritical are the inner limiter's
	// refusals: they count attempts, including those of requests that
	// then waited and were served.
	Queued           int    // requests waiting now
	ServedFromQueue  uint64 // requests admitted after waiting
	ShedQueueTimeout uint64 // requests that waited their limit and were shed
	ShedDeadline     uint64 // requests refused: deadline before the expected wait
	ShedQueueFull    uint64 // requests shed because the queue was full
}
