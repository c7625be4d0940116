package shard

import (
	"math/bits"
	"reflect"
	"sync/atomic"
	"unsafe"
)

// cacheLine is the cache line size a bucket is laid out for.
const cacheLine = 64

// bucketSkew[i] is 1 + how many bytes past a cache line boundary a plain
// make([]bucket, 1<<i) starts, once newBuckets has made one of that size;
// 0 before. Every bucket type has the same size and pointer layout (a word
// of meta, seven pointers), so the allocator treats all alike and one
// table serves every Map.
var bucketSkew [bits.UintSize]atomic.Uint32

// newBuckets returns n zeroed buckets (n a power of two) whose first, and
// so every one, starts on a cache line, so that a lookup reads one line per
// bucket, not two. make alone does not ensure it: since Go 1.22 a
// pointer-holding object of more than 512 bytes and at most 32 KiB starts
// with an 8-byte type header, which puts every bucket of a table of 16 to
// 256 buckets 8 bytes past a line, and its last slot on the next line.
// Such tables are allocated as a struct whose leading pad of bytes (no
// pointers) absorbs the header; the pad fits in the slack of the size class
// the table falls in anyway, so it costs no memory. Where the allocator
// aligns a table itself (smaller or larger ones, or another runtime), the
// table is a plain slice.
func newBuckets[K comparable, V any](n int) []bucket[K, V] {
	if unsafe.Sizeof(bucket[K, V]{}) != cacheLine {
		return make([]bucket[K, V], n) // 32-bit: a bucket is not a line
	}
	size := bits.TrailingZeros(uint(n))
	skew := uintptr(bucketSkew[size].Load())
	if skew == 0 {
		b := make([]bucket[K, V], n)
		skew = uintptr(unsafe.Pointer(&b[0]))%cacheLine + 1
		bucketSkew[size].Store(uint32(skew))
		if skew == 1 {
			return b
		}
	}
	if skew == 1 {
		return make([]bucket[K, V], n)
	}
	pad := cacheLine - (skew - 1)
	t := reflect.StructOf([]reflect.StructField{
		{Name: "Pad", Type: reflect.ArrayOf(int(pad), reflect.TypeFor[byte]())},
		{Name: "Buckets", Type: reflect.ArrayOf(n, reflect.TypeFor[bucket[K, V]]())},
	})
	// The slice points into the struct, which keeps the whole struct alive
	// and scanned by its own type: the GC sees the slots as pointers.
	first := unsafe.Add(reflect.New(t).UnsafePointer(), pad)
	return unsafe.Slice((*bucket[K, V])(first), n)
}
