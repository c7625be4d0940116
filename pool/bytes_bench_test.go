package pool_test

import (
	"runtime"
	"testing"

	"github.com/breakeven-go/breakeven/internal/baseline"
	"github.com/breakeven-go/breakeven/internal/benchutil"
	"github.com/breakeven-go/breakeven/internal/suites"
	"github.com/breakeven-go/breakeven/pool"
)

// BenchmarkBytes: pool.Bytes Get/Put against make (the baseline) and a
// sync.Pool of *[]byte, at 4 KiB, 64 KiB and 1 MiB.
//
//	go test -run '^$' -bench 'Bytes/' -cpu 1,2 -count 6 ./pool | benchstat -col /impl -
func BenchmarkBytes(b *testing.B) { benchutil.Bench(b, suites.Bytes()) }

// BenchmarkBytesBurst measures what each pool keeps alive: 64 buffers of
// 1 MiB are taken at once and all put back, then one garbage collection
// runs; live-MiB is the heap still in use. ns/op is the cost of one burst.
func BenchmarkBytesBurst(b *testing.B) {
	const size, burst = 1 << 20, 64
	type impl struct {
		name     string
		get      func() []byte
		put      func([]byte)
		keepLive func()
	}
	sp := baseline.NewSyncPoolBytes(size)
	ours := pool.NewBytes(pool.MaxRetained(8 << 20))
	for _, im := range []impl{
		{"make", func() []byte { return make([]byte, size) }, func([]byte) {}, func() {}},
		{"syncpool", func() []byte { return *sp.GetPtr(size) }, func(x []byte) { sp.PutPtr(&x) }, func() { runtime.KeepAlive(sp) }},
		{"ours", func() []byte { return ours.Get(size) }, ours.Put, func() { runtime.KeepAlive(ours) }},
	} {
		b.Run("impl="+im.name, func(b *testing.B) {
			held := make([][]byte, burst)
			var live uint64
			for range b.N {
				for i := range held {
					held[i] = im.get()
				}
				for i := range held {
					im.put(held[i])
					held[i] = nil
				}
				b.StopTimer()
				live = liveHeap()
				im.keepLive()
				b.StartTimer()
			}
			b.ReportMetric(float64(live)/(1<<20), "live-MiB")
		})
	}
}

// BenchmarkPool: pool.Pool Get/Put of a 1 KiB object against new(T) (the
// baseline) and sync.Pool.
func BenchmarkPool(b *testing.B) { benchutil.Bench(b, suites.Pool()) }
