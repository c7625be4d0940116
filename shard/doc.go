// Package shard spreads contended state over padded shards so that goroutines
// on different CPUs stop fighting over one cache line.
//
// [Counter] is a per-CPU striped counter: Add writes only the current P's
// cell, Load sums every cell.
//
// # When not to use it
//
// Sharding is a cure for measured contention, not a default. A single
// atomic.Int64 is cheaper when one goroutine does most of the writing, when
// Load is about as frequent as Add, or when the machine has few cores and the
// counter is not on a hot path. The benchmark suite in this repository
// (go run github.com/breakeven-go/breakeven/cmd/breakeven -run Counter)
// prints where the crossover lies on your hardware; the numbers quoted in the
// doc comments below come from that suite on a 2-core x86-64 VM.
package shard
