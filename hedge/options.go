package hedge

import (
	"fmt"
	"time"
)

// Option configures a Hedger.
type Option interface{ apply(*config) }

type config struct {
	delay       time.Duration // fixed delay; with percentile, the delay until warmed up
	hasDelay    bool
	percentile  float64 // 0: fixed delay only
	maxAttempts int
	budget      float64 // 0: no budget
	minWins     float64 // MinWins; 0: never withhold a hedge
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Delay hedges after a fixed delay d: if no attempt has answered d after the
// last one started, start another. With Percentile, d is the delay used
// until enough latencies have been seen. d must be positive.
func Delay(d time.Duration) Option {
	if d <= 0 {
		panic(fmt.Sprintf("hedge: Delay(%v): must be positive", d))
	}
	return optionFunc(func(c *config) { c.delay, c.hasDelay = d, true })
}

// Percentile hedges after the p-quantile of recently observed latencies,
// so the delay follows the backend (Percentile(0.95): hedge the slowest 5%
// or so). p must be in (0, 1). See Hedger for how latencies are tracked.
func Percentile(p float64) Option {
	if !(p > 0 && p < 1) {
		panic(fmt.Sprintf("hedge: Percentile(%v): must be in (0, 1)", p))
	}
	return optionFunc(func(c *config) { c.percentile = p })
}

// MaxAttempts bounds the attempts per call, the first included (default 2:
// one hedge). n must be at least 2; for no hedging, do not use a Hedger.
func MaxAttempts(n int) Option {
	if n < 2 {
		panic(fmt.Sprintf("hedge: MaxAttempts(%d): must be at least 2", n))
	}
	return optionFunc(func(c *config) { c.maxAttempts = n })
}

// Budget keeps extra attempts at or below fraction of calls, whether a
// hedge was started by the delay or by a failed attempt: each call earns
// fraction of a token, each extra attempt spends one, and at most ten
// tokens are saved up, so over any run of calls extra attempts stay under
// fraction x calls + 10, however long the calls before it were fast. An
// exhausted budget only stops new attempts; attempts already running are
// never cancelled for it, and a timed hedge it refuses is asked for again
// one delay later (by then other calls may have earned a token), so a
// burst of calls that outlive the delay together does not leave a slow
// call after it unhedged. Without Budget a Hedger uses DefaultBudget.
// fraction must be in (0, 1].
func Budget(fraction float64) Option {
	if !(fraction > 0 && fraction <= 1) {
		panic(fmt.Sprintf("hedge: Budget(%v): must be in (0, 1]", fraction))
	}
	return optionFunc(func(c *config) { c.budget = fraction })
}

// MinWins withholds timed hedges while they seldom answer first: when fewer
// than fraction of the recent calls that were hedged were answered by a
// hedge, a call that outlives the delay gets its hedge only as one probe in
// every several, and the others wait for their first attempt. The probes
// keep the share measured, so hedging resumes in full as soon as hedges win
// again. A hedge that never answers first is pure load: it happens when the
// slowness follows the request, not the replica (a heavy query is as slow on
// every replica), or when latencies have no tail to cut (a narrow spread,
// where a call that outlived the delay is about to answer anyway). Where
// hedging pays, hedges win far more often than DefaultMinWins: most hedged
// calls on a slow mode of a few percent, and a large share on a smooth
// (lognormal) spread. The recent calls are the last few dozen hedged ones,
// and nothing is judged before a minimum of them. Failure-triggered
// attempts are never withheld. Without MinWins a Hedger uses
// DefaultMinWins; MinWins(0) never withholds. fraction must be in [0, 1).
func MinWins(fraction float64) Option {
	if !(fraction >= 0 && fraction < 1) {
		panic(fmt.Sprintf("hedge: MinWins(%v): must be in [0, 1)", fraction))
	}
	return optionFunc(func(c *config) { c.minWins = fraction })
}
