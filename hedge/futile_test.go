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

// slowRequests makes n sequential calls through h: every fifth is a slow
// request, whose first attempt takes 50ms; its hedge takes 50ms too when
// hedgeIsSlow (the slowness follows the request: the hedge cannot win),
// else 2ms (it follows the replica: the hedge wins). Other calls take 2ms.
func slowRequests(t *testing.T, h *hedge.Hedger, n int, hedgeIsSlow bool) {
	for i := range n {
		slow := i%5 == 4
		_, err := hedge.Do(t.Context(), h, func(ctx context.Context) (int, error) {
			d := 2 * time.Millisecond
			if slow && (hedgeIsSlow || hedge.Attempt(ctx) == 0) {
				d = 50 * time.Millisecond
			}
			select {
			case <-time.After(d):
				return hedge.Attempt(ctx), nil
			case <-ctx.Done():
				return -1, ctx.Err()
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestFutileHedgesAreWithheld: when the slowness follows the request,
// every hedge loses; after the minimum sample of 32 lost hedges, only one
// call in ten that outlives the delay is still hedged (a probe). When the
// backend changes so that hedges win, the probes see it and hedging
// resumes in full within a few probes (at 48 hedged calls, none won, it
// takes 3 winning probes to reach one in twenty).
func TestFutileHedgesAreWithheld(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := hedge.New(hedge.Delay(5*time.Millisecond), hedge.Budget(0.5))
		slowRequests(t, h, 1000, true) // 200 slow calls
		s := h.Stats()
		// 32 hedged to judge, then one probe in ten of the other 168.
		if s.Hedges != 32+16 || s.Withheld != 168-16 || s.HedgeWins != 0 {
			t.Fatalf("hedges never win: Stats = %+v; want 48 hedges, 152 withheld", s)
		}
		slowRequests(t, h, 1000, false) // hedges win again
		s2 := h.Stats()
		if withheld := s2.Withheld - s.Withheld; withheld > 4*9 {
			t.Fatalf("hedges win again: %d more withheld; want hedging to resume within 4 probes", withheld)
		}
		slowRequests(t, h, 100, false)
		s3 := h.Stats()
		if s3.Withheld != s2.Withheld || s3.HedgeWins-s2.HedgeWins != 20 {
			t.Fatalf("after recovery: Stats = %+v (before %+v); want all 20 slow calls hedged and won", s3, s2)
		}
	})
}

// TestMinWinsZeroNeverWithholds: MinWins(0) hedges every call that
// outlives the delay, however often hedges lose.
func TestMinWinsZeroNeverWithholds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := hedge.New(hedge.Delay(5*time.Millisecond), hedge.Budget(0.5), hedge.MinWins(0))
		slowRequests(t, h, 1000, true)
		if s := h.Stats(); s.Hedges != 200 || s.Withheld != 0 {
			t.Fatalf("Stats = %+v; want all 200 slow calls hedged", s)
		}
	})
}

// TestWinningHedgesAreNeverWithheld: on a bimodal backend whose slow mode
// a hedge rescues (1% slow, on the replica), and on a lognormal spread,
// hedges win far more often than DefaultMinWins, so nothing is withheld.
// (The lognormal is narrower than the benchmarks' so that fewer hedges win.)
func TestWinningHedgesAreNeverWithheld(t *testing.T) {
	for _, c := range []struct {
		name string
		draw func(*rand.Rand) time.Duration
	}{
		{"bimodal 1%", func(r *rand.Rand) time.Duration {
			if r.IntN(100) == 0 {
				return 60 * time.Millisecond
			}
			return 2 * time.Millisecond
		}},
		{"lognormal", func(r *rand.Rand) time.Duration {
			return time.Duration(float64(2*time.Millisecond) * math.Exp(0.5*r.NormFloat64()))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var seq atomic.Uint64
				h := hedge.New(hedge.Percentile(0.95))
				for range 4000 {
					hedge.Do(t.Context(), h, func(ctx context.Context) (time.Duration, error) {
						d := c.draw(rand.New(rand.NewPCG(seq.Add(1), 3)))
						select {
						case <-time.After(d):
							return d, nil
						case <-ctx.Done():
							return 0, ctx.Err()
						}
					})
				}
				if s := h.Stats(); s.Withheld != 0 || s.Hedges == 0 {
					t.Fatalf("Stats = %+v; want hedges and none withheld", s)
				}
			})
		})
	}
}
