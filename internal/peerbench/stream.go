package peerbench

import (
	"context"
	"iter"

	"github.com/destel/rill"
	"github.com/sourcegraph/conc/stream"

	"github.com/breakeven-go/breakeven/internal/benchutil"
	"github.com/breakeven-go/breakeven/internal/suites"
)

// Stream is the Stream suite plus impl=rill (destel/rill's OrderedMap over
// FromSeq and ToSeq2) and impl=conc (sourcegraph/conc's stream with
// WithMaxGoroutines); the channel pipeline and fanout.Map are in the root
// suite.
func Stream() benchutil.Suite {
	return withPeers(suites.Stream(), func(workload string) []benchutil.Impl {
		return append(suites.StreamPeer(workload, "rill", rillStream), suites.StreamPeer(workload, "conc", concStream)...)
	})
}

// rillStream is rill's ordered concurrent map, read back as an iterator.
// rill has no context: fn cannot be cancelled, and a consumer that stops
// early must drain the channel (rill.DrainNB) or its goroutines stay.
func rillStream(_ context.Context, items iter.Seq[int], limit int, fn func(int) uint64, sink func(uint64)) {
	out := rill.OrderedMap(rill.FromSeq(items, nil), limit, func(i int) (uint64, error) { return fn(i), nil })
	for r, err := range rill.ToSeq2(out) {
		if err != nil {
			panic(err) // fn never fails here
		}
		sink(r)
	}
}

// concStream submits each item as a task whose callback, run in order on
// one goroutine, passes the result on. conc's stream has neither errors nor
// a context.
func concStream(_ context.Context, items iter.Seq[int], limit int, fn func(int) uint64, sink func(uint64)) {
	s := stream.New().WithMaxGoroutines(limit)
	for i := range items {
		s.Go(func() stream.Callback {
			r := fn(i)
			return func() { sink(r) }
		})
	}
	s.Wait()
}
