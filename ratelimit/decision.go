package ratelimit

import (
	"context"
	"time"
)

// Decision is the outcome of one rate-limit check, with what a client
// needs to know to back off (the IETF RateLimit header fields). It is the
// one rate-limit result of this module: Keyed.Decide and every KeyLimiter,
// ratelimit/redisrate's included, return it.
type Decision struct {
	Allowed    bool          // whether the event is admitted
	Limit      int           // the quota: events admitted at once (the burst)
	Window     time.Duration // the time the quota takes to refill fully (burst/r); rate.InfDuration at rate 0
	Remaining  int           // events that could still be admitted now
	RetryAfter time.Duration // if refused: until one event would be admitted (rate.InfDuration: never)
	ResetAfter time.Duration // until the quota is full again (rate.InfDuration: never)
}

// KeyLimiter is what Middleware needs of a limiter: one decision per key.
// Keyed[string] implements it in process; ratelimit/redisrate implements it
// for a whole fleet on Redis.
//
// A KeyLimiter whose dependency fails (Redis down) returns the error
// together with the decision its own failure policy made: Middleware
// applies that decision and only reports the error to its OnError hook, so
// the policy is set in one place, the limiter.
type KeyLimiter interface {
	// Check decides one event for key. With a non-nil error the Decision
	// is the limiter's failure policy's answer, which Middleware applies.
	Check(ctx context.Context, key string) (Decision, error)
}

// Check implements KeyLimiter for string keys; it never fails.
func (k *Keyed[K]) Check(_ context.Context, key K) (Decision, error) { return k.Decide(key), nil }
