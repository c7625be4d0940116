package shard

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/breakeven-go/breakeven/internal/pin"
)

// Counter is a per-CPU striped int64 counter for hot paths that many
// goroutines bump at once (request counts, bytes served).
//
// Add writes one cell owned by the P (logical CPU) the caller runs on, with
// no atomic instruction and no cache line shared with another CPU; Load sums
// the cells. Where it wins and where it loses (BenchmarkCounter; figures for
// your hardware from cmd/breakeven):
//
//   - Add from several goroutines costs a small fraction of an
//     atomic.Int64.Add, whose cache line bounces between the cores, and less
//     than puzpuzpuz/xsync's Counter.
//   - Add from one goroutine still costs less than atomic.Int64.Add: the
//     plain write to an owned cell is cheaper than a LOCK-prefixed add even
//     uncontended.
//   - Load is O(GOMAXPROCS): it reads every cell. When Loads are about as
//     frequent as Adds, one goroutine pays more than with an atomic.Int64.
//   - Under -race, in the portable build (-tags breakeven_purego) and on
//     32-bit platforms, Add falls back to an atomic add on its cell: a
//     little dearer than atomic.Int64 alone, still far cheaper under
//     contention.
//
// For periodic export, LoadAndReset reads the value and starts the next
// interval from 0 without losing a concurrent Add.
//
// Prefer a plain atomic.Int64 when Load is about as frequent as Add, when
// you need an exact value at an instant (Load here is not a snapshot) or
// CompareAndSwap, when you keep thousands of counters (each Counter takes
// 128 bytes per P, an atomic 8), or when the counter is off the hot path: at
// a few thousand increments per second contention is not measurable and
// the atomic is simpler.
//
// The zero Counter is ready to use and holds 0. A Counter is safe for
// concurrent use and must not be copied after first use. It stays correct
// when GOMAXPROCS grows or shrinks at run time: a P id beyond the cells
// allocated so far adds a larger set of cells once, and Load keeps summing
// the older sets, so no increment is ever lost.
type Counter struct {
	_     noCopy
	cells atomic.Pointer[cellSet]
	// base is what the cells summed to at the last Reset or LoadAndReset:
	// the counter's value is the cells' sum minus base. Resetting never
	// writes a cell, since with owned writes only a cell's own P may.
	base    atomic.Int64
	resetMu sync.Mutex // orders resets, so each reads every cell after the previous one did
}

// cellSize is the distance between two cells. Cells one word apart share a
// cache line and every Add would bounce it between cores: BenchmarkCellStride
// measures an 8-byte stride several times as costly at 2 procs as a 64-byte
// one. 128 rather than 64 because Intel cores prefetch cache lines in
// adjacent pairs (the spatial prefetcher), so neighbouring 64-byte lines
// written by two cores can still interfere; on the 2-core VM measured here
// 64 and 128 cost the same, so the larger stride costs only memory: 64 bytes
// more per P per Counter.
const cellSize = 128

type cell struct {
	n int64 // accessed with sync/atomic, or owned (see ownedWrites)
	_ [cellSize - 8]byte
}

// ownedWrites says whether Add may update its cell with a plain
// read-modify-write instead of an atomic (LOCK-prefixed) add, which is most
// of an uncontended Add's cost: see pin.Owned for when that is safe. Every
// write to a cell, the slow path's included, is made pinned by the cell's
// own P. Elsewhere (the portable build, 32-bit platforms, -race) Add uses an
// atomic add, which is correct with any number of writers per cell.
const ownedWrites = pin.Owned

func (c *cell) add(delta int64) {
	if ownedWrites {
		c.n += delta
	} else {
		atomic.AddInt64(&c.n, delta)
	}
}

func (c *cell) load() int64 { return atomic.LoadInt64(&c.n) }

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
// allocate, except on the zero Counter's first Add and once after GOMAXPROCS
// grows past the cells allocated.
func (c *Counter) Add(delta int64) {
	cs := c.cells.Load()
	i := pin.Index()
	if cs != nil {
		if !pin.Exact {
			i &= len(cs.cells) - 1
		}
		if i < len(cs.cells) {
			cs.cells[i].add(delta)
			pin.Unpin()
			return
		}
	}
	pin.Unpin()
	c.addSlow(delta)
}

// addSlow runs for the zero Counter's first Add and after GOMAXPROCS grew.
// It allocates unpinned (as sync.Pool does), installs a new generation with a
// CAS so that concurrent growers agree on one, and then pins again to add:
// with ownedWrites, a cell must only ever be written by its own P.
func (c *Counter) addSlow(delta int64) {
	for {
		cs := c.cells.Load()
		i := pin.Index()
		if cs != nil {
			if !pin.Exact {
				i &= len(cs.cells) - 1
			}
			if i < len(cs.cells) {
				cs.cells[i].add(delta)
				pin.Unpin()
				return
			}
		}
		pin.Unpin()
		c.cells.CompareAndSwap(cs, newCellSet(cs, i))
	}
}

func newCellSet(prev *cellSet, minIndex int) *cellSet {
	n := runtime.GOMAXPROCS(0)
	if pin.Exact {
		n = max(n, minIndex+1)
	} else {
		// Striping by goroutine rather than by P (minIndex is a hash,
		// not a P id): more cells than Ps makes two goroutines sharing
		// one less likely; the mask in Add needs a power of two.
		n = ceilPow2(4 * n)
	}
	return &cellSet{cells: make([]cell, n), prev: prev}
}

// Load returns the counter's value: the sum of all cells (less what the
// last Reset or LoadAndReset took). It reads the cells one after another,
// not at one instant, so Adds that run concurrently may or may not be
// counted: it is not a linearizable snapshot. Once the Adds have finished
// (a WaitGroup, a channel, a mutex ordering them before the Load), it is
// exact. Load costs O(GOMAXPROCS) and does not allocate.
func (c *Counter) Load() int64 {
	// base first: a reset between the two loads then reads as one that
	// had not happened yet, never as a value below zero.
	base := c.base.Load()
	return c.sum() - base
}

// sum adds up every cell of every generation.
func (c *Counter) sum() int64 {
	var sum int64
	for cs := c.cells.Load(); cs != nil; cs = cs.prev {
		for i := range cs.cells {
			sum += cs.cells[i].load()
		}
	}
	return sum
}

// LoadAndReset returns the counter's value and sets it to 0 in one step, for
// periodic export ("requests in the last interval"). No Add is lost or
// counted twice across calls: an Add running concurrently lands either in
// the value returned or in the next one. The counter's cells are not
// written (only a cell's own P writes it); the sum they held is remembered
// instead, so LoadAndReset costs what Load costs, plus a lock that orders
// concurrent resets. Adds never take it.
func (c *Counter) LoadAndReset() int64 {
	c.resetMu.Lock()
	defer c.resetMu.Unlock()
	sum := c.sum()
	return sum - c.base.Swap(sum)
}

// Reset sets the counter to 0, with the guarantee LoadAndReset gives for
// concurrent Adds.
func (c *Counter) Reset() { c.LoadAndReset() }

// CounterStats is a snapshot of a Counter's layout and value.
type CounterStats struct {
	Value       int64 // what Load returns (the cells' sum less the last reset's)
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
			s.Value += cs.cells[i].load()
		}
	}
	s.Value -= c.base.Load()
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
