package suites

import (
	"context"
	"iter"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/breakeven-go/breakeven/fanout"
	"github.com/breakeven-go/breakeven/internal/benchutil"
)

// streamJob is one Stream workload: n items of item() each, at limit
// (0: GOMAXPROCS).
type streamJob struct {
	name  string
	n     int
	limit int
	item  func(i int) uint64
}

// MicroIters is calibrated like TinyIters and CPUIters: about 1 us of CPU.
const MicroIters = 700

var streamJobs = []streamJob{
	{"tiny10k", 10_000, 0, func(i int) uint64 { return Work(i, TinyIters) }},
	{"cpu1us", 4000, 0, func(i int) uint64 { return Work(i, MicroIters) }},
	{"cpu20us", 256, 0, func(i int) uint64 { return Work(i, CPUIters) }},
	{"io1ms", 200, 100, func(i int) uint64 { time.Sleep(time.Millisecond); return uint64(i) }},
}

// StreamRun is how an implementation streams: it calls fn for each item of
// items with at most limit calls at once and passes the results to sink in
// the order of items, returning when all are consumed.
type StreamRun func(ctx context.Context, items iter.Seq[int], limit int, fn func(int) uint64, sink func(uint64))

// Stream compares fanout.Stream with a serial loop (the baseline), the
// seed's channel pipeline written correctly (ChannelPipeline), and
// fanout.Map over the same items held in a slice, on tiny items (as in
// Fanout), CPU items of about 1 us and 20 us and 1 ms sleeping ("I/O")
// items at Limit(100). One op
// is one whole stream, consumed in order; Bench runs one caller, so -cpu 2
// asks how one stream uses two cores.
func Stream() benchutil.Suite {
	s := benchutil.Suite{Name: "Stream", Primitive: "fanout.Stream", Impl: "fanout", Baseline: "serial", BaselineDesc: "a serial loop", Goroutines: 1}
	for _, job := range streamJobs {
		items := make([]int, job.n)
		for i := range items {
			items[i] = i
		}
		seq := slices.Values(items)
		w := benchutil.Workload{Name: job.name}
		for _, im := range []struct {
			name string
			run  StreamRun
		}{
			{"serial", SerialStream},
			{"channels", func(ctx context.Context, items iter.Seq[int], limit int, fn func(int) uint64, sink func(uint64)) {
				ChannelPipeline(ctx, items, limit, limit, fn, sink) // buffers of limit: enough to keep workers busy
			}},
			{"fanout", FanoutStream},
		} {
			w.Impls = append(w.Impls, streamImpl(job, seq, im.name, im.run))
		}
		w.Impls = append(w.Impls, benchutil.Impl{Name: "fanout-map", Setup: func() benchutil.Body {
			var opts []fanout.Option
			if job.limit > 0 {
				opts = append(opts, fanout.Limit(job.limit))
			}
			return func(_, n int) {
				var sum uint64
				for range n {
					res, _ := fanout.Map(context.Background(), items, func(_ context.Context, i int) (uint64, error) {
						return job.item(i), nil
					}, opts...)
					for _, r := range res {
						sum += r
					}
				}
				streamSink.Store(sum)
			}
		}})
		s.Workloads = append(s.Workloads, w)
	}
	return s
}

var streamSink atomic.Uint64 // keeps results from being optimised away

func streamImpl(job streamJob, seq iter.Seq[int], name string, run StreamRun) benchutil.Impl {
	return benchutil.Impl{Name: name, Setup: func() benchutil.Body {
		limit := limitOr(job.limit)
		return func(_, n int) {
			var sum uint64
			for range n {
				run(context.Background(), seq, limit, job.item, func(r uint64) { sum += r })
			}
			streamSink.Store(sum)
		}
	}}
}

// StreamPeer returns the Stream workload's implementation named name, run
// by run at the workload's limit (GOMAXPROCS where it sets none), or nil for
// an unknown workload.
func StreamPeer(workload, name string, run StreamRun) []benchutil.Impl {
	for _, job := range streamJobs {
		if job.name != workload {
			continue
		}
		items := make([]int, job.n)
		for i := range items {
			items[i] = i
		}
		return []benchutil.Impl{streamImpl(job, slices.Values(items), name, run)}
	}
	return nil
}

