package peerbench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go/adaptivelimiter"
	"github.com/failsafe-go/failsafe-go/failsafehttp"
	"github.com/puzpuzpuz/xsync/v4"
	"go.uber.org/goleak"

	"github.com/breakeven-go/breakeven/internal/benchutil"
	"github.com/breakeven-go/breakeven/internal/suites"
	"github.com/breakeven-go/breakeven/shed"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// One benchmark per family, each with its baseline and its peers:
//
//	go test -run '^$' -bench . -cpu 1,2 -count 6 | benchstat -col /impl -
func BenchmarkCounter(b *testing.B)   { benchutil.Bench(b, Counter()) }
func BenchmarkMap(b *testing.B)       { benchutil.Bench(b, Map()) }
func BenchmarkCowValue(b *testing.B)  { benchutil.Bench(b, suite("CowValue")) }
func BenchmarkCowMap(b *testing.B)    { benchutil.Bench(b, CowMap()) }
func BenchmarkFanout(b *testing.B)    { benchutil.Bench(b, Fanout()) }
func BenchmarkStream(b *testing.B)    { benchutil.Bench(b, Stream()) }
func BenchmarkBytes(b *testing.B)     { benchutil.Bench(b, suite("Bytes")) }
func BenchmarkPool(b *testing.B)      { benchutil.Bench(b, suite("Pool")) }
func BenchmarkRateLimit(b *testing.B) { benchutil.Bench(b, suite("RateLimit")) }
func BenchmarkKeyed(b *testing.B)     { benchutil.Bench(b, suite("Keyed")) }

// BenchmarkHedge runs the Hedge suite's trials, failsafe included, under
// the suite's names (Hedge/bimodal/slow%=X/impl=Y) and reports both sides
// of the trade from each trial: p99 call latency (the suite's metric) and
// the extra attempts it cost, in percent of calls.
//
//	go test -run '^$' -bench '^BenchmarkHedge$' -cpu 1,2 -count 6 -benchtime 1x | benchstat -col /impl -
func BenchmarkHedge(b *testing.B) {
	s := Hedge()
	for _, w := range s.Workloads {
		b.Run(w.Name, func(b *testing.B) {
			for _, x := range s.Xs {
				b.Run(fmt.Sprintf("%s=%d", benchutil.XKey(s.XName), x), func(b *testing.B) {
					for _, p := range HedgePolicies() {
						b.Run("impl="+p.Name, func(b *testing.B) {
							var p99, extra float64
							for range b.N {
								o, err := suites.RunHedgeTrial(b.Context(), p.Wrap, x)
								if err != nil {
									b.Fatal(err)
								}
								p99 += o.P99Ms
								extra += o.ExtraPct
							}
							b.ReportMetric(p99/float64(b.N), s.Metric)
							b.ReportMetric(extra/float64(b.N), suites.HedgeExtraMetric)
						})
					}
				})
			}
		})
	}
}

// BenchmarkShed runs the Shed suite, failsafe included, as
// benchutil.Bench would (same names, goodput per trial), and reports the
// p99 latency of the admitted answers beside the goodput: a shedder that
// keeps goodput by letting a long queue form shows it there.
//
//	go test -run '^$' -bench '^BenchmarkShed$' -cpu 2 -count 6 -benchtime 1x | benchstat -col /impl -
func BenchmarkShed(b *testing.B) {
	s := Shed()
	if err := s.Validate(); err != nil {
		b.Fatal(err)
	}
	for _, w := range suites.ShedWorkloads {
		b.Run(w, func(b *testing.B) {
			for _, x := range s.Xs {
				b.Run(fmt.Sprintf("%s=%d", benchutil.XKey(s.XName), x), func(b *testing.B) {
					for _, im := range ShedImpls() {
						b.Run("impl="+im.Name, func(b *testing.B) {
							var goodput, p99 float64
							for range b.N {
								o, err := suites.RunShedTrial(b.Context(), w, im.Wrap, x)
								if err != nil {
									b.Fatal(err)
								}
								goodput += o.Goodput
								p99 += o.P99Ms
							}
							b.ReportMetric(goodput/float64(b.N), s.Metric)
							b.ReportMetric(p99/float64(b.N), "p99-ms")
						})
					}
				})
			}
		})
	}
}

