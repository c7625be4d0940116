package hedge

import (
	"sync"
	"time"
)

// Hedger holds the policy and the state shared by calls: the latency
// history behind Percentile, the Budget, and the statistics. Create one per
// backend (its latency is what Percentile learns) and share it.
//
// Where it pays: a backend whose slow answers are a separate mode (a
// replica pausing for garbage collection, a cold cache, a lost packet),
// rarer than the hedging percentile: hedging at the p95 then cuts p99 from
// the slow mode to about the delay plus one fast answer, for a few percent
// more attempts. Where it does not: when the slow share is about as large
// as the budget or larger than 1-p (at the p95, one call in ten slow), the
// percentile sits in the slow mode itself and the budget runs out, so p99
// stays where it was (a Delay above every fast answer spends the budget on
// slow calls only and does better there); on a smooth spread (lognormal) it gains much less;
// and p50 rises slightly, since every attempt runs on its own goroutine.
//
// A Hedger is safe for concurrent use. Build one with [New]: the zero value
// has no policy and never hedges.
type Hedger struct {
	cfg config

	mu        sync.Mutex
	lat       latencies
	delay     time.Duration // current hedge delay; 0 means do not hedge yet
	tokens    float64       // budget tokens
	sinceCalc int           // samples since delay was recomputed
	stats     Stats
}

// DefaultBudget is the Budget of a Hedger built without one: extra
// attempts, timed or after a failure, at most a tenth of calls.
const DefaultBudget = 0.10

// budgetBurst is how many budget tokens a Hedger may save up: enough for a
// short burst of slow calls, little enough that "fraction of calls" holds
// over any window of a few hundred calls.
const budgetBurst = 10

// New returns a Hedger. With no options it hedges once (MaxAttempts 2)
// after a fixed 10 ms, within DefaultBudget; give Delay or Percentile for
// your backend, and Budget to widen or narrow the extra load.
func New(opts ...Option) *Hedger {
	cfg := config{maxAttempts: 2, budget: DefaultBudget}
	for _, o := range opts {
		o.apply(&cfg)
	}
	if !cfg.hasDelay && cfg.percentile == 0 {
		cfg.delay, cfg.hasDelay = 10*time.Millisecond, true
	}
	h := &Hedger{cfg: cfg, tokens: budgetBurst}
	if cfg.hasDelay {
		h.delay = cfg.delay
	}
	return h
}

// currentDelay returns the delay before the next hedge, or 0 for none.
func (h *Hedger) currentDelay() time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stats.Calls++
	h.tokens = min(h.tokens+h.cfg.budget, budgetBurst)
	return h.delay
}

// takeToken spends a budget token for one extra attempt, if the budget
// allows it, and counts the hedge.
func (h *Hedger) takeToken() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.tokens < 1 {
		h.stats.BudgetDenied++
		return false
	}
	h.tokens--
	h.stats.Hedges++
	return true
}

// finished counts a call's outcome: which attempt answered, or a failure.
func (h *Hedger) finished(attempt int, failed bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if failed {
		h.stats.Failures++
	} else if attempt > 0 {
		h.stats.HedgeWins++
	}
}

// lostPanic counts a panic in an attempt that ended after its call had
// returned, so no caller could be panicked.
func (h *Hedger) lostPanic() {
	h.mu.Lock()
	h.stats.LostPanics++
	h.mu.Unlock()
}

// record adds the latency of an attempt that completed successfully (from
// its own start) to the history Percentile reads.
func (h *Hedger) record(latency time.Duration) {
	if h.cfg.percentile == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lat.add(latency)
	// Recompute the delay every 16 samples: a quantile is a scan of the
	// histogram, too much to do on every call.
	if h.sinceCalc++; h.sinceCalc >= 16 || h.delay == 0 {
		h.sinceCalc = 0
		if d, ok := h.lat.quantile(h.cfg.percentile); ok {
			h.delay = d
		}
	}
}

// Stats is a snapshot of a Hedger.
type Stats struct {
	Calls        uint64        // calls to Do
	Hedges       uint64        // extra attempts started
	HedgeWins    uint64        // calls answered by an extra attempt
	BudgetDenied uint64        // extra attempts the Budget refused (a timed hedge is asked for again a delay later, so one call may count several)
	Failures     uint64        // calls whose every attempt failed (or that panicked)
	LostPanics   uint64        // attempts that panicked after their call returned
	Delay        time.Duration // the current hedge delay (0: not hedging yet)
}

// Stats returns a snapshot of the Hedger's counters and current delay.
func (h *Hedger) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.stats
	s.Delay = h.delay
	return s
}
