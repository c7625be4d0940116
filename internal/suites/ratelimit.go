package suites

import (
	"golang.org/x/time/rate"

	"github.com/breakeven-go/breakeven/internal/baseline"
	"github.com/breakeven-go/breakeven/internal/benchutil"
	"github.com/breakeven-go/breakeven/ratelimit"
)

// RateLimit compares ratelimit.Limiter.Allow with x/time/rate (the
// baseline users would otherwise pick) and a GCRA under a mutex (the
// simplest correct limiter), on "allow" (1e8/s: almost every call admitted)
// and "deny" (1000/s: almost every call refused, the overload case).
func RateLimit() benchutil.Suite {
	s := benchutil.Suite{Name: "RateLimit", Primitive: "ratelimit.Limiter", Impl: "ours", Baseline: "xrate", BaselineDesc: "x/time/rate"}
	for _, w := range []struct {
		name  string
		limit rate.Limit
		burst int
	}{{"allow", 1e8, 1000}, {"deny", 1000, 10}} {
		s.Workloads = append(s.Workloads, benchutil.Workload{Name: w.name, Impls: []benchutil.Impl{
			{Name: "xrate", Setup: func() benchutil.Body {
				l := rate.NewLimiter(w.limit, w.burst)
				return func(_, n int) {
					for range n {
						l.Allow()
					}
				}
			}},
			{Name: "mutex-gcra", Setup: func() benchutil.Body {
				l := baseline.NewMutexGCRA(w.limit, w.burst)
				return func(_, n int) {
					for range n {
						l.Allow()
					}
				}
			}},
			{Name: "ours", Setup: func() benchutil.Body {
				l := ratelimit.New(w.limit, w.burst)
				return func(_, n int) {
					for range n {
						l.Allow()
					}
				}
			}},
		}})
	}
	return s
}
