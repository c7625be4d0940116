// Package shard spreads contended state over padded shards so that goroutines
// on different CPUs stop fighting over one cache line.
//
// [Counter] is a per-CPU striped counter: Add writes only the current P's
// cell, Load sums every cell, LoadAndReset exports an interval's count.
// From several goroutines its Add costs a small fraction of an
// atomic.Int64.Add.
//
// [Map] is a hash map split into padded shards with lock-free reads
// (entries behind atomic pointers, found through cache-line buckets, keys
// hashed with a per-map seed) and a mutex per shard for writes, with
// LoadOrCompute for caches (one computation per missing key), Compute for
// atomic read-modify-write, the sync.Map methods (Swap, CompareAndSwap,
// CompareAndDelete) and an All iterator that holds no lock while the loop
// body runs. With several goroutines it beats a single RWMutex map on
// read-mostly mixes and loses on write-heavy ones on few cores; see its doc
// comment.
//
// # When not to use it
//
// Sharding is a cure for measured contention, not a default. A single
// atomic.Int64 is the better counter when reads are about as frequent as
// writes (with nine Loads per Add, one goroutine pays more), when an exact
// value at an instant matters, or when there are thousands of counters (a
// Counter takes 128 bytes per P). Run
//
//	go run github.com/breakeven-go/breakeven/cmd/breakeven@latest -run Counter
//
// to see the crossover on your hardware.
package shard
