package shard

import (
	"runtime"
	"testing"
	"unsafe"
)

// TestBucketsStartOnACacheLine checks every table size up to 4096 buckets,
// twice (the first table of a size is where newBuckets learns the
// allocator's skew): a plain make puts tables of 16 to 256 buckets 8 bytes
// past a line.
func TestBucketsStartOnACacheLine(t *testing.T) {
	if unsafe.Sizeof(bucket[string, int]{}) != cacheLine {
		t.Skip("32-bit: a bucket is smaller than a cache line")
	}
	for range 2 {
		for i := range 13 {
			n := 1 << i
			for _, p := range []unsafe.Pointer{
				unsafe.Pointer(&newBuckets[string, int](n)[0]),
				unsafe.Pointer(&newBuckets[[3]int, *int](n)[0]),
			} {
				if off := uintptr(p) % cacheLine; off != 0 {
					t.Fatalf("table of %d buckets starts %d bytes past a cache line", n, off)
				}
			}
			if got := len(newBuckets[string, int](n)); got != n {
				t.Fatalf("newBuckets(%d) has %d buckets", n, got)
			}
		}
	}
}

// TestGCScansPaddedTables fills maps whose one shard ends on padded tables
// (16 to 256 buckets) with pointer values, collects, and reuses the freed
// memory: had the GC not seen a padded table's slots as pointers, the
// entries (and the ints they point at) would have been freed and
// overwritten.
func TestGCScansPaddedTables(t *testing.T) {
	sizes := []int{80, 300, 700, 1500} // 16, 64, 128, 256 buckets
	maps := make([]*Map[int, *int], len(sizes))
	for i, n := range sizes {
		maps[i] = NewMap[int, *int](WithShards(1))
		for k := range n {
			v := k
			maps[i].Store(k, &v)
		}
		if b := len(maps[i].shards[0].table.Load().buckets); b < 16 || b > 256 {
			t.Fatalf("%d keys: %d buckets, want a padded size (16 to 256)", n, b)
		}
	}
	for range 3 {
		runtime.GC()
		garbage := make([]*[3]int, 0, 1<<16)
		for j := range 1 << 16 {
			garbage = append(garbage, &[3]int{-j, -j, -j})
		}
		runtime.KeepAlive(garbage)
	}
	for i, n := range sizes {
		for k := range n {
			if v, ok := maps[i].Load(k); !ok || *v != k {
				t.Fatalf("%d keys: Load(%d) = %v, %v after GC", n, k, v, ok)
			}
		}
	}
}
