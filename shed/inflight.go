package shed

import (
	"context"
	"fmt"
	"time"
)

// InFlight admits at most a fixed number of requests at once. The check and
// the increment are one compare-and-swap, so no interleaving of Acquires
// ever exceeds the limit.
//
// A fixed limit works when it was tuned for the service behind it (slots x
// service time); when it was not, or the service changes, use NewAdaptive.
//
// An InFlight is safe for concurrent use; its zero value is not usable:
// build one with [NewInFlight].
type InFlight struct {
	max int64
	gate
}

// NewInFlight returns a limiter of max requests in flight; max must be at
// least 1. Sheddable requests may fill 90% of it (at least 1).
func NewInFlight(max int) *InFlight {
	if max < 1 {
		panic(fmt.Sprintf("shed: NewInFlight(%d): must be at least 1", max))
	}
	return &InFlight{max: int64(max)}
}

// Acquire implements Limiter.
func (l *InFlight) Acquire(ctx context.Context) (Permit, error) {
	if err := ctx.Err(); err != nil {
		return Permit{}, err
	}
	if err := l.admit(l.max, PriorityFrom(ctx)); err != nil {
		return Permit{}, err
	}
	return Permit{owner: l}, nil
}

func (l *InFlight) release(_ time.Time, o Outcome) { l.leave(o) }

// Stats implements Limiter.
func (l *InFlight) Stats() Stats { return l.stats(int(l.max)) }
