package peerbench

import (
	"context"
	"net/http"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/adaptivelimiter"
	"github.com/failsafe-go/failsafe-go/budget"
	"github.com/failsafe-go/failsafe-go/failsafehttp"
	"github.com/failsafe-go/failsafe-go/hedgepolicy"
	"github.com/puzpuzpuz/xsync/v4"
	"github.com/sourcegraph/conc/pool"

	"github.com/breakeven-go/breakeven/internal/benchutil"
	"github.com/breakeven-go/breakeven/internal/suites"
)

// All returns every suite with its peers, in cmd/breakeven's order. Suites
// whose peers are already in the root module (x/time/rate in RateLimit and
// Keyed, sync.Pool in Bytes and Pool, errgroup in Fanout, sync.Map in Map)
// are here too, so one run covers every comparison.
func All() []benchutil.Suite {
	return []benchutil.Suite{
		Counter(), Map(), suites.CowValue(), CowMap(), Fanout(), Stream(), Hedge(), Shed(),
		suites.Bytes(), suites.Pool(), suites.RateLimit(), suites.Keyed(),
	}
}

// withPeers returns s with peers(workload) appended to each workload's
// implementations.
func withPeers(s benchutil.Suite, peers func(workload string) []benchutil.Impl) benchutil.Suite {
	ws := make([]benchutil.Workload, len(s.Workloads))
	for i, w := range s.Workloads {
		w.Impls = append(append([]benchutil.Impl(nil), w.Impls...), peers(w.Name)...)
		ws[i] = w
	}
	s.Workloads = ws
	return s
}

// Counter is the Counter suite plus impl=xsync (xsync.Counter).
func Counter() benchutil.Suite {
	return withPeers(suites.Counter(), func(workload string) []benchutil.Impl {
		switch workload {
		case "add":
			return []benchutil.Impl{{Name: "xsync", Setup: func() benchutil.Body {
				c := xsync.NewCounter()
				return func(_, n int) {
					for range n {
						c.Add(1)
					}
				}
			}}}
		case "load10":
			return []benchutil.Impl{{Name: "xsync", Setup: func() benchutil.Body {
				c := xsync.NewCounter()
				return func(_, n int) {
					var sink int64
					for i := range n {
						if i%10 == 0 {
							c.Add(1)
						} else {
							sink += c.Value()
						}
					}
					_ = sink
				}
			}}}
		}
		return nil
	})
}

// xsyncMap is xsync.Map as a suites.MapImpl.
var xsyncMap = suites.MapImpl{
	Name:     "xsync",
	New:      func() suites.KV { return xsync.NewMap[string, int]() },
	NewCache: func() suites.Cache { return xsyncCache{xsync.NewMap[string, int]()} },
}

// xsyncCache adapts xsync.Map's LoadOrCompute (whose function may cancel)
// to suites.Cache. It loads first, as xsync's own LoadOrCompute does, so a
// hit does not build the adapting closure.
type xsyncCache struct{ m *xsync.Map[string, int] }

func (c xsyncCache) LoadOrCompute(k string, fn func() int) (int, bool) {
	if v, ok := c.m.Load(k); ok {
		return v, true
	}
	return c.m.LoadOrCompute(k, func() (int, bool) { return fn(), false })
}

func (c xsyncCache) Delete(k string) { c.m.Delete(k) }

// Map is the Map suite plus impl=xsync (xsync.Map); sync.Map is in the
// root suite as impl=syncmap.
func Map() benchutil.Suite {
	s := suites.Map()
	s.Workloads = suites.MapWorkloads(append(suites.MapImpls(), xsyncMap))
	return s
}

// CowMap is the CowMap suite plus impl=xsync; sync.Map is in the root suite.
func CowMap() benchutil.Suite { return suites.CowMapWith([]suites.MapImpl{xsyncMap}) }

// Fanout is the Fanout suite plus impl=conc (sourcegraph/conc's pool with
// WithMaxGoroutines); errgroup is in the root suite.
func Fanout() benchutil.Suite {
	return withPeers(suites.Fanout(), func(workload string) []benchutil.Impl {
		return suites.FanoutPeer(workload, "conc", concRun)
	})
}

// concRun fans out with a conc pool bounded to limit goroutines.
func concRun(n, limit int, item func(int)) {
	p := pool.New().WithMaxGoroutines(limit)
	for i := range n {
		p.Go(func() { item(i) })
	}
	p.Wait()
}

// Hedge is the Hedge suite plus impl=failsafe: failsafe-go's hedge policy
// set up like impl=adaptive (hedge at the p95 of recent calls, one hedge at
// most, a 10% budget).
func Hedge() benchutil.Suite {
	return withPeers(suites.Hedge(), func(string) []benchutil.Impl {
		return []benchutil.Impl{{Name: "failsafe", Trial: suites.HedgeTrial(failsafeHedge)}}
	})
}

// HedgePolicies is the Hedge suite's policies plus failsafe.
func HedgePolicies() []suites.HedgePolicy {
	return append(suites.HedgePolicies(), suites.HedgePolicy{Name: "failsafe", Wrap: failsafeHedge})
}

// failsafeHedge puts a fresh failsafe-go hedge policy around call, built as
// failsafe-go documents it (NewBuilderWithDelayQuantile): hedge at the p95
// of about the last 1000 attempts once 32 are recorded (the same quantile
// and warm-up as impl=adaptive), one hedge at most, within a budget of
// 0.10, its budget package's defaults otherwise. Both sides are budgeted,
// though the budgets count differently: failsafe-go's caps hedges in
// flight at a tenth of executions in flight (and always allows 3), ours
// caps extra attempts at a tenth of calls (10 saved up).
func failsafeHedge(call suites.Call) suites.Call {
	hp := hedgepolicy.NewBuilderWithDelayQuantile[int](0.95, 1000, 32).
		WithMaxHedges(1).
		WithBudget(budget.NewBuilder().WithMaxRate(0.10).Build()).
		Build()
	exec := failsafe.With[int](hp)
	return func(ctx context.Context) (int, error) {
		return exec.WithContext(ctx).GetWithExecution(func(e failsafe.Execution[int]) (int, error) {
			return call(e.Context())
		})
	}
}

// Shed is the Shed suite plus impl=failsafe: failsafe-go's adaptive limiter
// with its defaults (NewWithDefaults: no queueing, so it refuses at once
// at its limit), through its own HTTP handler (which answers 429 when the
// limit is reached; the suite counts it as shed). Its defaults update the
// limit at most once per second and after 50 samples, so within a
// one-second trial it keeps about its initial limit of 20: a fixed limit
// well above the backend's 4 slots, whose deeper queue shows as more
// goodput and a higher p99 (BenchmarkShedFrontier).
func Shed() benchutil.Suite {
	return withPeers(suites.Shed(), func(workload string) []benchutil.Impl {
		return []benchutil.Impl{{Name: "failsafe", Trial: suites.ShedTrialFor(workload, failsafeShed)}}
	})
}

// ShedImpls are the Shed suite's shedders, failsafe-go's included, in the
// suite's order.
func ShedImpls() []suites.ShedImpl {
	return append(suites.ShedImpls(), suites.ShedImpl{Name: "failsafe", Wrap: failsafeShed})
}

// failsafeShed puts a fresh failsafe-go adaptive limiter, with its
// defaults, in front of h.
func failsafeShed(h http.Handler) http.Handler {
	return failsafehttp.NewHandler(h, adaptivelimiter.NewWithDefaults[*http.Response]())
}
