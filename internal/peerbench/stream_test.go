package peerbench

import (
	"slices"
	"testing"

	"github.com/breakeven-go/breakeven/internal/suites"
)

// TestStreamPeersKeepOrder checks the rill and conc peers are used
// correctly: every result, once, in order, at the limit.
func TestStreamPeersKeepOrder(t *testing.T) {
	for name, run := range map[string]suites.StreamRun{"rill": rillStream, "conc": concStream} {
		items := make([]int, 5000)
		for i := range items {
			items[i] = i
		}
		var got []uint64
		run(t.Context(), slices.Values(items), 4, func(i int) uint64 { return uint64(i) * 7 }, func(r uint64) { got = append(got, r) })
		if len(got) != len(items) {
			t.Fatalf("%s: %d results, want %d", name, len(got), len(items))
		}
		for i, r := range got {
			if r != uint64(i)*7 {
				t.Fatalf("%s: result %d = %d, want %d", name, i, r, i*7)
			}
		}
	}
}
