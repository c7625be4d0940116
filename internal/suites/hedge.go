package suites

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/breakeven-go/breakeven/hedge"
	"github.com/breakeven-go/breakeven/internal/benchutil"
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
func Bimodal(fast, slow time.Duration) *SlowTail { return BimodalShare(fast, slow, 5) }

// BimodalShare is Bimodal with pct percent of calls slow.
func BimodalShare(fast, slow time.Duration, pct int) *SlowTail {
	return &SlowTail{draw: func(r *rand.Rand) time.Duration {
		if r.IntN(100) < pct {
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

// Hedge is hedge's breakeven suite for cmd/breakeven: p99 call latency (ms)
// of 30 concurrent callers on a backend whose calls take 2 ms, except a
// share (1%, 5%, 10%: the x axis) that takes 60 ms. Unhedged calls
// (impl=plain) are the baseline; impl=adaptive hedges at the observed p95
// with a 10% budget (the recommended setup), impl=fixed after 5 ms. At 10%
// slow calls the p95 is itself slow, so adaptive hedging stops helping: the
// suite shows where it pays and where it does not. Extra attempts and
// p99.9 are in hedge's BenchmarkHedgeTail.
func Hedge() benchutil.Suite {
	impls := []struct {
		name string
		h    func() *hedge.Hedger // nil: no hedging
	}{
		{"plain", nil},
		{"adaptive", func() *hedge.Hedger {
			return hedge.New(hedge.Percentile(0.95), hedge.Budget(0.10), hedge.MaxAttempts(2))
		}},
		{"fixed", func() *hedge.Hedger { return hedge.New(hedge.Delay(5*time.Millisecond), hedge.Budget(0.10)) }},
	}
	w := benchutil.Workload{Name: "bimodal"}
	for _, im := range impls {
		w.Impls = append(w.Impls, benchutil.Impl{Name: im.name, Trial: func(ctx context.Context, slowPct int) (float64, error) {
			var h *hedge.Hedger
			if im.h != nil {
				h = im.h()
			}
			return hedgeP99(ctx, BimodalShare(2*time.Millisecond, 60*time.Millisecond, slowPct), h)
		}})
	}
	return benchutil.Suite{
		Name: "Hedge", Primitive: "hedge.Do", Impl: "adaptive", Baseline: "plain", BaselineDesc: "unhedged calls",
		Metric: "p99-ms", XName: "slow %", Xs: []int{1, 5, 10},
		Workloads: []benchutil.Workload{w},
	}
}

// hedgeCallers and hedgeCalls size one hedge trial: about a quarter of a
// second at 5% slow calls, and enough calls that p99 is the 15th slowest.
const hedgeCallers, hedgeCalls = 30, 1500

// hedgeP99 makes hedgeCalls calls from hedgeCallers goroutines, through h
// (nil: directly), and returns their p99 latency in ms.
func hedgeP99(ctx context.Context, backend *SlowTail, h *hedge.Hedger) (float64, error) {
	var lat benchutil.Latencies
	var mu sync.Mutex
	var firstErr error
	benchutil.RunOps(func(_, n int) {
		for range n {
			start := time.Now()
			var err error
			if h == nil {
				_, err = backend.Call(ctx)
			} else {
				_, err = hedge.Do(ctx, h, backend.Call)
			}
			lat.Add(time.Since(start))
			if err != nil {
				mu.Lock()
				firstErr = cmp.Or(firstErr, err)
				mu.Unlock()
				return
			}
		}
	}, hedgeCallers, hedgeCalls)
	if firstErr != nil {
		return 0, fmt.Errorf("hedge trial: %w", firstErr)
	}
	return float64(lat.Percentile(0.99)) / 1e6, nil
}
