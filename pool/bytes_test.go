package pool_test

import (
	"encoding/binary"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/breakeven-go/breakeven/internal/baseline"
	"github.com/breakeven-go/breakeven/pool"
)

type bytesPool interface {
	Get(n int) []byte
	Put([]byte)
}

// bytesImpls: the pool and its baselines pass the same behaviour tests.
var bytesImpls = []struct {
	name string
	new  func() bytesPool
}{
	{"ours", func() bytesPool { return pool.NewBytes() }},
	{"ours-small", func() bytesPool { return pool.NewBytes(pool.MaxRetained(64<<10), pool.SizeRange(16, 8<<10)) }},
	{"make", func() bytesPool { return baseline.MakeBytes{} }},
	{"syncpool", func() bytesPool { return baseline.NewSyncPoolBytes(4096) }},
}

func TestBytesGetReturnsLengthN(t *testing.T) {
	for _, im := range bytesImpls {
		t.Run(im.name, func(t *testing.T) {
			p := im.new()
			for _, n := range []int{0, 1, 3, 63, 64, 65, 1000, 4095, 4096, 4097, 65537, 1_000_001, 5 << 20} {
				for range 2 { // the second round reuses what the first put back
					b := p.Get(n)
					if len(b) != n || cap(b) < n {
						t.Fatalf("Get(%d): len %d cap %d", n, len(b), cap(b))
					}
					p.Put(b)
				}
			}
			p.Put(nil)
		})
	}
}

// TestBytesNeverSharesABuffer: each goroutine stamps its buffer with its
// id, yields, and checks the stamp; two callers holding one buffer would
// overwrite each other. Run under -race it also checks the pool's locking.
func TestBytesNeverSharesABuffer(t *testing.T) {
	for _, im := range bytesImpls {
		t.Run(im.name, func(t *testing.T) {
			p := im.new()
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Go(func() {
					for i := range 2000 {
						n := 8 + (i%7)*600
						b := p.Get(n)
						binary.LittleEndian.PutUint64(b, uint64(g))
						if i%16 == 0 {
							runtime.Gosched()
						}
						if got := binary.LittleEndian.Uint64(b); got != uint64(g) {
							t.Errorf("goroutine %d found %d in its buffer: shared with another caller", g, got)
							return
						}
						p.Put(b)
					}
				})
			}
			wg.Wait()
		})
	}
}

func TestBytesGetPutDoesNotAllocate(t *testing.T) {
	p := pool.NewBytes()
	p.Put(p.Get(4096))
	if a := testing.AllocsPerRun(1000, func() { p.Put(p.Get(4096)) }); a != 0 {
		t.Fatalf("Get/Put allocates %v times per cycle, want 0", a)
	}
}

// TestBytesBoundsRetainedMemory is the reference text's case 1: a burst of
// 64 buffers of 1 MiB, all put back, plus a 100 MB one, into a pool bounded
// at 8 MiB leaves at most 12 MiB live after one garbage collection.
// (BenchmarkBytesBurst shows sync.Pool keeping all 64 MiB.)
func TestBytesBoundsRetainedMemory(t *testing.T) {
	before := liveHeap()
	p := pool.NewBytes(pool.MaxRetained(8 << 20))
	held := make([][]byte, 64)
	for i := range held {
		held[i] = p.Get(1 << 20)
	}
	for i := range held {
		p.Put(held[i])
		held[i] = nil
	}
	p.Put(make([]byte, 100<<20))
	after := liveHeap()
	if grew := int64(after) - int64(before); grew > 12<<20 {
		t.Fatalf("live heap grew by %d MiB after the burst, want at most 12 MiB", grew>>20)
	}
	s := p.Stats()
	if s.Retained > 8<<20 || s.Retained == 0 {
		t.Fatalf("Stats().Retained = %d, want 1..8 MiB", s.Retained)
	}
	if s.Gets != 64 || s.Puts != 65 || s.News != 64 || s.Drops < 65-8 || s.Outstanding != -1 {
		t.Fatalf("Stats() = %+v", s)
	}
	runtime.KeepAlive(p)
}

// TestBytesSurvivesGOMAXPROCSGrowth: Ps beyond the slots made at NewBytes
// use the shared tier, and nothing is lost or shared.
func TestBytesSurvivesGOMAXPROCSGrowth(t *testing.T) {
	orig := runtime.GOMAXPROCS(1)
	t.Cleanup(func() { runtime.GOMAXPROCS(orig) })
	p := pool.NewBytes() // one slot
	// First 2 Ps, so P 1 (the first id past the slots) surely runs some
	// of the goroutines, then 8.
	for _, procs := range []int{2, 8} {
		runtime.GOMAXPROCS(procs)
		var wg sync.WaitGroup
		for g := range 16 {
			wg.Go(func() {
				for range 500 {
					b := p.Get(100)
					b[0] = byte(g)
					runtime.Gosched()
					if b[0] != byte(g) {
						t.Error("buffer shared between goroutines")
						return
					}
					p.Put(b)
				}
			})
		}
		wg.Wait()
	}
	// Then Puts and Gets in bursts, without yielding, from 16 goroutines
	// on 2 Ps, so some surely run whole on P 1.
	runtime.GOMAXPROCS(2)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 2000 {
				p.Put(make([]byte, 64))
				p.Get(64)
			}
		})
	}
	wg.Wait()
	if s := p.Stats(); s.Gets != 2*16*500+16*2000 || s.Puts != s.Gets {
		t.Fatalf("Stats() = %+v, want every Get and Put counted", s)
	}
}

