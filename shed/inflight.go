package shed

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// InFlight admits at most a fixed number of requests at once. The check and
// the increment are one compare-and-swap, so no interleaving of Acquires
// ever exceeds the limit.
//
// A fixed limit works when it was tuned for the service behind it (slots x
// service time); when it was not, or the service changes, use NewAdaptive.
type InFlight struct {
	max, sheddableMax int64
	inFlight          atomic.Int64

	accepted, shedS, shedC, dropped, failed atomic.Uint64
}

// NewInFlight returns a limiter of max requests in flight; max must be at
// least 1. Sheddable requests may fill 90% of it (at least 1).
func NewInFlight(max int) *InFlight {
	if max < 1 {
		panic(fmt.Sprintf("shed: NewInFlight(%d): must be at least 1", max))
	}
	return &InFlight{max: int64(max), sheddableMax: max64(1, int64(float64(max)*sheddableShare))}
}

func max64(a, b int64) int64 { return max(a, b) }

// Acquire implements Limiter.
func (l *InFlight) Acquire(ctx context.Context) (Permit, error) {
	if err := ctx.Err(); err != nil {
		return Permit{}, err
	}
	prio := PriorityFrom(ctx)
	limit := l.sheddableMax
	if prio == Critical {
		limit = l.max
	}
	for {
		n := l.inFlight.Load()
		if n >= limit {
			if prio == Critical {
				l.shedC.Add(1)
			} else {
				l.shedS.Add(1)
			}
			return Permit{}, fmt.Errorf("%w: %d requests in flight, limit %d", ErrOverloaded, n, limit)
		}
		if l.inFlight.CompareAndSwap(n, n+1) {
			l.accepted.Add(1)
			return Permit{owner: l}, nil
		}
	}
}

func (l *InFlight) release(_ time.Time, o Outcome) {
	l.inFlight.Add(-1)
	switch o {
	case Dropped:
		l.dropped.Add(1)
	case Failure:
		l.failed.Add(1)
	}
}

// Stats implements Limiter.
func (l *InFlight) Stats() Stats {
	return Stats{Limit: int(l.max), InFlight: int(l.inFlight.Load()), Accepted: l.accepted.Load(),
		ShedSheddable: l.shedS.Load(), ShedCritical: l.shedC.Load(), Dropped: l.dropped.Load(), Failed: l.failed.Load()}
}
