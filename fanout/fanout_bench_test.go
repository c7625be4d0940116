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