// BenchmarkShedFrontier shows the trade the Shed suite's goodput makes
// with its p99, at 2x and 4x capacity: fixed limits (NewInFlight(n), which
// admits 90% of n for the suite's Sheddable requests) from below the
// backend's 4 slots to deep queues, beside failsafe-go's defaults, an
// untuned NewAdaptive() and the unprotected backend (impl=none, the
// suite's baseline). A deeper queue rides out gaps in the arrivals, so
// goodput and p99 rise together with the depth of the queue a shedder
// keeps (the trial counts only requests sent while the load lasts, see
// suites.OpenLoopSustained); the curve of fixed limits says how much
// goodput a given p99 can buy, and where each adaptive limiter landed on
// it. Each trial also reports the limit the shedder ended with (0 for
// none, which has no limit): failsafe-go's recent window (at least 1 s and
// 50 samples, by default) leaves its initial limit of 20 about where it
// started for the whole trial.
//
//	go test -run '^$' -bench '^BenchmarkShedFrontier$' -cpu 2 -count 6 -benchtime 1x | benchstat -col /impl -
func BenchmarkShedFrontier(b *testing.B) {
	type shedder struct {
		name  string
		wrap  func(http.Handler) http.Handler
		limit func() int // after a trial
	}
	shedders := []shedder{{"none", func(h http.Handler) http.Handler { return h }, func() int { return 0 }}}
	for _, n := range []int{4, 6, 8, 12, 16, 24} {
		shedders = append(shedders, shedder{fmt.Sprintf("inflight-%d", n),
			func(h http.Handler) http.Handler { return shed.Middleware(shed.NewInFlight(n), h) },
			func() int { return n }})
	}
	var a *shed.Adaptive
	shedders = append(shedders, shedder{"adaptive",
		func(h http.Handler) http.Handler { a = shed.NewAdaptive(); return shed.Middleware(a, h) },
		func() int { return a.Stats().Limit }})
	var f adaptivelimiter.AdaptiveLimiter[*http.Response]
	shedders = append(shedders, shedder{"failsafe",
		func(h http.Handler) http.Handler {
			f = adaptivelimiter.NewWithDefaults[*http.Response]()
			return failsafehttp.NewHandler(h, f)
		},
		func() int { return f.Limit() }})
	for _, x := range []int{200, 400} {
		b.Run(fmt.Sprintf("load%%=%d", x), func(b *testing.B) {
			for _, sh := range shedders {
				b.Run("impl="+sh.name, func(b *testing.B) {
					var goodput, p99, limit float64
					for range b.N {
						o, err := suites.RunShedTrial(b.Context(), suites.ShedOverload, sh.wrap, x)
						if err != nil {
							b.Fatal(err)
						}
						goodput += o.Goodput
						p99 += o.P99Ms
						limit += float64(sh.limit())
					}
					b.ReportMetric(goodput/float64(b.N), "goodput")
					b.ReportMetric(p99/float64(b.N), "p99-ms")
					b.ReportMetric(limit/float64(b.N), "limit")
				})
			}
		})
	}
}

func suite(name string) benchutil.Suite {
	for _, s := range All() {
		if s.Name == name {
			return s
		}
	}
	panic("peerbench: no suite " + name)
}

