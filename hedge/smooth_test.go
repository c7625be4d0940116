package hedge_test

import (
	"context"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/breakeven-go/breakeven/hedge"
)

// TestPercentileOnSmoothDistributions checks the Percentile default stays
// sane away from the bimodal benchmark: on a lognormal and a uniform
// backend (no separate slow mode), Percentile(0.95) settles near the
// backend's p95 (it reads the p95 of the answers, whose slowest are cut
// short by hedges, so a little below), hedges about one call in twenty,
// and the default budget never has to refuse. MinWins is off: on the
// uniform backend a hedge started at the p95 can never beat its first
// attempt, so by default it would be withheld (TestFutileHedgesAreWithheld).
func TestPercentileOnSmoothDistributions(t *testing.T) {
	for _, c := range []struct {
		name string
		draw func(*rand.Rand) time.Duration
		p95  time.Duration
	}{
		{"lognormal", func(r *rand.Rand) time.Duration {
			return time.Duration(float64(2*time.Millisecond) * math.Exp(0.5*r.NormFloat64()))
		}, time.Duration(float64(2*time.Millisecond) * math.Exp(0.5*1.6449))},
		{"uniform", func(r *rand.Rand) time.Duration {
			return time.Millisecond + time.Duration(r.Int64N(int64(2*time.Millisecond)))
		}, 2900 * time.Microsecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var seq atomic.Uint64 // attempts run at once: a draw per attempt
				h := hedge.New(hedge.Percentile(0.95), hedge.MinWins(0))
				const calls = 4000
				for range calls {
					hedge.Do(t.Context(), h, func(ctx context.Context) (time.Duration, error) {
						d := c.draw(rand.New(rand.NewPCG(seq.Add(1), 2)))
						select {
						case <-time.After(d):
							return d, nil
						case <-ctx.Done():
							return 0, ctx.Err()
						}
					})
				}
				s := h.Stats()
				t.Logf("%s: delay %v (backend p95 %v), %+v", c.name, s.Delay, c.p95, s)
				if lo, hi := c.p95*8/10, c.p95*11/10; s.Delay < lo || s.Delay > hi {
					t.Errorf("delay %v, want within [%v, %v] of the backend's p95 %v", s.Delay, lo, hi, c.p95)
				}
				if rate := float64(s.Hedges) / calls; rate < 0.03 || rate > 0.08 {
					t.Errorf("hedged %.1f%% of calls, want about 5%%", 100*rate)
				}
				if s.BudgetDenied != 0 {
					t.Errorf("the default budget refused %d hedges of a 5%% hedger", s.BudgetDenied)
				}
			})
		})
	}
}
