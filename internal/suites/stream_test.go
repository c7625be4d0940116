package suites

import (
	"context"
	"iter"
	"slices"
	"testing"
)

// TestStreamRunsKeepOrder proves the Stream suite's implementations
// correct, not only measured: each passes every result, in order.
func TestStreamRunsKeepOrder(t *testing.T) {
	for name, run := range map[string]StreamRun{
		"serial": SerialStream,
		"fanout": FanoutStream,
		"channels": func(ctx context.Context, items iter.Seq[int], limit int, fn func(int) uint64, sink func(uint64)) {
			ChannelPipeline(ctx, items, limit, 3, fn, sink)
		},
	} {
		var seq []uint64
		items := make([]int, 5000)
		for i := range items {
			items[i] = i
		}
		run(t.Context(), slices.Values(items), 4, func(i int) uint64 { return uint64(i) * 7 }, func(r uint64) { seq = append(seq, r) })
		if len(seq) != len(items) {
			t.Fatalf("%s: %d results, want %d", name, len(seq), len(items))
		}
		for i, r := range seq {
			if r != uint64(i)*7 {
				t.Fatalf("%s: result %d = %d, want %d", name, i, r, i*7)
			}
		}
	}
}
