package suites

import (
	"context"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/breakeven-go/breakeven/fanout"
	"github.com/breakeven-go/breakeven/internal/benchutil"
)

// Work spins for about iters nanoseconds of CPU on the machines measured
// here (one multiply-xorshift round per iteration) and returns a value the
// compiler cannot discard.
func Work(seed, iters int) uint64 {
	x := uint64(seed) | 1
	for range iters {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// fanoutJob is one fan-out workload: n items of item() each, at limit.
type fanoutJob struct {
	name  string
	n     int
	limit int
	item  func(i int) uint64
}

// The work per item: TinyIters and CPUIters are calibrated so that an item
// costs tens of nanoseconds (tiny) and tens of microseconds (cpu) on the
// 2-core VM these suites were built on (BenchmarkWork in fanout reports the
// cost on yours).
const (
	TinyIters = 36
	CPUIters  = 14_000
)

var fanoutJobs = []fanoutJob{
	{"tiny10k", 10_000, 0, func(i int) uint64 { return Work(i, TinyIters) }},
	{"cpu256", 256, 0, func(i int) uint64 { return Work(i, CPUIters) }},
	{"io400", 400, 100, func(i int) uint64 { time.Sleep(time.Millisecond); return uint64(i) }},
}

// Fanout compares fanout.ForEach with a serial loop (the baseline),
// errgroup with SetLimit, and one goroutine per item, on 10k tiny items,
// 256 CPU-bound items and 400 sleeping ("I/O") items at Limit(100). One op
// is one whole call; Bench runs one caller, so -cpu 2 asks how one call
// uses two cores.
func Fanout() benchutil.Suite {
	s := benchutil.Suite{Name: "Fanout", Primitive: "fanout.ForEach", Impl: "fanout", Baseline: "serial", BaselineDesc: "a serial loop", Goroutines: 1}
	for _, job := range fanoutJobs {
		items := make([]int, job.n)
		for i := range items {
			items[i] = i
		}
		out := func() []uint64 { return make([]uint64, job.n) }
		s.Workloads = append(s.Workloads, benchutil.Workload{Name: job.name, Impls: []benchutil.Impl{
			{Name: "serial", Setup: func() benchutil.Body {
				return func(_, n int) {
					res := out()
					for range n {
						for i := range items {
							res[i] = job.item(i)
						}
					}
				}
			}},
			{Name: "errgroup", Setup: func() benchutil.Body {
				return func(_, n int) {
					res := out()
					for range n {
						g, _ := errgroup.WithContext(context.Background())
						g.SetLimit(limitOr(job.limit))
						for i := range items {
							g.Go(func() error { res[i] = job.item(i); return nil })
						}
						g.Wait()
					}
				}
			}},
			{Name: "goroutine-per-item", Setup: func() benchutil.Body {
				return func(_, n int) {
					res := out()
					for range n {
						var wg sync.WaitGroup
						for i := range items {
							wg.Go(func() { res[i] = job.item(i) })
						}
						wg.Wait()
					}
				}
			}},
			{Name: "fanout", Setup: func() benchutil.Body {
				var opts []fanout.Option
				if job.limit > 0 {
					opts = append(opts, fanout.Limit(job.limit))
				}
				return func(_, n int) {
					res := out()
					for range n {
						fanout.ForEach(context.Background(), items, func(_ context.Context, i int) error {
							res[i] = job.item(i)
							return nil
						}, opts...)
					}
				}
			}},
		}})
	}
	return s
}

// limitOr returns limit, or for 0 fanout's default (GOMAXPROCS), which
// errgroup, having no default, must be given.
func limitOr(limit int) int {
	if limit > 0 {
		return limit
	}
	return runtime.GOMAXPROCS(0)
}

// FanoutRun is how a peer library runs item(i) for every i in [0, n) with
// at most limit at once, returning when all are done (internal/peerbench).
type FanoutRun func(n, limit int, item func(i int))

// FanoutPeer returns the Fanout workload's implementation named name, run
// by run at the workload's limit (GOMAXPROCS where it sets none), or nil for
// an unknown workload.
func FanoutPeer(workload, name string, run FanoutRun) []benchutil.Impl {
	for _, job := range fanoutJobs {
		if job.name != workload {
			continue
		}
		return []benchutil.Impl{{Name: name, Setup: func() benchutil.Body {
			res := make([]uint64, job.n)
			limit := limitOr(job.limit)
			return func(_, n int) {
				for range n {
					run(job.n, limit, func(i int) { res[i] = job.item(i) })
				}
			}
		}}}
	}
	return nil
}
