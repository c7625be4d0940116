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
//
// Middleware reads what clients send, so it trusts little: the default key
// is the connection's address (an IPv6 client by its /64, see IPv6Prefix),
// X-Forwarded-For counts only from TrustedProxies, response bodies are
// fixed texts (errors go to the OnError hook), and a limiter that fails
// (ratelimit/redisrate with Redis down) still decides each request by the
// failure policy it was given.
//
// Runtime setters (Limiter.SetLimit, SetBurst) return an error for a bad
// value and keep the old one, so a configuration reload cannot crash a
// service; constructors panic on bad values, with a "ratelimit: " message.
package ratelimit
