package shard

import (
	"fmt"
	"testing"
	"unsafe"
)

// TestStringKeysUseTheLinkedHash: keys of any string type (a named one
// too) take the memhash path in the runtime build, and only they do.
func TestStringKeysUseTheLinkedHash(t *testing.T) {
	type name string
	for _, c := range []struct {
		kind   string
		seeded bool
	}{
		{"string", seedOf(NewMap[string, int](), "k")},
		{"named string", seedOf(NewMap[name, int](), name("k"))},
		{"int", seedOf(NewMap[int, int](), 1)},
		{"[1]string", seedOf(NewMap[[1]string, int](), [1]string{"k"})},
		{"struct{string}", seedOf(NewMap[struct{ s string }, int](), struct{ s string }{"k"})},
	} {
		want := memhashLinked && unsafe.Sizeof(uintptr(0)) == 8 && (c.kind == "string" || c.kind == "named string")
		if c.seeded != want {
			t.Errorf("%s keys: memhash seed set %v, want %v (memhashLinked %v)", c.kind, c.seeded, want, memhashLinked)
		}
	}
}

func seedOf[K comparable](m *Map[K, int], k K) bool {
	m.Store(k, 1)
	return m.strSeed != 0
}

// TestStringHashIsSeededPerMap: two maps hash the same string keys
// differently, in the bits that pick a bucket too, so a key set that
// collides in one map does not collide in another.
func TestStringHashIsSeededPerMap(t *testing.T) {
	a, b := NewMap[string, int](), NewMap[string, int]()
	a.Store("", 0)
	b.Store("", 0)
	same := 0
	for i := range 1000 {
		k := fmt.Sprintf("key-%d", i)
		if a.hash(k)&0xffff == b.hash(k)&0xffff {
			same++
		}
	}
	if same > 10 {
		t.Fatalf("%d of 1000 keys have the same low 16 hash bits in two maps: the hash is not seeded per map", same)
	}
	// And the map agrees with itself whichever method hashes: written by
	// Store (writeHash), read by Load, LoadOrCompute and Delete.
	for i := range 1000 {
		a.Store(fmt.Sprintf("key-%d", i), i)
	}
	for i := range 1000 {
		k := fmt.Sprintf("key-%d", i)
		if v, ok := a.Load(k); !ok || v != i {
			t.Fatalf("Load(%q) = %d, %v", k, v, ok)
		}
		if v, loaded := a.LoadOrCompute(k, func() int { return -1 }); !loaded || v != i {
			t.Fatalf("LoadOrCompute(%q) = %d, %v", k, v, loaded)
		}
		a.Delete(k)
		if _, ok := a.Load(k); ok {
			t.Fatalf("Load(%q) after Delete found it", k)
		}
	}
}

// TestStringHashTakesAnyKey: the empty string (no data pointer), a key of
// 1 MiB and keys that differ only past a NUL byte or in their last byte
// hash, store and load through the memhash path like any other key.
func TestStringHashTakesAnyKey(t *testing.T) {
	big := string(make([]byte, 1<<20))
	keys := []string{"", "\x00", "\x00a", "\x00b", big, big[:len(big)-1] + "x"}
	m := NewMap[string, int]()
	for i, k := range keys {
		m.Store(k, i)
	}
	if m.Len() != len(keys) {
		t.Fatalf("Len() = %d after storing %d distinct keys", m.Len(), len(keys))
	}
	for i, k := range keys {
		if v, ok := m.Load(k); !ok || v != i {
			t.Fatalf("Load(key %d, %d bytes) = %d, %v, want %d", i, len(k), v, ok, i)
		}
	}
}
