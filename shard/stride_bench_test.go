package shard

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkCellStride measures what cellSize is for: GOMAXPROCS goroutines
// each add to their own int64, the int64s stride bytes apart. stride=8 is the
// unpadded baseline (false sharing on one line); 64 puts each on its own
// cache line; 128 also keeps adjacent-line prefetch pairs apart.
func BenchmarkCellStride(b *testing.B) {
	for _, stride := range []int{8, 64, 128} {
		b.Run(fmt.Sprintf("stride=%d", stride), func(b *testing.B) {
			g := runtime.GOMAXPROCS(0)
			words := make([]atomic.Int64, (g+1)*stride/8)
			var wg sync.WaitGroup
			b.ResetTimer()
			for w := range g {
				n := b.N / g
				if w < b.N%g {
					n++
				}
				wg.Go(func() {
					cell := &words[w*stride/8]
					for range n {
						cell.Add(1)
					}
				})
			}
			wg.Wait()
		})
	}
}
