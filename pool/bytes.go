package pool

import (
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/breakeven-go/breakeven/internal/pin"
)

// Bytes is a pool of byte slices in power-of-two size classes that keeps at
// most MaxRetained bytes of capacity alive, however many buffers come back
// and across garbage collections.
//
// Get(n) returns a slice of length n from the smallest class that holds n:
// sizes at or below the smallest class (64 bytes by default, including 0)
// come from the smallest class, so Get(3) returns a buffer of capacity 64.
// Put files a buffer under the largest class its capacity covers, without
// allocating. Sizes above the largest class are not pooled: Get allocates
// them exactly and Put drops them, so one huge request cannot pin its
// buffer in the pool (golang/go#23199). Put also drops buffers whose
// capacity is below the smallest class, which no class can serve.
//
// Memory is bounded in two tiers. Each P keeps up to MaxRetained/(2 x
// slots) bytes in its own slot (slots: GOMAXPROCS rounded up to a power of
// two), which serves the common case of a goroutine putting back what it
// got, on one CPU, without a lock. What does not fit there goes to a shared
// tier of the other half, where large buffers and buffers moving between
// CPUs meet. A Put over both shares drops the buffer.
//
// Cost: a Get/Put cycle costs a little more than a sync.Pool of *[]byte,
// the price of the bound and of size classes, and far less than allocating
// with make from a few KiB up. Unlike sync.Pool, it keeps no more than
// MaxRetained after a burst (BenchmarkBytesBurst measures both).
//
// Buffers from Get are not zeroed: a reused buffer holds what its last user
// wrote. The zero value is ready to use, with the defaults of [NewBytes]. A
// Bytes is safe for concurrent use and must not be copied after first use.
type Bytes struct {
	_        noCopy
	ready    atomic.Bool // the fields below are set (NewBytes, or lazily by init)
	initMu   sync.Mutex
	minShift int // class c holds buffers of capacity >= 1<<(minShift+c)
	minSize  int
	maxSize  int
	slots    []bytesSlot
	shared   bytesTier
}

// maxClasses bounds the size classes: 1 byte to 1 GiB is 31 of them; the
// array has 32 so that a class index masked with classMask needs no bounds
// check on the hot path.
const (
	maxClasses = 32
	classMask  = maxClasses - 1
)

// bytesTier is one set of free lists with the bytes it retains and its
// counters. A P's slot is written either by its own P while pinned (when
// pin.Owned: no lock, the way shard.Counter writes its cell) or under mu
// (race and portable builds); the shared tier always under mu.
type bytesTier struct {
	mu                      sync.Mutex
	free                    [maxClasses][][]byte
	retained                int64 // capacity of the buffers in free
	share                   int64 // the most retained may reach
	gets, puts, news, drops uint64
}

// bytesSlot is one P's tier, padded to whole pads so two slots never share
// a cache line.
type bytesSlot struct {
	bytesTier
	_ [bytesSlotPad]byte
}

const bytesSlotPad = (pad - (8+maxClasses*24+8+8+32)%pad) % pad

// Default bounds of NewBytes and of the zero Bytes.
const (
	defaultMaxRetained = 32 << 20
	defaultMinSize     = 64
	defaultMaxSize     = 4 << 20
)

// NewBytes returns an empty Bytes pool. Defaults: MaxRetained 32 MiB, size
// classes from 64 bytes to 4 MiB.
func NewBytes(opts ...BytesOption) *Bytes {
	cfg := bytesConfig{maxRetained: defaultMaxRetained, minSize: defaultMinSize, maxSize: defaultMaxSize}
	for _, o := range opts {
		o.apply(&cfg)
	}
	b := new(Bytes)
	b.setup(cfg)
	return b
}

// init sets up a zero Bytes with the defaults, once.
func (b *Bytes) init() {
	b.initMu.Lock()
	defer b.initMu.Unlock()
	if !b.ready.Load() {
		b.setup(bytesConfig{maxRetained: defaultMaxRetained, minSize: defaultMinSize, maxSize: defaultMaxSize})
	}
}

