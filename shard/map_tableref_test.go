package shard

import (
	"testing"
	"time"
)

// TestLoadWithThePreviousTablesMask puts a shard's table reference in the
// state a reader can see while a writer publishes a grown table: the new
// table's buckets with the old table's (smaller) mask. Every key must still
// be found, by Load and by the lookup the write methods start with, and a
// missing key must still be missing.
func TestLoadWithThePreviousTablesMask(t *testing.T) {
	m := NewMap[int, int](WithShards(1))
	const n = 3000
	for k := range n {
		m.Store(k, k)
	}
	s := &m.shards[0]
	tb := s.table.Load()
	if tb.mask < 8 {
		t.Fatalf("table mask %d: want a table that grew several times", tb.mask)
	}
	for _, old := range []uint64{1, tb.mask >> 3, tb.mask >> 1} {
		s.ref.mask.Store(old)
		for k := range n {
			if v, ok := m.Load(k); !ok || v != k {
				t.Fatalf("mask %d of %d: Load(%d) = %d, %v; want %d, true", old, tb.mask, k, v, ok, k)
			}
			if v, loaded := m.LoadOrStore(k, -1); !loaded || v != k {
				t.Fatalf("mask %d of %d: LoadOrStore(%d) = %d, %v; want %d, true", old, tb.mask, k, v, loaded, k)
			}
		}
		for k := n; k < 2*n; k++ {
			if v, ok := m.Load(k); ok {
				t.Fatalf("mask %d of %d: Load(%d) = %d, true for a key never stored", old, tb.mask, k, v)
			}
		}
	}
	s.ref.mask.Store(tb.mask)
}

// TestProbeWithASmallerMaskEnds: with the previous table's mask a probe may
// reach only full buckets (it wraps around inside the new table's first
// ones); it must still end. Fourteen keys whose home is bucket 0 fill
// buckets 0 and 1; with mask 1, a lookup of a missing key sees only those.
func TestProbeWithASmallerMaskEnds(t *testing.T) {
	m := NewMap[int, int](WithShards(1), WithCapacity(1000))
	m.Store(-1, -1) // builds the table
	m.Delete(-1)
	mask := m.shards[0].table.Load().mask
	stored := 0
	for k := 0; stored < 2*bucketSlots; k++ {
		if m.hash(k)&mask == 0 {
			m.Store(k, k)
			stored++
		}
	}
	tb := m.shards[0].table.Load()
	if tb.mask != mask || !full(tb.buckets[0].meta.Load()) || !full(tb.buckets[1].meta.Load()) {
		t.Fatalf("want buckets 0 and 1 full in an ungrown table")
	}
	m.shards[0].ref.mask.Store(1)
	defer m.shards[0].ref.mask.Store(mask)
	done := make(chan bool)
	go func() {
		_, ok := m.Load(-2)
		done <- ok
	}()
	select {
	case ok := <-done:
		if ok {
			t.Fatal("Load(-2) found a key never stored")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Load with the previous table's mask probed full buckets without end")
	}
}

// full reports whether every slot of a bucket's meta word holds a key.
func full(meta uint64) bool { return meta&msb == msb }

// TestReadersTakeAnEmptiedSlotForAMiss puts a slot in the state a lock-free
// reader can see while Delete removes its entry: the meta byte still
// matches the key, but the slot is already empty. Load and LoadOrCompute's
// first-bucket shortcut must take that for a miss (not dereference it):
// Load reports the key missing, LoadOrCompute computes it.
func TestReadersTakeAnEmptiedSlotForAMiss(t *testing.T) {
	m := NewMap[int, int](WithShards(1))
	m.Store(1, 10)
	tb := m.shards[0].table.Load()
	at, found := m.find(tb, m.hash(1), 1)
	if !found {
		t.Fatal("stored key not found")
	}
	tb.buckets[at.bucket].slots[at.i].Store(nil) // meta byte left as it was
	if v, ok := m.Load(1); ok {
		t.Fatalf("Load(1) = %d, true with its slot emptied; want a miss", v)
	}
	if v, loaded := m.LoadOrCompute(1, func() int { return 20 }); v != 20 || loaded {
		t.Fatalf("LoadOrCompute(1) = %d, %v with its slot emptied; want 20, false (computed)", v, loaded)
	}
}
