package shard

import (
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
)

// collidingKeys returns n distinct keys whose unseeded xxhash share their
// low 12 bits: what an attacker computes once, offline, against a map that
// picks buckets from the low bits of an unseeded hash.
func collidingKeys(n int) []string {
	keys := make([]string, 0, n)
	buf := []byte("key-")
	for i := 0; len(keys) < n; i++ {
		b := strconv.AppendInt(buf, int64(i), 10)
		if xxhash.Sum64(b)&0xfff == 0 {
			keys = append(keys, string(b))
		}
	}
	return keys
}

// probes returns how many buckets a lookup of k visits.
func (m *Map[K, V]) probes(k K) int {
	h := m.hash(k)
	t := m.shards[m.shardOf(h)].table.Load()
	n := 0
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		n++
		if meta := t.buckets[i].meta.Load(); hasEmpty(meta) {
			return n
		}
		for j := range t.buckets[i].slots {
			if e := t.buckets[i].slots[j].Load(); e != nil && e.key == k {
				return n
			}
		}
	}
}

// TestMapSpreadsCollidingKeys stores keys built to share a bucket under an
// unseeded hash in a one-shard map: with a seeded hash they must spread over
// the buckets like any keys, so a lookup visits about one bucket, not a
// chain as long as the keys are many.
func TestMapSpreadsCollidingKeys(t *testing.T) {
	keys := collidingKeys(300)
	for range 3 { // three maps, three seeds
		m := NewMap[string, int](WithShards(1))
		for i, k := range keys {
			m.Store(k, i)
		}
		homes := map[uint64]bool{}
		total, worst := 0, 0
		for _, k := range keys {
			h := m.hash(k)
			homes[h&m.shards[0].table.Load().mask] = true
			p := m.probes(k)
			total += p
			worst = max(worst, p)
		}
		buckets := len(m.shards[0].table.Load().buckets)
		if mean := float64(total) / float64(len(keys)); mean > 2 || len(homes) < buckets/2 {
			t.Fatalf("%d colliding keys: %d home buckets of %d, %.1f buckets probed per lookup on average (worst %d); want them spread",
				len(keys), len(homes), buckets, mean, worst)
		}
	}
}

// TestEmptyMapIsSmall: an empty map costs a few words at any GOMAXPROCS; the
// shards (and their padding) are built on the first write.
func TestEmptyMapIsSmall(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(64))
	const maps = 100
	keep := make([]*Map[string, int], maps)
	var before, after runtime.MemStats
	runtime.GC() // settle what the GOMAXPROCS change allocates
	runtime.ReadMemStats(&before)
	for i := range keep {
		keep[i] = NewMap[string, int]()
		keep[i].Load("k")
		keep[i].Delete("k")
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / maps; per > 512 {
		t.Fatalf("an empty map at GOMAXPROCS=64 allocates %d bytes, want at most 512", per)
	}
	var zero Map[string, int]
	if zero.Len() != 0 || len(zero.Stats().Shards) != 0 {
		t.Fatal("zero Map: want empty")
	}
	keep[0].Store("k", 1) // the first write builds the shards
	if n := len(keep[0].shards); n != 64*defaultShardsPerP {
		t.Fatalf("%d shards at GOMAXPROCS=64, want %d", n, 64*defaultShardsPerP)
	}
}

// TestComputeMayCallLenAndStats: Compute's fn holds a shard lock; Len and
// Stats take none, as its doc says, so calling them inside fn returns.
func TestComputeMayCallLenAndStats(t *testing.T) {
	m := NewMap[string, int](WithShards(1))
	m.Store("a", 1)
	done := make(chan [2]int, 1)
	go func() {
		m.Compute("b", func(int, bool) (int, bool) {
			done <- [2]int{m.Len(), m.Stats().Len}
			return 2, true
		})
	}()
	select {
	case got := <-done:
		if got != [2]int{1, 1} {
			t.Fatalf("Len, Stats().Len inside Compute = %v, want 1, 1", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Len or Stats inside Compute deadlocked on the shard lock")
	}
}

// BenchmarkMapLoadAdversarial loads keys built to collide under an unseeded
// hash (keys=colliding) against ordinary keys (keys=random), 1000 of each
// in a one-shard map: with a seeded hash the two cost the same.
//
//	go test -run '^$' -bench MapLoadAdversarial -count 6 ./shard | benchstat -col /keys -
func BenchmarkMapLoadAdversarial(b *testing.B) {
	const n = 1000
	random := make([]string, n)
	for i := range random {
		random[i] = fmt.Sprintf("key-%d", i)
	}
	for _, set := range []struct {
		name string
		keys []string
	}{{"random", random}, {"colliding", collidingKeys(n)}} {
		b.Run("keys="+set.name, func(b *testing.B) {
			m := NewMap[string, int](WithShards(1))
			for i, k := range set.keys {
				m.Store(k, i)
			}
			i := 0
			for b.Loop() {
				m.Load(set.keys[i])
				if i++; i == n {
					i = 0
				}
			}
		})
	}
}
