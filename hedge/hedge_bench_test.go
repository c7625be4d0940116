package hedge_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/breakeven-go/breakeven/hedge"
	"github.com/breakeven-go/breakeven/internal/benchutil"
	"github.com/breakeven-go/breakeven/internal/suites"
)

// BenchmarkHedgeTail drives a simulated backend with a slow tail (95% of
// calls 2 ms, 5% 60 ms; and a lognormal one) from 30 concurrent callers on
// the real clock, unhedged (impl=plain, the baseline) and hedged, and
// reports p50, p99 and p99.9 call latency in ms and the extra attempts in
// percent of calls. ns/op is wall time over calls (30 in flight).
//
//	go test -run '^$' -bench HedgeTail -benchtime 3000x -count 6 ./hedge | benchstat -col /impl -
func BenchmarkHedgeTail(b *testing.B) {
	const callers = 30
	backends := []struct {
		name string
		new  func() *suites.SlowTail
	}{
		{"bimodal", func() *suites.SlowTail { return suites.Bimodal(2*time.Millisecond, 60*time.Millisecond) }},
		{"lognormal", func() *suites.SlowTail { return suites.Lognormal(2*time.Millisecond, 0.8) }},
	}
	impls := []struct {
		name string
		h    func() *hedge.Hedger // nil: no hedging
	}{
		{"plain", nil},
		{"fixed", func() *hedge.Hedger { return hedge.New(hedge.Delay(5*time.Millisecond), hedge.Budget(0.10)) }},
		{"adaptive", func() *hedge.Hedger {
			return hedge.New(hedge.Percentile(0.95), hedge.Budget(0.10), hedge.MaxAttempts(2))
		}},
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			for _, im := range impls {
				b.Run("impl="+im.name, func(b *testing.B) {
					backend := be.new()
					var h *hedge.Hedger
					if im.h != nil {
						h = im.h()
					}
					var lat benchutil.Latencies
					var errs sync.Map
					ctx := context.Background()
					b.ResetTimer()
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
								errs.Store(err.Error(), true)
							}
						}
					}, callers, b.N)
					b.StopTimer()
					errs.Range(func(k, _ any) bool { b.Errorf("call failed: %v", k); return false })
					ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
					b.ReportMetric(ms(lat.Percentile(0.5)), "p50-ms")
					b.ReportMetric(ms(lat.Percentile(0.99)), "p99-ms")
					b.ReportMetric(ms(lat.Percentile(0.999)), "p99.9-ms")
					b.ReportMetric(100*float64(backend.Attempts.Load()-int64(b.N))/float64(b.N), "extra-%")
				})
			}
		})
	}
}
