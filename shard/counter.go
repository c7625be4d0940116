package shard

import (
	"runtime"
	"sync/atomic"
)

// Counter is a per-CPU striped int64 counter for write-heavy hot paths
// (request counts, bytes served) that many goroutines bump at once.
//
// Add writes one cell owned by the P (logical CPU) the caller runs on, so
// goroutines on different CPUs never write the same cache line; Load sums the
// cells. Measured on a 2-core x86-64 VM with this repository's suite
// (BenchmarkCounter, -cpu 1,2):
//
//   - Add from 2 goroutines costs about 0.2x atomic.Int64.Add (the atomic's
//     cache line bounces between the cores; the cells do not).
//   - Add from 1 goroutine costs about 1.6x atomic.Int64.Add: pinning to the
//     P is pure overhead when nobody contends.
//   - Load is O(GOMAXPROCS): it reads every cell.
//
// Prefer a plain atomic.Int64 when one goroutine does most of the writing,
// when Load is called about as often as Add, or when the counter is not on a
// hot path: at a few thousand increments per second contention is not
// measurable and the atomic is simpler and exact at every instant.
//
// The zero Counter is ready to use and holds 0. A Counter is safe for
// concurrent use and must not be copied after first use. It stays correct
// when GOMAXPROCS grows or shrinks at run time: a P id beyond the cells
// allocated so far adds a larger set of cells once, and Load keeps summing
// the older sets, so no increment is ever lost.
type Counter struct {
	_     noCopy
	cells atomic.Pointer[cellSet]
}

// cellSize is the distance between two cells. 128 rather than the 64-byte
// cache line: Intel cores prefetch cache lines in adjacent pairs (the "spatial
// prefetcher"), so two cores writing neighbouring 64-byte lines still slow
// each other down. BenchmarkCellStride measures it on the machine at hand.
const cellSize = 128

type cell struct {
	n atomic.Int64
	_ [cellSize - 8]byte
}

// cellSet is one generation of cells. A new generation is added only when a
// P id falls outside the current one (GOMAXPROCS grew); prev keeps the older
// generations reachable so Load still counts what was added to them.
type cellSet struct {
	cells []cell
	prev  *cellSet
}

// NewCounter returns a Counter holding 0 with one cell per P.
func NewCounter() *Counter {
	c := new(Counter)
	c.cells.Store(newCellSet(nil, 0))
	return c
}

// Add adds delta (which may be negative) to the counter. It does not
// allocate, except once after GOMAXPROCS grows past the cells allocated.
func (c *Counter) Add(delta int64) {
	cs := c.cells.Load()
	i := cellIndex()
	if cs != nil {
		if !pinned {
			i &= len(cs.cells) - 1
		}
		if i < len(cs.cells) {
			cs.cells[i].n.Add(delta)
			unpin()
			return
		}
	}
	unpin()
	c.addSlow(delta)
}

// addSlow runs for the zero Counter's first Add and after GOMAXPROCS grew.
// It never holds the pin while allocating, and installs a new generation
// with a CAS so that concurrent growers agree on one.
func (c *Counter) addSlow(delta int64) {
	for {
		cs := c.cells.Load()
		i := cellIndex()
		unpin()
		if cs != nil {
			if !pinned {
				i &= len(cs.cells) - 1
			}
			if i < len(cs.cells) {
				// The goroutine may have moved to another P since
				// unpin; the atomic add keeps the sum right anyway.
				cs.cells[i].n.Add(delta)
				return
			}
		}
		c.cells.CompareAndSwap(cs, newCellSet(cs, i))
	}
}

func newCellSet(prev *cellSet, minIndex int) *cellSet {
	n := runtime.GOMAXPROCS(0)
	if pinned {
		n = max(n, minIndex+1)
	} else {
		// Striping by goroutine rather than by P (minIndex is a hash,
		// not a P id): more cells than Ps makes two goroutines sharing
		// one less likely; the mask in Add needs a power of two.
		n = ceilPow2(4 * n)
	}
	return &cellSet{cells: make([]cell, n), prev: prev}
}

// Load returns the sum of all cells. It reads each cell atomically but not
// all at one instant: under concurrent Adds the result is a value the
// counter passed through or will pass through only if the Adds are all
// positive (or all negative); it is not a linearizable snapshot. Load costs
// O(GOMAXPROCS).
func (c *Counter) Load() int64 {
	var sum int64
	for cs := c.cells.Load(); cs != nil; cs = cs.prev {
		for i := range cs.cells {
			sum += cs.cells[i].n.Load()
		}
	}
	return sum
}

// CounterStats is a snapshot of a Counter's layout and value.
type CounterStats struct {
	Value       int64 // what Load returns
	Cells       int   // cells across all generations
	Generations int   // 1, plus one for each time GOMAXPROCS outgrew the cells
}

// Stats returns a snapshot of the counter.
func (c *Counter) Stats() CounterStats {
	var s CounterStats
	for cs := c.cells.Load(); cs != nil; cs = cs.prev {
		s.Generations++
		s.Cells += len(cs.cells)
		for i := range cs.cells {
			s.Value += cs.cells[i].n.Load()
		}
	}
	return s
}

// ceilPow2 returns the smallest power of two >= n, for n >= 1.
func ceilPow2(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}

// noCopy makes go vet's copylocks check flag copies of the types that embed
// it (see sync.noCopy).
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
