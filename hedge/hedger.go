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
// A Hedger also watches whether its hedges pay: when hedges seldom answer
// first (see MinWins), it withholds most timed hedges, since each is load
// for no gain, and keeps a few as probes to notice when they pay again.
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
	// hedged and won are the recent calls that got a timed hedge and
	// answered, and those a hedge answered, halved every winWindow hedged
	// calls, for MinWins.
	hedged, won float64
	sinceProbe  int // timed hedges withheld since the last probe
	stats       Stats
}

// DefaultBudget is the Budget of a Hedger built without one: extra
// attempts, timed or after a failure, at most a tenth of calls.
const DefaultBudget = 0.10

// DefaultMinWins is the MinWins of a Hedger built without one: timed
// hedges are withheld, but for probes, while fewer than one recent hedged
// call in twenty was answered by its hedge, that is while each call a
// hedge rescued cost more than twenty extra attempts. A slow mode that
// hedges rescue stays above it unless it is far rarer than the fast calls
// that are merely late past the delay (with Percentile(0.95), at most about
// one call in twenty): each slow call is a win, and only those late fast
// calls lose. Below that, lower MinWins if the rare rescue is worth the
// load.
const DefaultMinWins = 0.05

const (
	// winWindow is how many hedged calls MinWins weighs: the counts are
	// halved when they reach it, so the share follows a backend that
	// changes, while enough calls are weighed that a backend whose hedges
	// win one time in six (a narrow lognormal) does not dip below
	// DefaultMinWins by chance.
	winWindow = 128
	// winMinSample is how many hedged calls MinWins needs before it judges:
	// with at most one of them won, the odds that hedges in fact win one
	// time in five are below one in a hundred.
	winMinSample = 32
	// probeEvery: while hedges are withheld, one call in probeEvery that
	// outlives the delay still gets its hedge, so the share of wins keeps
	// being measured at a tenth of the load.
	probeEvery = 10
)

// budgetBurst is how many budget tokens a Hedger may save up: enough for a
// short burst of slow calls, little enough that "fraction of calls" holds
// over any window of a few hundred calls.
const budgetBurst = 10

// New returns a Hedger. With no options it hedges once (MaxAttempts 2)
// after a fixed 10 ms, within DefaultBudget; give Delay or Percentile for
// your backend, and Budget to widen or narrow the extra load.
func New(opts ...Option) *Hedger {
	cfg := config{maxAttempts: 2, budget: DefaultBudget, minWins: DefaultMinWins}
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

// worthHedging reports whether a call that outlived the delay gets its
// timed hedge: yes, unless recent hedges seldom answered first (MinWins),
// and then only as one probe in probeEvery.
func (h *Hedger) worthHedging() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.hedged < winMinSample || h.won >= h.cfg.minWins*h.hedged {
		return true
	}
	if h.sinceProbe++; h.sinceProbe >= probeEvery {
		h.sinceProbe = 0
		return true
	}
	h.stats.Withheld++
	return false
}

// finished counts a call's outcome: which attempt answered, or a failure.
// hedged says whether a timed hedge was started: such a call that
// answered counts towards the share of hedges that win.
func (h *Hedger) finished(attempt int, failed, hedged bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if failed {
		h.stats.Failures++
		return
	}
	if attempt > 0 {
		h.stats.HedgeWins++
	}
	if hedged {
		h.hedged++
		if attempt > 0 {
			h.won++
		}
		if h.hedged >= winWindow {
			h.hedged /= 2
			h.won /= 2
		}
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
	Withheld     uint64        // timed hedges not started because recent hedges seldom answered first (MinWins)
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
