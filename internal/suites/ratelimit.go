package suites

import (
	"sync"

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

// xrateMap is what keyed limiting usually looks like without a library: a
// map of x/time/rate limiters under one mutex, growing without bound.
type xrateMap struct {
	mu    sync.Mutex
	m     map[string]*rate.Limiter
	limit rate.Limit
	burst int
}

func (x *xrateMap) Allow(key string) bool {
	x.mu.Lock()
	l := x.m[key]
	if l == nil {
		l = rate.NewLimiter(x.limit, x.burst)
		x.m[key] = l
	}
	x.mu.Unlock()
	return l.Allow()
}

// Keyed compares ratelimit.Keyed.Allow with a mutex-guarded map of
// x/time/rate limiters (the baseline) over 100k keys, uniform and
// Zipf(1.1), at a per-client limit of 10/s with bursts of 20. Every key is
// tracked before timing, and no bucket refills between two uses of its
// key, so each op is a hit.
func Keyed() benchutil.Suite {
	const nkeys = 100_000
	keys := benchutil.StringKeys(nkeys)
	s := benchutil.Suite{Name: "Keyed", Primitive: "ratelimit.Keyed", Impl: "ours", Baseline: "xrate-map", BaselineDesc: "map of x/time/rate under a Mutex"}
	for _, dist := range []benchutil.Dist{benchutil.Uniform, benchutil.Zipf(1.1)} {
		streams := make([][]int32, 64)
		for w := range streams {
			streams[w] = dist.Indexes(uint64(w)+1, nkeys, streamLen)
		}
		body := func(allow func(string) bool) benchutil.Body {
			for _, k := range keys {
				allow(k)
			}
			return func(worker, n int) {
				stream := streams[worker%len(streams)]
				for i := range n {
					allow(keys[stream[i%len(stream)]])
				}
			}
		}
		s.Workloads = append(s.Workloads, benchutil.Workload{Name: dist.Name, Impls: []benchutil.Impl{
			{Name: "xrate-map", Setup: func() benchutil.Body {
				x := &xrateMap{m: map[string]*rate.Limiter{}, limit: 10, burst: 20}
				return body(x.Allow)
			}},
			{Name: "ours", Setup: func() benchutil.Body {
				return body(ratelimit.NewKeyed[string](10, 20).Allow)
			}},
		}})
	}
	return s
}