// TestEveryPeerIsCovered keeps the peer list honest: every library an
// adopter would compare against appears as an impl in some workload.
func TestEveryPeerIsCovered(t *testing.T) {
	want := map[string][]string{ // suite: peers
		"Counter":   {"xsync"},
		"Map":       {"xsync", "syncmap"},
		"CowMap":    {"xsync", "syncmap"},
		"Fanout":    {"conc", "errgroup"},
		"Stream":    {"rill", "conc", "channels"},
		"Hedge":     {"failsafe"},
		"Shed":      {"failsafe"},
		"Bytes":     {"syncpool"},
		"Pool":      {"syncpool"},
		"RateLimit": {"xrate"},
		"Keyed":     {"xrate-map"},
	}
	for _, s := range All() {
		if err := s.Validate(); err != nil {
			t.Error(err)
		}
		for _, peer := range want[s.Name] {
			for _, w := range s.Workloads {
				if !slices.ContainsFunc(w.Impls, func(im benchutil.Impl) bool { return im.Name == peer }) {
					t.Errorf("%s/%s lacks impl=%s", s.Name, w.Name, peer)
				}
			}
		}
		delete(want, s.Name)
	}
	for name := range want {
		t.Errorf("suite %s missing from All", name)
	}
}

// TestXsyncCounterCounts checks the peer is used correctly: a benchmark
// against a miscounting peer would mean nothing.
func TestXsyncCounterCounts(t *testing.T) {
	c := xsync.NewCounter()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10_000 {
				c.Add(1)
			}
		})
	}
	wg.Wait()
	if got := c.Value(); got != 80_000 {
		t.Fatalf("xsync Counter = %d, want 80000", got)
	}
}

// TestFailsafeHedgeHedges checks the failsafe-go peer really hedges: once
// its quantile has history, a call whose first attempt stalls is answered
// by a second attempt (a peer that never hedged would hang here).
func TestFailsafeHedgeHedges(t *testing.T) {
	var attempts atomic.Int32
	stall := make(chan struct{})
	defer close(stall)
	call := failsafeHedge(func(ctx context.Context) (int, error) {
		if attempts.Add(1) == 41 { // the first attempt of the 41st call
			select {
			case <-stall:
			case <-ctx.Done(): // cancelled once the hedge wins
			}
			return 0, ctx.Err()
		}
		return 1, nil
	})
	for range 40 {
		if _, err := call(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := call(t.Context()); v != 1 || err != nil {
		t.Fatalf("stalled call = %d, %v; want the hedge's 1", v, err)
	}
}

// TestFailsafeShedSheds checks the failsafe-go peer refuses past its limit
// with 429 (which the suite counts as shed) and serves the rest.
func TestFailsafeShedSheds(t *testing.T) {
	const requests = 100 // the limiter starts at 20
	release := make(chan struct{})
	releaseOnce := sync.OnceFunc(func() { close(release) })
	var inFlight atomic.Int32
	srv := httptest.NewServer(failsafeShed(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		inFlight.Add(1)
		<-release
	})))
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: requests}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	defer releaseOnce() // runs before srv.Close, so a failure cannot hang it
	codes := make(chan int, requests)
	var wg sync.WaitGroup
	for range requests {
		wg.Go(func() {
			resp, err := client.Get(srv.URL)
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		})
	}
	refused := 0
	for int(inFlight.Load())+refused < requests { // until each is admitted or answered
		select {
		case c := <-codes:
			if c != http.StatusTooManyRequests {
				t.Fatalf("status %d before any release, want 429", c)
			}
			refused++
		case <-time.After(time.Millisecond): // re-check inFlight
		}
	}
	releaseOnce()
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Fatalf("admitted request got %d", c)
		}
	}
	if refused == 0 {
		t.Fatalf("%d concurrent requests, none refused", requests)
	}
}

// TestConcRunsEveryItem checks the conc peer runs each item once and
// never more than limit at a time.
func TestConcRunsEveryItem(t *testing.T) {
	const n, limit = 1000, 3
	var ran [n]atomic.Int32
	var running, peak atomic.Int32
	concRun(n, limit, func(i int) {
		cur := running.Add(1)
		for p := peak.Load(); cur > p && !peak.CompareAndSwap(p, cur); p = peak.Load() {
		}
		ran[i].Add(1)
		running.Add(-1)
	})
	for i := range ran {
		if got := ran[i].Load(); got != 1 {
			t.Fatalf("item %d ran %d times", i, got)
		}
	}
	if peak.Load() > limit {
		t.Fatalf("%d items ran at once, limit %d", peak.Load(), limit)
	}
}
