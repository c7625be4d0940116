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
// x/time/rate limiters (the baseline) over 100k keys. "uniform" and
// "zipf1.1" are the overload case: 10/s with bursts of 20 per key, every
// key hit far more often, so almost every call is refused. "admit" is what
// production mostly sees: uniform random keys, each client well under its
// limit (1000/s, bursts of 1000), so every call is admitted and writes its
// key's state. Every key is tracked before timing, so each op is a hit.
func Keyed() benchutil.Suite {
	const nkeys = 100_000
	keys := benchutil.StringKeys(nkeys)
	s := benchutil.Suite{Name: "Keyed", Primitive: "ratelimit.Keyed", Impl: "ours", Baseline: "xrate-map", BaselineDesc: "map of x/time/rate under a Mutex"}
	for _, w := range []struct {
		name  string
		dist  benchutil.Dist
		limit rate.Limit
		burst int
	}{
		{benchutil.Uniform.Name, benchutil.Uniform, 10, 20},
		{benchutil.Zipf(1.1).Name, benchutil.Zipf(1.1), 10, 20},
		{"admit", benchutil.Uniform, 1000, 1000},
	} {
		streams := make([][]int32, 64)
		for i := range streams {
			streams[i] = w.dist.Indexes(uint64(i)+1, nkeys, streamLen)
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
		s.Workloads = append(s.Workloads, benchutil.Workload{Name: w.name, Impls: []benchutil.Impl{
			{Name: "xrate-map", Setup: func() benchutil.Body {
				x := &xrateMap{m: map[string]*rate.Limiter{}, limit: w.limit, burst: w.burst}
				return body(x.Allow)
			}},
			{Name: "ours", Setup: func() benchutil.Body {
				return body(ratelimit.NewKeyed[string](w.limit, w.burst).Allow)
			}},
		}})
	}
	return s
}
