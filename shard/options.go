package shard

import (
	"fmt"
	"math/bits"
)

// Option configures a Map.
type Option interface{ apply(*mapConfig) }

type mapConfig struct {
	shards int // 0: derived from GOMAXPROCS
}

type optionFunc func(*mapConfig)

func (f optionFunc) apply(c *mapConfig) { f(c) }

// maxShards bounds WithShards: past it a map is all padding and Len and All
// pay for nothing (the shard sweep flattens out long before).
const maxShards = 1 << 16

// WithShards sets the number of shards, a power of two from 1 to 65536. The
// default is 32 x GOMAXPROCS rounded up to a power of two, which keeps two
// writers on one shard lock unlikely; BenchmarkMapShards shows the sweep.
// Any other value panics when the Map is built.
func WithShards(n int) Option {
	if n < 1 || n > maxShards || bits.OnesCount(uint(n)) != 1 {
		panic(fmt.Sprintf("shard: WithShards(%d): not a power of two from 1 to %d", n, maxShards))
	}
	return optionFunc(func(c *mapConfig) { c.shards = n })
}