func (b *Bytes) setup(cfg bytesConfig) {
	n := slotCount()
	b.minShift = bits.TrailingZeros(uint(cfg.minSize))
	b.minSize, b.maxSize = cfg.minSize, cfg.maxSize
	b.slots = make([]bytesSlot, n)
	local := cfg.maxRetained / int64(2*n)
	for i := range b.slots {
		b.slots[i].share = local
	}
	b.shared.share = cfg.maxRetained - local*int64(n)
	b.ready.Store(true) // publishes the fields above to every later Load
}

// Get returns a slice of length n and capacity at least n: a pooled buffer
// of n's size class if one is free (without allocating), else a new one
// with the class's capacity. Get panics if n is negative, as make does.
func (b *Bytes) Get(n int) []byte {
	if !b.ready.Load() {
		b.init()
	}
	if uint(n) > uint(b.maxSize) { // also n < 0
		return b.getHuge(n)
	}
	// The class of n: 0 up to the smallest size, then one per doubling.
	c := bits.Len(uint(max(n, 1)-1)>>b.minShift) & classMask
	if pin.Owned {
		// Fast path: pop from this P's own slot, no lock (see pin.Owned).
		if i := pin.Index(); i < len(b.slots) {
			s := &b.slots[i]
			s.gets++
			if l := s.free[c]; len(l) > 0 {
				buf := l[len(l)-1]
				l[len(l)-1] = nil // drop the reference the spare capacity would keep
				s.free[c] = l[:len(l)-1]
				s.retained -= int64(cap(buf))
				pin.Unpin()
				return buf[:n]
			}
			pin.Unpin()
			return b.getShared(n, c)
		}
		pin.Unpin()
		b.shared.mu.Lock()
		b.shared.gets++ // a P beyond the slots uses the shared tier only
		b.shared.mu.Unlock()
		return b.getShared(n, c)
	}
	if buf, ok := b.getLocked(c); ok {
		return buf[:n]
	}
	return b.getShared(n, c)
}

// getHuge serves a size above the largest class (or panics on a negative
// one): allocated exactly, never pooled.
func (b *Bytes) getHuge(n int) []byte {
	if n < 0 {
		panic(fmt.Sprintf("pool: Bytes.Get(%d): negative length", n))
	}
	b.shared.mu.Lock()
	b.shared.gets++
	b.shared.news++
	b.shared.mu.Unlock()
	return make([]byte, n)
}

// getShared pops a class-c buffer from the shared tier, or allocates one.
func (b *Bytes) getShared(n, c int) []byte {
	b.shared.mu.Lock()
	buf, ok := b.shared.pop(c)
	if !ok {
		b.shared.news++
	}
	b.shared.mu.Unlock()
	if ok {
		return buf[:n]
	}
	return make([]byte, n, 1<<(b.minShift+c))
}

// getLocked pops from the slot of the caller's P (or goroutine hash) under
// the slot's lock: race and portable builds, where slots are not owned.
func (b *Bytes) getLocked(c int) ([]byte, bool) {
	i := pin.Index()
	pin.Unpin()
	s := &b.slots[i&(len(b.slots)-1)]
	s.mu.Lock()
	s.gets++
	buf, ok := s.pop(c)
	s.mu.Unlock()
	return buf, ok
}

// putLocked offers buf to the caller's slot under its lock (see getLocked)
// and reports whether the slot kept it.
func (b *Bytes) putLocked(c int, buf []byte) bool {
	i := pin.Index()
	pin.Unpin()
	s := &b.slots[i&(len(b.slots)-1)]
	s.mu.Lock()
	s.puts++
	kept := s.push(c, buf)
	s.mu.Unlock()
	return kept
}

func (t *bytesTier) pop(c int) ([]byte, bool) {
	l := t.free[c&classMask]
	if len(l) == 0 {
		return nil, false
	}
	buf := l[len(l)-1]
	l[len(l)-1] = nil // drop the reference the spare capacity would keep
	t.free[c&classMask] = l[:len(l)-1]
	t.retained -= int64(cap(buf))
	return buf, true
}

