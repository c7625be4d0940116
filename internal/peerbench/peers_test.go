package peerbench

import (
	"sync"
	"testing"

	"github.com/puzpuzpuz/xsync/v4"
	"go.uber.org/goleak"

	"github.com/breakeven-go/breakeven/internal/benchutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func BenchmarkCounter(b *testing.B) { benchutil.Bench(b, Counter()) }

func BenchmarkMap(b *testing.B) { benchutil.Bench(b, Map()) }

func TestPeerSuitesValid(t *testing.T) {
	for _, s := range []benchutil.Suite{Counter(), Map()} {
		if err := s.Validate(); err != nil {
			t.Error(err)
		}
		for _, w := range s.Workloads {
			if len(w.Impls) < 4 {
				t.Errorf("%s/%s has %d impls, want the root ones plus peers", s.Name, w.Name, len(w.Impls))
			}
		}
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
