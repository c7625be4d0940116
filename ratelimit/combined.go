package ratelimit

import (
	"context"
	"fmt"

	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"
)

// Combined limits both how often operations start (a rate) and how many run
// at once (a concurrency cap): the reference text's "combine with a
// semaphore". A rate alone lets slow operations pile up; a cap alone lets
// fast ones flood the downstream.
//
// Acquire first takes a concurrency slot, then waits for the rate, so the
// moment an operation is admitted is the moment the rate counts: tokens
// spent while waiting for a slot could otherwise release a burst above the
// rate when slots free up. A Combined is safe for concurrent use.
type Combined struct {
	rate *Limiter
	sem  *semaphore.Weighted
	max  int
}

// NewCombined returns a limit of r operations per second (bursts of burst)
// and at most maxInFlight at once. It panics on the values New rejects and
// on maxInFlight < 1.
func NewCombined(r rate.Limit, burst, maxInFlight int) *Combined {
	if maxInFlight < 1 {
		panic(fmt.Sprintf("ratelimit: NewCombined(%v, %d, %d): maxInFlight must be at least 1", r, burst, maxInFlight))
	}
	return &Combined{rate: New(r, burst), sem: semaphore.NewWeighted(int64(maxInFlight)), max: maxInFlight}
}

// Acquire waits for a slot and for the rate, or returns ctx's error (or the
// rate's, see Limiter.Wait) holding nothing. After a nil error the caller
// must call Release when the operation ends.
func (c *Combined) Acquire(ctx context.Context) error {
	if err := c.sem.Acquire(ctx, 1); err != nil {
		return err
	}
	if err := c.rate.Wait(ctx); err != nil {
		c.sem.Release(1)
		return err
	}
	return nil
}

// TryAcquire admits an operation only if a slot is free and the rate
// allows one now. After true the caller must call Release.
func (c *Combined) TryAcquire() bool {
	if !c.sem.TryAcquire(1) {
		return false
	}
	if !c.rate.Allow() {
		c.sem.Release(1)
		return false
	}
	return true
}

// Release ends an operation admitted by Acquire or TryAcquire.
func (c *Combined) Release() { c.sem.Release(1) }

// Rate returns the rate limiter, for its Stats or SetLimit.
func (c *Combined) Rate() *Limiter { return c.rate }
