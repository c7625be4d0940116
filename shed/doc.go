// Package shed rejects work at the door when a service is over capacity,
// instead of queueing it until everything is slow.
//
// Without shedding, a service offered twice its capacity queues requests
// until every one of them misses its deadline: goodput falls toward zero
// while the CPU stays busy. A [Limiter] admits at most a concurrency limit
// of requests and refuses the rest at once with [ErrOverloaded];
// [Middleware] turns a refusal into 503 Service Unavailable with a
// Retry-After header, so clients back off instead of retrying into the
// overload. [NewInFlight] uses a fixed limit; [NewAdaptive] finds the limit
// from observed latency, so nobody has to tune it; [NewQueued] adds a short
// wait queue for bursts.
//
// Requests carry a [Priority] in their context: Sheddable ones are refused
// before Critical ones. The middleware reads it from a header only when
// told to ([PriorityHeader]), and that is only safe behind a proxy that sets
// the header: any client can send one.
//
// [Limiter] is an interface you may implement (to wrap or replace these
// limiters, or put a queue of your own in front): hand out permits with
// [NewPermit] and take them back in [Releaser.ReleasePermit].
//
// # When not to use it
//
// A service that is never overloaded pays an atomic operation per request
// for nothing; batch work that can wait should be queued, not shed.
package shed
