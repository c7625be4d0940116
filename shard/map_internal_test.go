package shard

import (
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
	n := len(m.shards)
	if n < defaultShardsPerP || n&(n-1) != 0 {
		t.Fatalf("default shard count %d: want a power of two >= %d", n, defaultShardsPerP)
	}
	if got := 64 - m.shift; 1<<got != uint(n) {
		t.Fatalf("shift %d does not match %d shards", m.shift, n)
	}
}
