package fanout_test

import (
	"testing"

	"github.com/breakeven-go/breakeven/internal/benchutil"
	"github.com/breakeven-go/breakeven/internal/suites"
)

// BenchmarkFanout: fanout.ForEach against a serial loop (the baseline),
// errgroup.SetLimit and a goroutine per item; one call at a time.
//
//	go test -run '^$' -bench Fanout -cpu 1,2 -count 6 ./fanout | benchstat -col /impl -
func BenchmarkFanout(b *testing.B) { benchutil.Bench(b, suites.Fanout()) }

// BenchmarkWork reports what one tiny and one CPU item cost on this
// machine, to read the Fanout numbers against.
func BenchmarkWork(b *testing.B) {
	for _, w := range []struct {
		name  string
		iters int
	}{{"tiny", suites.TinyIters}, {"cpu", suites.CPUIters}} {
		b.Run(w.name, func(b *testing.B) {
			var sink uint64
			for i := range b.N {
				sink += suites.Work(i, w.iters)
			}
			workSink = sink
		})
	}
}

var workSink uint64

// BenchmarkStream: fanout.Stream against a serial loop (the baseline), the
// seed's channel pipeline written correctly, and fanout.Map over the same
// items in a slice; one stream at a time.
//
//	go test -run '^$' -bench Stream -cpu 1,2 -count 6 ./fanout | benchstat -col /impl -
func BenchmarkStream(b *testing.B) { benchutil.Bench(b, suites.Stream()) }

// BenchmarkStreamPeakHeap reports the peak live heap (MB) of a stream of
// 1M results of 128 bytes consumed slower than they are produced: by
// fanout.Stream, and by the channel pipeline with 1M-slot buffers.
//
//	go test -run '^$' -bench StreamPeakHeap -benchtime 1x ./fanout
func BenchmarkStreamPeakHeap(b *testing.B) {
	for _, impl := range []string{"fanout", "channels"} {
		b.Run("impl="+impl, func(b *testing.B) {
			var peak uint64
			for range b.N {
				peak = max(peak, suites.StreamPeakHeap(impl, 1_000_000))
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
		})
	}
}

// TestStreamHeapBounded: a stream whose consumer is slower than its workers
// holds a bounded number of results (a window of chunks), not the stream.
func TestStreamHeapBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("100k items through a slow consumer")
	}
	const n = 100_000
	if peak := suites.StreamPeakHeap("fanout", n); peak > n*suites.HeapPayload/10 {
		t.Fatalf("peak live heap %d bytes for %d results of %d bytes: not bounded by the window", peak, n, suites.HeapPayload)
	}
}
