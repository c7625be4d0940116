package suites

import (
	"fmt"

	"github.com/breakeven-go/breakeven/internal/baseline"
	"github.com/breakeven-go/breakeven/internal/benchutil"
	"github.com/breakeven-go/breakeven/shard"
)

// KV is what the map workloads need of a map from string to int.
type KV interface {
	Load(string) (int, bool)
	Store(string, int)
}

// mapKeys is the key count of every map workload: big enough that the map
// does not sit in L1, small enough to build in milliseconds.
const mapKeys = 16 << 10

// MapImpl is one map implementation for the map workloads.
type MapImpl struct {
	Name string
	New  func() KV
}

// MapImpls are the root module's maps: the three baselines and shard.Map.
func MapImpls() []MapImpl {
	return []MapImpl{
		{"rwmutex", func() KV { return baseline.NewRWMutexMap[string, int]() }},
		{"mutex", func() KV { return baseline.NewMutexMap[string, int]() }},
		{"syncmap", func() KV { return new(baseline.SyncMap[string, int]) }},
		{"shard", func() KV { return shard.NewMap[string, int]() }},
	}
}

// MapWorkloads builds the Map suite's workloads for the given maps: 16k
// string keys, uniform and Zipf(1.1), with 1%, 10% and 50% of operations
// overwriting an existing key and the rest loading one.
func MapWorkloads(impls []MapImpl) []benchutil.Workload {
	keys := benchutil.StringKeys(mapKeys)
	var ws []benchutil.Workload
	for _, dist := range []benchutil.Dist{benchutil.Uniform, benchutil.Zipf(1.1)} {
		for _, writePct := range []int{1, 10, 50} {
			w := benchutil.Workload{Name: fmt.Sprintf("%s/w%d", dist.Name, writePct)}
			for _, im := range impls {
				w.Impls = append(w.Impls, benchutil.Impl{Name: im.Name, Setup: func() benchutil.Body {
					return mapBody(im.New(), keys, dist, writePct)
				}})
			}
			ws = append(ws, w)
		}
	}
	return ws
}

// streamLen is the length of each goroutine's precomputed key stream: long
// enough that its period does not matter, short enough to stay in cache.
const streamLen = 1 << 14

// mapBody fills m with keys and returns a body in which each goroutine walks
// its own seeded key stream, writing on writePct of every 100 operations.
// The write decision is a counter, not a random draw, so every
// implementation sees exactly the same operations.
func mapBody(m KV, keys []string, dist benchutil.Dist, writePct int) benchutil.Body {
	for i, k := range keys {
		m.Store(k, i)
	}
	streams := make([][]int32, 64)
	for w := range streams {
		streams[w] = dist.Indexes(uint64(w)+1, len(keys), streamLen)
	}
	return func(worker, n int) {
		stream := streams[worker%len(streams)]
		j, op := 0, 0
		for i := range n {
			k := keys[stream[j]]
			if j++; j == len(stream) {
				j = 0
			}
			if op < writePct {
				m.Store(k, i)
			} else {
				m.Load(k)
			}
			if op++; op == 100 {
				op = 0
			}
		}
	}
}

// Map compares shard.Map with a map under an RWMutex (the baseline), under
// a Mutex, and sync.Map.
func Map() benchutil.Suite {
	return benchutil.Suite{
		Name:         "Map",
		Primitive:    "shard.Map",
		Impl:         "shard",
		Baseline:     "rwmutex",
		BaselineDesc: "map+RWMutex",
		Workloads:    MapWorkloads(MapImpls()),
	}
}

// MapShards sweeps shard.Map's shard count from 1 to 1024 on uniform keys
// with 10% writes, each beside the RWMutex map. It runs under go test
// (BenchmarkMapShards) but not in cmd/breakeven's default run, which would
// take too long.
func MapShards() benchutil.Suite {
	keys := benchutil.StringKeys(mapKeys)
	s := benchutil.Suite{Name: "MapShards", Primitive: "shard.Map", Impl: "shard", Baseline: "rwmutex", BaselineDesc: "map+RWMutex"}
	for n := 1; n <= 1024; n *= 4 {
		s.Workloads = append(s.Workloads, benchutil.Workload{Name: fmt.Sprintf("shards=%d", n), Impls: []benchutil.Impl{
			{Name: "rwmutex", Setup: func() benchutil.Body {
				return mapBody(baseline.NewRWMutexMap[string, int](), keys, benchutil.Uniform, 10)
			}},
			{Name: "shard", Setup: func() benchutil.Body {
				return mapBody(shard.NewMap[string, int](shard.WithShards(n)), keys, benchutil.Uniform, 10)
			}},
		}})
	}
	return s
}
