package shard

import (
	"fmt"
	"math/bits"
)

// Option configures a Map.
type Option interface{ apply(*mapConfig) }

type mapConfig struct {
	shards   int // 0: derived from GOMAXPROCS
	capacity int // keys to size the tables for; 0: smallest tables
}

type optionFunc func(*mapConfig)

func (f optionFunc) apply(c *mapConfig) { f(c) }

// maxShards bounds WithShards: past it a map is all padding and Len and All
// pay for nothing (the shard sweep flattens out long before).
const maxShards = 1 << 16

// WithShards sets the number of shards, a power of two from 1 to 65536. The
// default is 8 x GOMAXPROCS rounded up to a power of two, which keeps two
// writers on one shard lock unlikely; BenchmarkMapShards shows the sweep.
// Any other value panics.
func WithShards(n int) Option {
	if n < 1 || n > maxShards || bits.OnesCount(uint(n)) != 1 {
		panic(fmt.Sprintf("shard: WithShards(%d): not a power of two from 1 to %d", n, maxShards))
	}
	return optionFunc(func(c *mapConfig) { c.shards = n })
}

// maxCapacity bounds WithCapacity: a hint past it is a typo, not a plan
// (2^40 keys on 64-bit platforms, 2^30 on 32-bit ones).
const maxCapacity = 1 << (30 + 10*(^uint(0)>>63))

// WithCapacity sizes the map for n keys, so that storing n keys does not
// grow (rebuild) any shard's table: each shard's first table has room for
// its share of n with a margin for uneven spread. Tables are still built on
// each shard's first write. A negative n (or one past 2^40, 2^30 on 32-bit platforms) panics.
func WithCapacity(n int) Option {
	if n < 0 || n > maxCapacity {
		panic(fmt.Sprintf("shard: WithCapacity(%d): want 0 to %d keys", n, maxCapacity))
	}
	return optionFunc(func(c *mapConfig) { c.capacity = n })
}
