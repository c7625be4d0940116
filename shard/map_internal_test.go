package shard

import (
	"math/rand/v2"
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
	if got := 64 - m.shift; 1<<got != uint(n) {
		t.Fatalf("shift %d does not match %d shards", m.shift, n)
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
