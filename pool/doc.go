// Package pool provides typed object and buffer pools that bound the memory
// they keep.
//
// sync.Pool keeps whatever was put into it until the next garbage
// collection, and its victim cache keeps it one collection longer, with no
// limit: the reference text's case study pooled 256 KB buffers, gained 8%
// throughput and paid 40% more RSS. The pools here keep at most a
// configured amount ([MaxRetained] for [Bytes]; [MaxIdle], and [MaxCost]
// with [Cost], for [Pool]), across garbage collections, drop what is over
// it (handing it to [OnDrop], which closes what must be closed), and count
// gets, misses and drops so you can see whether the pool pays at all.
//
// # When not to pool
//
// On cold paths, for small objects, and wherever the allocator is fast
// enough, `make` per call is simpler and often as fast: the benchmarks here
// (BenchmarkBytes) put the numbers side by side. A pool helps only when
// allocation shows up in a profile and buffers really come back: a pool
// whose Gets have no matching Puts (Stats().Outstanding keeps growing) only
// adds cost.
package pool
