package suites

import (
	"fmt"
	"sync"

	"github.com/breakeven-go/breakeven/internal/baseline"
	"github.com/breakeven-go/breakeven/internal/benchutil"
	"github.com/breakeven-go/breakeven/pool"
)

// PoolSizes are the buffer sizes of the Bytes workloads.
var PoolSizes = []int{4 << 10, 64 << 10, 1 << 20}

// Bytes compares pool.Bytes with allocating every buffer (the baseline) and
// a sync.Pool of *[]byte: each op gets a buffer, writes its first and last
// byte, and puts it back.
func Bytes() benchutil.Suite {
	s := benchutil.Suite{Name: "Bytes", Primitive: "pool.Bytes", Impl: "ours", Baseline: "make", BaselineDesc: "make([]byte, n)"}
	for _, size := range PoolSizes {
		s.Workloads = append(s.Workloads, benchutil.Workload{Name: fmt.Sprintf("getput/%s", sizeLabel(size)), Impls: []benchutil.Impl{
			{Name: "make", Setup: func() benchutil.Body {
				return func(_, n int) {
					for range n {
						b := make([]byte, size)
						touch(b)
					}
				}
			}},
			{Name: "syncpool", Setup: func() benchutil.Body {
				p := baseline.NewSyncPoolBytes(size)
				return func(_, n int) {
					for range n {
						b := p.GetPtr(size)
						touch(*b)
						p.PutPtr(b)
					}
				}
			}},
			{Name: "ours", Setup: func() benchutil.Body {
				p := pool.NewBytes()
				return func(_, n int) {
					for range n {
						b := p.Get(size)
						touch(b)
						p.Put(b)
					}
				}
			}},
		}})
	}
	return s
}

// touch writes the first and last byte, as a user of the buffer would; the
// writes also keep the compiler from treating the buffer as unused.
//
//go:noinline
func touch(b []byte) {
	b[0]++
	b[len(b)-1]++
}

func sizeLabel(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprint(n)
}

// encoder stands for an object worth pooling: 1 KiB of state to set up.
type encoder struct{ buf [1024]byte }

// Pool compares pool.Pool with allocating a new object per use (the
// baseline) and a sync.Pool, for a 1 KiB object: each op gets one, writes
// to it, and puts it back.
func Pool() benchutil.Suite {
	return benchutil.Suite{Name: "Pool", Primitive: "pool.Pool", Impl: "ours", Baseline: "new", BaselineDesc: "new(T)",
		Workloads: []benchutil.Workload{{Name: "getput/1KiB", Impls: []benchutil.Impl{
			{Name: "new", Setup: func() benchutil.Body {
				// A pooled object lives on the heap, so this one must
				// too: storing it in a per-goroutine heap slot (padded
				// against false sharing) makes it escape.
				sinks := make([]struct {
					e *encoder
					_ [120]byte
				}, 64)
				return func(worker, n int) {
					sink := &sinks[worker%len(sinks)]
					for range n {
						e := new(encoder)
						touch(e.buf[:])
						sink.e = e
					}
				}
			}},
			{Name: "syncpool", Setup: func() benchutil.Body {
				var p sync.Pool
				p.New = func() any { return new(encoder) }
				return func(_, n int) {
					for range n {
						e := p.Get().(*encoder)
						touch(e.buf[:])
						p.Put(e)
					}
				}
			}},
			{Name: "ours", Setup: func() benchutil.Body {
				p := pool.New(func() *encoder { return new(encoder) })
				return func(_, n int) {
					for range n {
						e := p.Get()
						touch(e.buf[:])
						p.Put(e)
					}
				}
			}},
		}}},
	}
}
