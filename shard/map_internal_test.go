package shard

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"unsafe"
)

// TestShardPadding checks that shards tile the slice in whole pads, so no
// two shards' locks share a cache line (or an adjacent-line prefetch pair).
func TestShardPadding(t *testing.T) {
	sizes := map[string]uintptr{
		"string,int":    unsafe.Sizeof(mapShard[string, int]{}),
		"int,[64]byte":  unsafe.Sizeof(mapShard[int, [64]byte]{}),
		"struct,string": unsafe.Sizeof(mapShard[struct{ a, b int }, string]{}),
	}
	for name, size := range sizes {
		if size%cellSize != 0 {
			t.Errorf("mapShard[%s] is %d bytes, not a multiple of %d", name, size, cellSize)
		}
	}
	if size := unsafe.Sizeof(cell{}); size != cellSize {
		t.Errorf("cell is %d bytes, want %d", size, cellSize)
	}
}

func TestDefaultShardCountIsPowerOfTwo(t *testing.T) {
	m := NewMap[int, int]()
	m.Store(1, 1) // shards are built on the first write
	n := len(m.shards)
	if n < defaultShardsPerP || n&(n-1) != 0 {
		t.Fatalf("default shard count %d: want a power of two >= %d", n, defaultShardsPerP)
	}
	if m.shardMask != uint64(n-1) {
		t.Fatalf("shard mask %#x does not match %d shards", m.shardMask, n)
	}
}

// TestMetaMatching checks the byte tricks Load relies on over random meta
// words: matches may report extra slots but never misses one whose byte is
// b, and hasEmpty is exact.
func TestMetaMatching(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	bytesOf := []uint64{metaEmpty, metaDeleted, 0x80, 0x81, 0xfe, 0xff}
	for range 100_000 {
		var meta uint64
		for i := range bucketSlots {
			var v uint64
			if r.IntN(2) == 0 {
				v = bytesOf[r.IntN(len(bytesOf))]
			} else {
				v = 0x80 | r.Uint64N(0x80)
			}
			meta |= v << (8 * i)
		}
		b := 0x80 | r.Uint64N(0x80)
		got := matches(meta, b)
		empty := false
		for i := range bucketSlots {
			v := meta >> (8 * i) & 0xff
			if v == b && got&(0x80<<(8*i)) == 0 {
				t.Fatalf("matches(%#x, %#x) = %#x: misses slot %d", meta, b, got, i)
			}
			empty = empty || v == metaEmpty
		}
		if got&^msb != 0 {
			t.Fatalf("matches(%#x, %#x) = %#x: reports byte 7 or low bits", meta, b, got)
		}
		if hasEmpty(meta) != empty {
			t.Fatalf("hasEmpty(%#x) = %v, want %v", meta, !empty, empty)
		}
	}
}

// TestLoadOrStoreRechecksUnderTheLock holds the one shard's lock while 16
// goroutines call LoadOrStore on one absent key, so that all of them miss
// on the lock-free path and queue on the lock; released, exactly one must
// store and all must get its value. A LoadOrStore that stored without
// looking again under the lock would hand out several values.
func TestLoadOrStoreRechecksUnderTheLock(t *testing.T) {
	for round := range 20 {
		m := NewMap[string, int](WithShards(1))
		m.Store("other", 0) // build the shard
		s := &m.shards[0]
		s.mu.Lock()
		var started, done sync.WaitGroup
		got := make([]int, 16)
		stored := make([]bool, 16)
		for g := range 16 {
			started.Add(1)
			done.Go(func() {
				started.Done()
				v, loaded := m.LoadOrStore("k", round*100+g)
				got[g], stored[g] = v, !loaded
			})
		}
		started.Wait()
		for range 100 {
			runtime.Gosched() // let them reach the lock
		}
		s.mu.Unlock()
		done.Wait()
		n := 0
		for g := range got {
			if stored[g] {
				n++
			}
			if got[g] != got[0] {
				t.Fatalf("round %d: callers got %d and %d", round, got[0], got[g])
			}
		}
		if n != 1 {
			t.Fatalf("round %d: %d callers stored, want 1", round, n)
		}
	}
}
