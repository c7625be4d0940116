// Package hedge sends a second copy of a slow call and takes whichever
// answer comes first, to cut tail latency ("The Tail at Scale", Dean and
// Barroso, 2013: BigTable reads hedged after 10 ms went from a p99.9 of
// 1800 ms to 74 ms for 2% more requests).
//
// A hedge costs load: every extra attempt is work for the backend. The
// [Hedger] bounds that cost with a Budget (extra attempts at most a given
// fraction of calls), hedges only after a delay that can track the observed
// latency ([Percentile]), and cancels the losers.
//
// # When not to use it
//
// For calls that are not idempotent, for backends whose slowness is load
// (hedging an overloaded backend makes it slower), and for latency
// distributions without a tail: when p99 is close to p50, hedging buys
// nothing and costs the extra attempts.
package hedge
