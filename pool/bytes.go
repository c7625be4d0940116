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
// Get(n) returns a slice of length n from the class that fits n; Put files a
// buffer under the largest class its capacity covers, without allocating.
// Buffers smaller than the smallest class or larger than the largest are
// not pooled: Get allocates them exactly and Put drops them, so one huge
// request cannot pin its buffer in the pool (golang/go#23199).
//
// Memory is bounded in two tiers. Each P keeps up to MaxRetained/(2 x
// slots) bytes in its own slot (slots: GOMAXPROCS rounded up to a power of
// two), which serves the common case of a goroutine putting back what it
// got, on one CPU, under an uncontended lock. What does not fit there goes
// to a shared tier of the other half, where large buffers and buffers moving
// between CPUs meet. A Put over both shares drops the buffer.
//
// Measured with this repository's suites on a 2-core x86-64 VM (-count 6,
// benchstat): a Get/Put cycle costs 1.36x a sync.Pool of *[]byte (alone and
// at 2 procs, 13 ns and 7 ns), and 0.03x (4 KiB) to 0.0002x (1 MiB) of
// allocating with make. After a burst of 64 buffers of 1 MiB put back,
// 8.1 MiB stay live under MaxRetained(8 MiB); a sync.Pool keeps 64 MiB
// (BenchmarkBytesBurst).
//
// Buffers from Get are not zeroed: a reused buffer holds what its last user
// wrote. The zero Bytes is not usable; build one with [NewBytes]. A Bytes is
// safe for concurrent use and must not be copied after first use.
type Bytes struct {
	_          noCopy
	minShift   int // class c holds buffers of capacity >= 1<<(minShift+c)
	classes    int
	maxSize    int
	localShare int64 // bytes each slot may keep
	slots      []bytesSlot
	shared     bytesTier
}

// maxClasses bounds the size classes: 1 byte to 1 GiB is 31 of them.
const maxClasses = 31

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

// NewBytes returns an empty Bytes pool. Defaults: MaxRetained 32 MiB, size
// classes from 64 bytes to 4 MiB.
func NewBytes(opts ...BytesOption) *Bytes {
	cfg := bytesConfig{maxRetained: 32 << 20, minSize: 64, maxSize: 4 << 20}
	for _, o := range opts {
		o.apply(&cfg)
	}
	n := slotCount()
	b := &Bytes{
		minShift: bits.TrailingZeros(uint(cfg.minSize)),
		maxSize:  cfg.maxSize,
		slots:    make([]bytesSlot, n),
	}
	b.classes = bits.TrailingZeros(uint(cfg.maxSize)) - b.minShift + 1
	b.localShare = cfg.maxRetained / int64(2*n)
	for i := range b.slots {
		b.slots[i].share = b.localShare
	}
	b.shared.share = cfg.maxRetained - b.localShare*int64(n)
	return b
}

// Get returns a slice of length n and capacity at least n: a pooled buffer
// of n's size class if one is free (without allocating), else a new one
// with the class's capacity. Get panics if n is negative, as make does.
func (b *Bytes) Get(n int) []byte {
	if n < 0 {
		panic(fmt.Sprintf("pool: Bytes.Get(%d): negative length", n))
	}
	if n > b.maxSize {
		b.shared.mu.Lock()
		b.shared.gets++
		b.shared.news++
		b.shared.mu.Unlock()
		return make([]byte, n)
	}
	c := 0
	if n > 1<<b.minShift {
		c = bits.Len(uint(n-1)) - b.minShift
	}
	if buf, ok := b.getLocal(c); ok {
		return buf[:n]
	}
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

// getLocal pops a class-c buffer from the caller's P's slot. It counts the
// Get there, or on the shared tier for a P beyond the slots (GOMAXPROCS
// grew after NewBytes), which then uses the shared tier only: with owned
// slots, another P must never touch a slot.
func (b *Bytes) getLocal(c int) ([]byte, bool) {
	i := pin.Index()
	if pin.Owned {
		if i < len(b.slots) {
			s := &b.slots[i]
			s.gets++
			buf, ok := s.pop(c)
			pin.Unpin()
			return buf, ok
		}
		pin.Unpin()
		b.shared.mu.Lock()
		b.shared.gets++
		b.shared.mu.Unlock()
		return nil, false
	}
	pin.Unpin()
	s := &b.slots[i&(len(b.slots)-1)]
	s.mu.Lock()
	s.gets++
	buf, ok := s.pop(c)
	s.mu.Unlock()
	return buf, ok
}

// putLocal offers buf to the caller's P's slot, counting the Put there (or
// on the shared tier, as getLocal), and reports whether the slot kept it.
func (b *Bytes) putLocal(c int, buf []byte) bool {
	i := pin.Index()
	if pin.Owned {
		if i < len(b.slots) {
			s := &b.slots[i]
			s.puts++
			kept := s.push(c, buf)
			pin.Unpin()
			return kept
		}
		pin.Unpin()
		b.shared.mu.Lock()
		b.shared.puts++
		b.shared.mu.Unlock()
		return false
	}
	pin.Unpin()
	s := &b.slots[i&(len(b.slots)-1)]
	s.mu.Lock()
	s.puts++
	kept := s.push(c, buf)
	s.mu.Unlock()
	return kept
}

func (t *bytesTier) pop(c int) ([]byte, bool) {
	l := t.free[c]
	if len(l) == 0 {
		return nil, false
	}
	buf := l[len(l)-1]
	l[len(l)-1] = nil // drop the reference the spare capacity would keep
	t.free[c] = l[:len(l)-1]
	t.retained -= int64(cap(buf))
	return buf, true
}

// push keeps buf if the tier's share has room for it.
func (t *bytesTier) push(c int, buf []byte) bool {
	if t.retained+int64(cap(buf)) > t.share {
		return false
	}
	t.free[c] = append(t.free[c], buf[:0])
	t.retained += int64(cap(buf))
	return true
}

// Put returns buf to the pool for reuse; the caller must not use it
// afterwards. Buffers outside the size classes, and buffers over the
// MaxRetained bound, are dropped. Put(nil) does nothing.
func (b *Bytes) Put(buf []byte) {
	if buf == nil {
		return
	}
	size := cap(buf)
	if size < 1<<b.minShift || size > b.maxSize {
		b.shared.mu.Lock()
		b.shared.puts++
		b.shared.drops++
		b.shared.mu.Unlock()
		return
	}
	c := bits.Len(uint(size)) - 1 - b.minShift // the largest class size covers
	if b.putLocal(c, buf) {
		return
	}
	b.shared.mu.Lock()
	if !b.shared.push(c, buf) {
		b.shared.drops++
	}
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