// push keeps buf if the tier's share has room for it: retained never
// exceeds share.
func (t *bytesTier) push(c int, buf []byte) bool {
	if t.retained+int64(cap(buf)) > t.share {
		return false
	}
	t.free[c&classMask] = append(t.free[c&classMask], buf[:0])
	t.retained += int64(cap(buf))
	return true
}

// Put returns buf to the pool for reuse; the caller must not use it
// afterwards. Buffers outside the size classes, and buffers over the
// MaxRetained bound, are dropped. Put(nil) does nothing.
func (b *Bytes) Put(buf []byte) {
	if !b.ready.Load() {
		b.init()
	}
	size := cap(buf)
	if uint(size-b.minSize) > uint(b.maxSize-b.minSize) { // outside [minSize, maxSize]
		b.putOdd(buf)
		return
	}
	c := (bits.Len(uint(size)) - 1 - b.minShift) & classMask // the largest class size covers
	if pin.Owned {
		// Fast path: push onto this P's own slot, no lock (see pin.Owned).
		if i := pin.Index(); i < len(b.slots) {
			s := &b.slots[i]
			s.puts++
			if s.retained+int64(size) <= s.share {
				s.free[c] = append(s.free[c], buf[:0])
				s.retained += int64(size)
				pin.Unpin()
				return
			}
			pin.Unpin()
			b.putShared(c, buf)
			return
		}
		pin.Unpin()
		b.shared.mu.Lock()
		b.shared.puts++ // a P beyond the slots uses the shared tier only
		b.shared.mu.Unlock()
		b.putShared(c, buf)
		return
	}
	if b.putLocked(c, buf) {
		return
	}
	b.putShared(c, buf)
}

// putShared offers buf to the shared tier, dropping it if that is full.
func (b *Bytes) putShared(c int, buf []byte) {
	b.shared.mu.Lock()
	if !b.shared.push(c, buf) {
		b.shared.drops++
	}
	b.shared.mu.Unlock()
}

// putOdd drops a buffer outside the size classes (nil: nothing to count).
func (b *Bytes) putOdd(buf []byte) {
	if buf == nil {
		return
	}
	b.shared.mu.Lock()
	b.shared.puts++
	b.shared.drops++
	b.shared.mu.Unlock()
}

// BytesStats is a snapshot of a Bytes pool's counters.
type BytesStats struct {
	Gets     uint64 // Get calls
	Puts     uint64 // Put calls
	News     uint64 // Gets that allocated (misses, and sizes above the classes)
	Drops    uint64 // Puts that did not keep the buffer (odd size, or over MaxRetained)
	Retained int64  // bytes of capacity kept now; never above MaxRetained
	// Outstanding is Gets minus Puts: buffers handed out and not returned.
	// If it keeps growing, callers do not Put and the pool only adds cost.
	Outstanding int64
}

// Stats returns the pool's counters, summed over its slots and shared tier.
func (b *Bytes) Stats() BytesStats {
	if !b.ready.Load() {
		b.init()
	}
	var st BytesStats
	add := func(t *bytesTier) {
		st.Gets += atomic.LoadUint64(&t.gets)
		st.Puts += atomic.LoadUint64(&t.puts)
		st.News += atomic.LoadUint64(&t.news)
		st.Drops += atomic.LoadUint64(&t.drops)
		st.Retained += atomic.LoadInt64(&t.retained)
	}
	for i := range b.slots {
		s := &b.slots[i].bytesTier
		if pin.Owned {
			// Owned slots are written without their lock; their counters
			// are words, which a racing atomic read sees whole (pin.Owned).
			add(s)
			continue
		}
		s.mu.Lock()
		add(s)
		s.mu.Unlock()
	}
	b.shared.mu.Lock()
	add(&b.shared)
	b.shared.mu.Unlock()
	st.Outstanding = int64(st.Gets) - int64(st.Puts)
	return st
}
