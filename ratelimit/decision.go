package ratelimit

import (
	"context"
	"time"
)

// Decision is the outcome of one rate-limit check, with what a client
// needs to know to back off (the IETF RateLimit header fields).
type Decision struct {
	Allowed    bool
	Limit      int           // the quota: events admitted at once (the burst)
	Window     time.Duration // the time the quota takes to refill fully (burst/r)
	Remaining  int           // events that could still be admitted now
	RetryAfter time.Duration // if refused: until one event would be admitted
	Reset      time.Duration // until the quota is full again
}

// KeyLimiter is what Middleware needs of a limiter: one decision per key.
// Keyed[string] implements it in process; ratelimit/redisrate implements it
// for a whole fleet on Redis.
type KeyLimiter interface {
	Check(ctx context.Context, key string) (Decision, error)
}

// Check implements KeyLimiter for string keys; it never fails.
func (k *Keyed[K]) Check(_ context.Context, key K) (Decision, error) { return k.Decide(key), nil }

func (p *params) window() time.Duration {
	if p.interval <= 0 {
		return 0
	}
	return time.Duration(p.tau)
}
