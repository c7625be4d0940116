package shard_test

import (
	"testing"

	"github.com/breakeven-go/breakeven/internal/benchutil"
	"github.com/breakeven-go/breakeven/internal/suites"
)

// BenchmarkMap runs the Map suite: shard vs a map under an RWMutex (the
// baseline), under a Mutex, and sync.Map, on 16k string keys.
//
//	go test -run '^$' -bench 'Map/' -cpu 1,2 -count 6 ./shard | benchstat -col /impl -
func BenchmarkMap(b *testing.B) { benchutil.Bench(b, suites.Map()) }

// BenchmarkMapShards sweeps the shard count (1 to 1024) at 10% writes.
func BenchmarkMapShards(b *testing.B) { benchutil.Bench(b, suites.MapShards()) }