func TestBytesOptionsRejectBadValues(t *testing.T) {
	for name, f := range map[string]func(){
		"MaxRetained(0)":     func() { pool.MaxRetained(0) },
		"SizeRange(3, 64)":   func() { pool.SizeRange(3, 64) },
		"SizeRange(64, 32)":  func() { pool.SizeRange(64, 32) },
		"SizeRange(64, 100)": func() { pool.SizeRange(64, 100) },
		"Bytes.Get(-1)":      func() { pool.NewBytes().Get(-1) },
	} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.HasPrefix(msg, "pool: "+name) {
					t.Errorf("%s panicked with %q, want a pool: %s message", name, msg, name)
				}
			}()
			f()
		}()
	}
}

// liveHeap runs one garbage collection and returns the bytes still in use.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestBytesZeroValueIsUsable: a zero Bytes works with the defaults, also
// when its first use is concurrent.
func TestBytesZeroValueIsUsable(t *testing.T) {
	var b pool.Bytes
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				buf := b.Get(100)
				if len(buf) != 100 || cap(buf) != 128 {
					t.Errorf("zero Bytes: Get(100) len %d cap %d, want 100 and 128", len(buf), cap(buf))
					return
				}
				b.Put(buf)
			}
		})
	}
	wg.Wait()
	if s := b.Stats(); s.Gets != 800 || s.Outstanding != 0 || s.News > 8 {
		t.Fatalf("zero Bytes Stats() = %+v, want 800 gets, reuse", s)
	}
	var fresh pool.Bytes
	if s := fresh.Stats(); s != (pool.BytesStats{}) {
		t.Fatalf("Stats of an unused zero Bytes = %+v", s)
	}
}

// TestBytesSmallSizesUseTheSmallestClass: as the doc says, sizes up to the
// smallest class come from it and are reused; a buffer whose capacity is
// below it is dropped by Put.
func TestBytesSmallSizesUseTheSmallestClass(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1)) // one slot: every Put is seen by the next Get
	p := pool.NewBytes()
	for _, n := range []int{0, 1, 3, 63, 64} {
		b := p.Get(n)
		if len(b) != n || cap(b) != 64 {
			t.Fatalf("Get(%d): len %d cap %d, want cap 64 (the smallest class)", n, len(b), cap(b))
		}
		p.Put(b)
	}
	if s := p.Stats(); s.News != 1 || s.Drops != 0 {
		t.Fatalf("Stats() = %+v: want one buffer of the smallest class, reused by every Get", s)
	}
	p.Put(make([]byte, 10))
	if s := p.Stats(); s.Drops != 1 || s.Retained != 64 {
		t.Fatalf("after Put of a 10-byte buffer, Stats() = %+v: want it dropped", s)
	}
}

// TestBytesRetainedReachesMaxRetainedExactly: with one slot, MaxRetained
// is split in two shares of 8 KiB; four 4 KiB buffers fill them exactly
// (the bound is inclusive) and a fifth is dropped. An off-by-one either way
// at exactly MaxRetained fails here.
func TestBytesRetainedReachesMaxRetainedExactly(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const max = 16 << 10
	p := pool.NewBytes(pool.MaxRetained(max))
	for range 5 {
		p.Put(make([]byte, 4<<10))
	}
	if s := p.Stats(); s.Retained != max || s.Drops != 1 {
		t.Fatalf("Stats() = %+v, want Retained exactly %d and one drop", s, max)
	}
	p.Put(make([]byte, 64)) // even the smallest buffer is over the bound now
	if s := p.Stats(); s.Retained != max || s.Drops != 2 {
		t.Fatalf("Stats() = %+v, want Retained still %d and two drops", s, max)
	}
}

// TestBytesLargestClassIsPooled: a buffer of exactly the largest class
// size is pooled, not allocated each time as sizes above it are.
func TestBytesLargestClassIsPooled(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	p := pool.NewBytes(pool.SizeRange(64, 64<<10))
	for range 3 {
		p.Put(p.Get(64 << 10))
	}
	if s := p.Stats(); s.News != 1 || s.Drops != 0 {
		t.Fatalf("Stats() = %+v, want the 64 KiB buffer reused", s)
	}
	p.Put(p.Get(64<<10 + 1))
	if s := p.Stats(); s.Gets != 4 || s.Puts != 4 || s.News != 2 || s.Drops != 1 {
		t.Fatalf("Stats() = %+v, want a buffer above the largest class counted, allocated and dropped", s)
	}
}

// TestBytesGetAfterGCStillHits: pooled buffers survive garbage collections.
func TestBytesGetAfterGCStillHits(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	p := pool.NewBytes()
	b := p.Get(4096)
	b[0] = 42
	p.Put(b)
	runtime.GC()
	runtime.GC()
	if got := p.Get(4096); &got[0] != &b[0] || p.Stats().News != 1 {
		t.Fatalf("Get after two GCs allocated (News %d), want the pooled buffer", p.Stats().News)
	}
}
