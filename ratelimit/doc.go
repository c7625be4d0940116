// Package ratelimit limits how often events happen: a process-wide limit
// that stays exact however many goroutines call it, per-key limits with
// bounded memory, and net/http middleware.
//
// It speaks golang.org/x/time/rate's language (rate.Limit, rate.Every,
// rate.Inf; Allow, Wait and Reserve) and fixes what bites users of it: under
// heavy contention x/time/rate reads the clock before taking its lock, so
// its notion of "now" can move backwards and admit more than the limit
// (golang/go#65508); its Wait errors do not match context.DeadlineExceeded
// (golang/go#54541); and it has no keyed limiter or HTTP layer.
//
// A limiter is only as effective as its scope: 50 handlers each with their
// own limiter of 100/s let 5000/s through. Create limiters once, at the
// scope of what they protect (a downstream, a client), and share them.
package ratelimit
