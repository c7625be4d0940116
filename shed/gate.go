package shed

import (
	"fmt"
	"sync/atomic"
)

// gate is the admission state every limiter shares: the in-flight count,
// checked against the limit and incremented in one compare-and-swap (so no
// interleaving of Acquires can exceed it, the check-then-act race of
// Netflix concurrency-limits #233), and the counters Stats reports.
type gate struct {
	inFlight                                           atomic.Int64
	accepted, shedS, shedC, dropped, failed, cancelled atomic.Uint64
}

// admit takes a slot if fewer than limit (for Critical requests) or
// sheddableShare of it (for Sheddable ones) are taken.
func (g *gate) admit(limit int64, prio Priority) error {
	if prio != Critical {
		limit = max(1, int64(float64(limit)*sheddableShare))
	}
	for {
		n := g.inFlight.Load()
		if n >= limit {
			if prio == Critical {
				g.shedC.Add(1)
			} else {
				g.shedS.Add(1)
			}
			return fmt.Errorf("%w: %d requests in flight, limit %d", ErrOverloaded, n, limit)
		}
		if g.inFlight.CompareAndSwap(n, n+1) {
			g.accepted.Add(1)
			return nil
		}
	}
}

// leave frees a slot, counts the outcome, and returns how many requests
// were in flight while this one ran.
func (g *gate) leave(o Outcome) int64 {
	n := g.inFlight.Add(-1) + 1
	switch o {
	case Dropped:
		g.dropped.Add(1)
	case Failure:
		g.failed.Add(1)
	case Cancelled:
		g.cancelled.Add(1)
	}
	return n
}

func (g *gate) stats(limit int) Stats {
	return Stats{Limit: limit, InFlight: int(g.inFlight.Load()), Accepted: g.accepted.Load(),
		ShedSheddable: g.shedS.Load(), ShedCritical: g.shedC.Load(), Dropped: g.dropped.Load(), Failed: g.failed.Load(),
		Cancelled: g.cancelled.Load()}
}
