package suites

import (
	"fmt"
	"sync"

	"golang.org/x/sync/singleflight"

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

// Cache is what the cache workload needs of a map: load a key or compute
// it once however many goroutines miss it together, and expire a key.
type Cache interface {
	LoadOrCompute(k string, fn func() int) (int, bool)
	Delete(k string)
}

// MapImpl is one map implementation for the map workloads. NewCache, if
// set, builds it for the cache workload (for a baseline, with whatever it
// takes to compute a missing key once).
type MapImpl struct {
	Name     string
	New      func() KV
	NewCache func() Cache
}

// MapImpls are the root module's maps: the three baselines and shard.Map.
func MapImpls() []MapImpl {
	return []MapImpl{
		{"rwmutex", func() KV { return baseline.NewRWMutexMap[string, int]() }, func() Cache { return newRWMutexCache() }},
		{"mutex", func() KV { return baseline.NewMutexMap[string, int]() }, nil},
		{"syncmap", func() KV { return new(baseline.SyncMap[string, int]) }, func() Cache { return new(singleflightCache) }},
		{"shard", func() KV { return shard.NewMap[string, int]() }, func() Cache { return shard.NewMap[string, int]() }},
	}
}

// rwmutexCache is the plain cache: a map under an RWMutex, a miss computed
// under the write lock after looking again (so once per key), which stalls
// every reader while it computes.
type rwmutexCache struct {
	mu sync.RWMutex
	m  map[string]int
}

func newRWMutexCache() *rwmutexCache { return &rwmutexCache{m: make(map[string]int)} }

func (c *rwmutexCache) LoadOrCompute(k string, fn func() int) (int, bool) {
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return v, true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.m[k]; ok {
		return v, true
	}
	v = fn()
	c.m[k] = v
	return v, false
}

func (c *rwmutexCache) Delete(k string) {
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
}

// singleflightCache is sync.Map with x/sync/singleflight for misses: the
// usual way to build a stampede-proof cache from the standard parts.
type singleflightCache struct {
	m baseline.SyncMap[string, int]
	g singleflight.Group
}

func (c *singleflightCache) LoadOrCompute(k string, fn func() int) (int, bool) {
	if v, ok := c.m.Load(k); ok {
		return v, true
	}
	v, _, shared := c.g.Do(k, func() (any, error) {
		if v, ok := c.m.Load(k); ok {
			return v, nil
		}
		v := fn()
		c.m.Store(k, v)
		return v, nil
	})
	return v.(int), shared
}

func (c *singleflightCache) Delete(k string) { c.m.Delete(k) }

// computeIters makes compute cost of the order of a microsecond (measured
// on the 2-core VM this suite is run on, under load): a chain of dependent
// xorshift steps that the compiler cannot fold.
const computeIters = 250

// compute stands for the expensive work a cache saves (a render, a query).
func compute() int {
	x := uint64(88172645463325252)
	for range computeIters {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return int(x >> 1)
}

// cacheWorkload is the cache row: Zipf(1.1) keys, every operation a
// LoadOrCompute with a compute of about 1 µs, except 1 in 100 that expires
// (deletes) the key it drew, so that hot keys go missing while many
// goroutines ask for them: the stampede a cache must absorb.
func cacheWorkload(impls []MapImpl, keys []string) benchutil.Workload {
	dist := benchutil.Zipf(1.1)
	w := benchutil.Workload{Name: dist.Name + "/cache"}
	for _, im := range impls {
		if im.NewCache == nil {
			continue
		}
		w.Impls = append(w.Impls, benchutil.Impl{Name: im.Name, Setup: func() benchutil.Body {
			return cacheBody(im.NewCache(), keys, dist)
		}})
	}
	return w
}

func cacheBody(c Cache, keys []string, dist benchutil.Dist) benchutil.Body {
	for _, k := range keys {
		c.LoadOrCompute(k, compute)
	}
	streams := make([][]int32, 64)
	for w := range streams {
		streams[w] = dist.Indexes(uint64(w)+1, len(keys), streamLen)
	}
	return func(worker, n int) {
		stream := streams[worker%len(streams)]
		j, op := 0, 0
		for range n {
			k := keys[stream[j]]
			if j++; j == len(stream) {
				j = 0
			}
			if op == 0 {
				c.Delete(k)
			} else {
				c.LoadOrCompute(k, compute)
			}
			if op++; op == 100 {
				op = 0
			}
		}
	}
}

// MapWorkloads builds the Map suite's workloads for the given maps: 16k
// string keys, uniform and Zipf(1.1), with 1%, 10% and 50% of operations
// overwriting an existing key and the rest loading one; and the cache
// workload (see cacheWorkload) for the maps that have NewCache.
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
	return append(ws, cacheWorkload(impls, keys))
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
