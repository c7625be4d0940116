// Command buffer-pool sends a burst through two buffer pools and shows what
// each keeps afterwards: 64 goroutines each take a 1 MiB buffer, use it and
// put it back. sync.Pool keeps every buffer put back (until two garbage
// collections pass), so one burst leaves about 64 MiB pinned; pool.Bytes
// with MaxRetained(8 MiB) keeps at most 8 MiB and drops the rest for the
// garbage collector, and says so in its Stats.
//
//	go run ./examples/buffer-pool
package main

import (
	"fmt"
	"io"
	"log"
	"os"
	"runtime"
	"sync"

	"github.com/breakeven-go/breakeven/pool"
)

func main() {
	if err := run(os.Stdout, 64, 1<<20); err != nil {
		log.Fatal(err)
	}
}

// burst has n goroutines each get a size-byte buffer, touch it, and put it
// back, all holding their buffers at the same time (a traffic spike).
func burst(n, size int, get func() []byte, put func([]byte)) {
	var held, wg sync.WaitGroup
	held.Add(n)
	for range n {
		wg.Go(func() {
			b := get()
			b[len(b)-1] = 1
			held.Done()
			held.Wait() // every buffer is out at once
			put(b)
		})
	}
	wg.Wait()
}

// liveHeap returns the heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func run(out io.Writer, n, size int) error {
	const mib = 1 << 20
	base := liveHeap()

	var sp sync.Pool
	burst(n, size, func() []byte {
		if b, ok := sp.Get().(*[]byte); ok {
			return *b
		}
		return make([]byte, size)
	}, func(b []byte) { sp.Put(&b) })
	afterSync := liveHeap()
	fmt.Fprintf(out, "sync.Pool:  %2d MiB still live after the burst and a GC\n", (afterSync-base)/mib)
	runtime.KeepAlive(&sp)
	sp = sync.Pool{} // drop it before measuring the next pool

	base = liveHeap()
	bp := pool.NewBytes(pool.MaxRetained(8 * mib))
	burst(n, size, func() []byte { return bp.Get(size) }, bp.Put)
	afterBytes := liveHeap()
	st := bp.Stats()
	fmt.Fprintf(out, "pool.Bytes: %2d MiB still live after the burst and a GC (Stats: retained %d MiB, %d puts dropped)\n",
		(afterBytes-base)/mib, st.Retained/mib, st.Drops)
	runtime.KeepAlive(bp)
	return nil
}
