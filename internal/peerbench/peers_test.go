package peerbench

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/puzpuzpuz/xsync/v4"
	"go.uber.org/goleak"

	"github.com/breakeven-go/breakeven/internal/benchutil"
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
func BenchmarkHedge(b *testing.B)     { benchutil.Bench(b, Hedge()) }
func BenchmarkShed(b *testing.B)      { benchutil.Bench(b, Shed()) }
func BenchmarkBytes(b *testing.B)     { benchutil.Bench(b, suite("Bytes")) }
func BenchmarkPool(b *testing.B)      { benchutil.Bench(b, suite("Pool")) }
func BenchmarkRateLimit(b *testing.B) { benchutil.Bench(b, suite("RateLimit")) }
func BenchmarkKeyed(b *testing.B)     { benchutil.Bench(b, suite("Keyed")) }

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

// TestFailsafePeersWork runs one trial of each failsafe-go peer: hedging
// must cut the p99 of a 5%-slow backend, and the limiter must serve a half
// load in full.
func TestFailsafePeersWork(t *testing.T) {
	if testing.Short() {
		t.Skip("real-clock trials")
	}
	hedge := Hedge().Workloads[0].Impl("failsafe")
	p99, err := hedge.Trial(t.Context(), 5)
	if err != nil || p99 >= 60 {
		t.Errorf("failsafe hedge trial: p99 %.1f ms, err %v; want under the slow calls' 60 ms", p99, err)
	}
	shed := Shed().Workloads[0].Impl("failsafe")
	goodput, err := shed.Trial(t.Context(), 50)
	if err != nil || goodput < 0.45 {
		t.Errorf("failsafe shed trial at half load: goodput %.2f, err %v; want about 0.5", goodput, err)
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
