package hedge

import (
	"math"
	"time"
)

// latencies is a decaying histogram of attempt latencies, for Percentile.
//
// Buckets are log-spaced, 8 per doubling (each about 9% wide), from 1 us to
// about 2 minutes; a quantile is interpolated inside the bucket where the
// cumulative count crosses it (log-linearly, as the buckets are spaced).
// Reading the bucket's upper edge instead would put the delay up to a
// bucket above the quantile: on latencies spread evenly up to a hard
// maximum, above every answer, so that nothing was ever hedged. Every decayEvery samples all
// counts are halved, so the histogram follows a backend that changes,
// weighting the last few thousand calls. Only attempts that completed
// successfully are recorded: attempts cancelled because another won are
// left out, since all that is known of them is that they were slow.
type latencies struct {
	counts [numBuckets]float64
	total  float64
	seen   int // samples since the last decay
}

const (
	bucketsPerDoubling = 8
	numBuckets         = 27 * bucketsPerDoubling // 1 us << 27 is about 134 s
	minLatency         = time.Microsecond
	decayEvery         = 2048
	// warmup is the number of samples before Percentile trusts the
	// histogram; until then the Hedger uses Delay, or does not hedge.
	warmup = 32
)

func bucketOf(d time.Duration) int {
	if d <= minLatency {
		return 0
	}
	b := int(math.Log2(float64(d)/float64(minLatency)) * bucketsPerDoubling)
	return min(b, numBuckets-1)
}

func bucketUpper(b int) time.Duration {
	return time.Duration(float64(minLatency) * math.Exp2(float64(b+1)/bucketsPerDoubling))
}

func (l *latencies) add(d time.Duration) {
	l.counts[bucketOf(d)]++
	l.total++
	if l.seen++; l.seen == decayEvery {
		l.seen = 0
		l.total /= 2
		for i := range l.counts {
			l.counts[i] /= 2
		}
	}
}

// quantile returns the p-quantile, or false before warmup samples.
func (l *latencies) quantile(p float64) (time.Duration, bool) {
	if l.total < warmup {
		return 0, false
	}
	target := p * l.total
	cum := 0.0
	for b, c := range l.counts {
		if c > 0 && cum+c >= target {
			lo := minLatency
			if b > 0 {
				lo = bucketUpper(b - 1)
			}
			within := (target - cum) / c // how far into the bucket's samples
			return time.Duration(float64(lo) * math.Exp2(within/bucketsPerDoubling)), true
		}
		cum += c
	}
	return bucketUpper(numBuckets - 1), true
}
