// Package shard spreads contended state over padded shards so that goroutines
// on different CPUs stop fighting over one cache line.
//
// [Counter] is a per-CPU striped counter: Add writes only the current P's
// cell, Load sums every cell. From 2 goroutines on a 2-core machine its Add
// costs 0.06x atomic.Int64.Add.
//
// [Map] is a hash map split into padded shards, each a Go map under its own
// lock, with Compute for atomic read-modify-write and an All iterator that
// holds no lock while the loop body runs. On the 2-core VM measured here it
// loses to a single RWMutex map (1.3x to 1.9x at 2 goroutines; see its doc
// comment): a sharded map pays only where many cores contend on one lock.
//
// # When not to use it
//
// Sharding is a cure for measured contention, not a default. A single
// atomic.Int64 is the better counter when reads are about as frequent as
// writes (with nine Loads per Add, one goroutine pays 1.9x), when an exact
// value at an instant matters, or when there are thousands of counters (a
// Counter takes 128 bytes per P). Run
//
//	go run github.com/breakeven-go/breakeven/cmd/breakeven@latest -run Counter
//
// to see the crossover on your hardware; the numbers in these doc comments
// come from this repository's benchmarks on a 2-core x86-64 VM.
package shard
