// Package hedge sends a second copy of a slow call and takes whichever
// answer comes first, to cut tail latency ("The Tail at Scale", Dean and
// Barroso, 2013: hedged BigTable reads cut the far tail by more than an
// order of magnitude for a few percent more requests).
//
// A hedge costs load: every extra attempt is work for the backend. The
// [Hedger] bounds that cost with a Budget (extra attempts at most a tenth
// of calls unless set otherwise, retries after failures included), hedges
// only after a delay that can track the observed latency ([Percentile]),
// withholds most hedges while they seldom answer first ([MinWins]), and
// cancels the losers. Results can be classified ([Results], and
// [FailedStatus] for the [Transport]): a "busy" answer is a failed
// attempt, which starts the next one at once instead of winning.
//
// Nothing outlives a call but the goroutines of attempts still running,
// which end when their fn returns: every attempt's context is cancelled
// when Do returns, unless [DoWith] is asked to keep the winner's for a
// result that still reads from it. Discarded results are released on their
// attempts' goroutines, and a panic in an attempt reaches the caller.
//
// # When not to use it
//
// For calls that are not idempotent, for backends whose slowness is load
// (hedging an overloaded backend makes it slower), and for latency
// distributions without a tail: when p99 is close to p50, hedging buys
// nothing and costs the extra attempts (MinWins notices hedges that never
// answer first and withholds most of them, but its probes still cost).
package hedge
