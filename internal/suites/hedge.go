package suites

import (
	"context"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// SlowTail is the hedge workloads' simulated backend: each call sleeps a
// latency drawn from a fixed, seeded distribution on the real clock, and
// honours cancellation. Attempts counts every call, hedges included.
type SlowTail struct {
	Attempts atomic.Int64
	draw     func(r *rand.Rand) time.Duration
	seq      atomic.Uint64
}

// Bimodal is the reference distribution: 95% of calls take fast, 5% slow
// (2 ms and 60 ms in the hedge benchmarks).
func Bimodal(fast, slow time.Duration) *SlowTail {
	return &SlowTail{draw: func(r *rand.Rand) time.Duration {
		if r.IntN(100) < 5 {
			return slow
		}
		return fast
	}}
}

// Lognormal draws latencies around median with spread sigma (log scale).
func Lognormal(median time.Duration, sigma float64) *SlowTail {
	return &SlowTail{draw: func(r *rand.Rand) time.Duration {
		return time.Duration(float64(median) * math.Exp(sigma*r.NormFloat64()))
	}}
}

// Call is one backend call.
func (s *SlowTail) Call(ctx context.Context) (int, error) {
	s.Attempts.Add(1)
	n := s.seq.Add(1)
	d := s.draw(rand.New(rand.NewPCG(n, 0x5eed)))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return int(d), nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}