// SerialStream is the baseline: a plain loop.
func SerialStream(_ context.Context, items iter.Seq[int], _ int, fn func(int) uint64, sink func(uint64)) {
	for i := range items {
		sink(fn(i))
	}
}

// FanoutStream streams with fanout.Stream at limit.
func FanoutStream(ctx context.Context, items iter.Seq[int], limit int, fn func(int) uint64, sink func(uint64)) {
	for r, err := range fanout.Stream(ctx, items, func(_ context.Context, i int) (uint64, error) { return fn(i), nil }, fanout.Limit(limit)) {
		if err != nil {
			panic(err) // fn never fails here
		}
		sink(r)
	}
}

// numbered is an item or a result with its position in the stream.
type numbered[V any] struct {
	seq int
	v   V
}

// ChannelPipeline is the seed's hand-written pipeline (appendix C) with its
// bugs fixed: a producer goroutine feeds numbered items into a channel of
// buffer slots, limit workers send numbered results into another, and the
// consumer puts them back in order. Each stage closes its output when its
// own inputs are done (one WaitGroup per stage), and every goroutine
// watches ctx, so the pipeline always ends and leaves nothing behind. What
// it still cannot do is bound its memory by less than its buffers (the
// seed's "1M buffer for safety" holds a million results behind a slow
// consumer), and the reorder map holds whatever arrives ahead of the next
// result.
func ChannelPipeline[R any](ctx context.Context, items iter.Seq[int], limit, buffer int, fn func(int) R, sink func(R)) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	in := make(chan numbered[int], buffer)
	out := make(chan numbered[R], buffer)
	var producer, workers sync.WaitGroup
	producer.Go(func() {
		defer close(in)
		seq := 0
		for i := range items {
			select {
			case in <- numbered[int]{seq, i}:
			case <-ctx.Done():
				return
			}
			seq++
		}
	})
	for range limit {
		workers.Go(func() {
			for it := range in {
				select {
				case out <- numbered[R]{it.seq, fn(it.v)}:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() {
		workers.Wait()
		close(out)
	}()
	defer func() { // stop and wait for everyone before returning
		cancel()
		for range out {
		}
		producer.Wait()
	}()
	ahead := map[int]R{}
	next := 0
	for r := range out {
		ahead[r.seq] = r.v
		for v, ok := ahead[next]; ok; v, ok = ahead[next] {
			delete(ahead, next)
			sink(v)
			next++
		}
	}
}

// HeapPayload is the size of each result in StreamPeakHeap.
const HeapPayload = 128

// StreamPeakHeap streams n items through impl ("fanout": fanout.Stream;
// "channels": ChannelPipeline with n-slot buffers, the seed's "buffer for
// safety") at GOMAXPROCS workers, each result a fresh HeapPayload-byte
// slice, to a consumer slower than the workers (about 1 us of CPU per
// result). It returns the peak live heap above the start, sampled after a
// GC every n/20 results.
func StreamPeakHeap(impl string, n int) uint64 {
	items := func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
	fn := func(i int) []byte {
		b := make([]byte, HeapPayload)
		b[0] = byte(i)
		return b
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, uint64(0)
	got := 0
	var sum uint64
	sink := func(b []byte) {
		sum += Work(int(b[0]), MicroIters) // the slow consumer
		if got++; got%(max(1, n/20)) == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > base {
				peak = max(peak, ms.HeapAlloc-base)
			}
		}
	}
	procs := runtime.GOMAXPROCS(0)
	switch impl {
	case "fanout":
		for r, err := range fanout.Stream(context.Background(), items, func(_ context.Context, i int) ([]byte, error) { return fn(i), nil }) {
			if err != nil {
				panic(err)
			}
			sink(r)
		}
	case "channels":
		ChannelPipeline(context.Background(), items, procs, n, fn, sink)
	default:
		panic("suites: StreamPeakHeap: unknown impl " + impl)
	}
	streamSink.Store(sum)
	return peak
}
