package shard_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/breakeven-go/breakeven/internal/baseline"
	"github.com/breakeven-go/breakeven/shard"
)

// kvMap is what the behaviour tests need of a map; shard.Map and every
// baseline in the benchmarks implement it.
type kvMap interface {
	Load(string) (int, bool)
	Store(string, int)
	LoadOrStore(string, int) (int, bool)
	Delete(string)
	Len() int
}

var mapImpls = []struct {
	name string
	new  func() kvMap
}{
	{"shard", func() kvMap { return shard.NewMap[string, int]() }},
	{"shard-1", func() kvMap { return shard.NewMap[string, int](shard.WithShards(1)) }},
	{"shard-1024", func() kvMap { return shard.NewMap[string, int](shard.WithShards(1024)) }},
	{"mutex", func() kvMap { return baseline.NewMutexMap[string, int]() }},
	{"rwmutex", func() kvMap { return baseline.NewRWMutexMap[string, int]() }},
	{"syncmap", func() kvMap { return new(baseline.SyncMap[string, int]) }},
}

func forEachMap(t *testing.T, f func(t *testing.T, m kvMap)) {
	for _, im := range mapImpls {
		t.Run(im.name, func(t *testing.T) { f(t, im.new()) })
	}
}

// TestMapModel drives every implementation with 200k random operations on a
// few hundred keys and compares it with a plain map after every step.
func TestMapModel(t *testing.T) {
	forEachMap(t, func(t *testing.T, m kvMap) {
		r := rand.New(rand.NewPCG(1, 2))
		model := map[string]int{}
		sm, isShard := m.(*shard.Map[string, int])
		for step := range 200_000 {
			k := fmt.Sprintf("k%d", r.IntN(300))
			v := r.IntN(1000)
			switch op := r.IntN(10); {
			case op < 3:
				got, ok := m.Load(k)
				want, wok := model[k]
				if got != want || ok != wok {
					t.Fatalf("step %d: Load(%q) = %d, %v; want %d, %v", step, k, got, ok, want, wok)
				}
			case op < 5:
				m.Store(k, v)
				model[k] = v
			case op < 7:
				got, loaded := m.LoadOrStore(k, v)
				want, wok := model[k]
				if !wok {
					want = v
					model[k] = v
				}
				if got != want || loaded != wok {
					t.Fatalf("step %d: LoadOrStore(%q, %d) = %d, %v; want %d, %v", step, k, v, got, loaded, want, wok)
				}
			case op < 9 || !isShard:
				m.Delete(k)
				delete(model, k)
			default:
				// Compute: add v, and delete the key when the sum passes 1500.
				got, kept := sm.Compute(k, func(old int, loaded bool) (int, bool) {
					if wok := func() bool { _, ok := model[k]; return ok }(); loaded != wok {
						t.Fatalf("step %d: Compute(%q) saw loaded=%v, model has it: %v", step, k, loaded, wok)
					}
					return old + v, old+v <= 1500
				})
				want := model[k] + v
				if got != want || kept != (want <= 1500) {
					t.Fatalf("step %d: Compute(%q) = %d, %v; want %d, %v", step, k, got, kept, want, want <= 1500)
				}
				if kept {
					model[k] = want
				} else {
					delete(model, k)
				}
			}
			if step%1000 == 0 && m.Len() != len(model) {
				t.Fatalf("step %d: Len() = %d, want %d", step, m.Len(), len(model))
			}
		}
		if m.Len() != len(model) {
			t.Fatalf("Len() = %d, want %d", m.Len(), len(model))
		}
		for k, want := range model {
			if got, ok := m.Load(k); !ok || got != want {
				t.Fatalf("Load(%q) = %d, %v; want %d", k, got, ok, want)
			}
		}
		if isShard {
			if got := maps.Collect(sm.All()); !maps.Equal(got, model) {
				t.Fatalf("All() collected %d keys that differ from the model's %d", len(got), len(model))
			}
		}
	})
}

// TestMapConcurrentDisjointWriters: goroutines writing disjoint keys lose
// nothing (run under -race).
func TestMapConcurrentDisjointWriters(t *testing.T) {
	forEachMap(t, func(t *testing.T, m kvMap) {
		const writers, keys = 8, 2000
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := range keys {
					k := fmt.Sprintf("w%d-%d", w, i)
					m.Store(k, i)
					if i%3 == 0 {
						m.Delete(k)
					}
					m.Load(fmt.Sprintf("w%d-%d", (w+1)%writers, i))
				}
			})
		}
		wg.Wait()
		want := writers * (keys - (keys+2)/3)
		if got := m.Len(); got != want {
			t.Fatalf("Len() = %d, want %d", got, want)
		}
		for w := range writers {
			for i := range keys {
				v, ok := m.Load(fmt.Sprintf("w%d-%d", w, i))
				if ok != (i%3 != 0) || (ok && v != i) {
					t.Fatalf("Load(w%d-%d) = %d, %v", w, i, v, ok)
				}
			}
		}
	})
}

func TestMapComputeIsAtomic(t *testing.T) {
	m := shard.NewMap[string, int]()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				m.Compute("hits", func(old int, _ bool) (int, bool) { return old + 1, true })
			}
		})
	}
	wg.Wait()
	if v, _ := m.Load("hits"); v != 8000 {
		t.Fatalf("8 x 1000 Compute increments = %d, want 8000", v)
	}
	if v, kept := m.Compute("absent", func(int, bool) (int, bool) { return 0, false }); kept || v != 0 {
		t.Fatalf("Compute returning keep=false = %d, %v", v, kept)
	}
	if _, ok := m.Load("absent"); ok {
		t.Fatal("Compute with keep=false stored the key")
	}
}

// TestMapAllStopsEarlyAndHoldsNoLock breaks out of All and then writes every
// shard: a lock left held would deadlock. It also writes from inside the
// loop body, which All documents as allowed.
func TestMapAllStopsEarlyAndHoldsNoLock(t *testing.T) {
	m := shard.NewMap[int, int](shard.WithShards(16))
	for i := range 1000 {
		m.Store(i, i)
	}
	seen := map[int]bool{}
	for k := range m.All() {
		if seen[k] {
			t.Fatalf("All yielded %d twice", k)
		}
		seen[k] = true
		m.Store(k+1_000_000, 0) // may or may not be yielded later; must not deadlock
		if len(seen) == 10 {
			break
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 1000 {
			m.Store(i, -i) // touches every shard
		}
		m.Clear()
	}()
	<-done
	if m.Len() != 0 {
		t.Fatalf("Len after Clear = %d", m.Len())
	}
}

func TestMapAllYieldsEachKeyOnceUnderWrites(t *testing.T) {
	m := shard.NewMap[int, int]()
	for i := range 5000 {
		m.Store(i, i)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			m.Store(5000+i%100, i) // keys outside the stable set come and go
			m.Delete(5000 + (i+50)%100)
		}
	})
	seen := map[int]int{}
	for k := range m.All() {
		seen[k]++
	}
	close(stop)
	wg.Wait()
	for i := range 5000 {
		if seen[i] != 1 {
			t.Fatalf("key %d, present throughout, yielded %d times", i, seen[i])
		}
	}
}

func TestMapNonStringKeys(t *testing.T) {
	type point struct{ x, y int }
	m := shard.NewMap[point, string](shard.WithShards(8))
	for i := range 100 {
		m.Store(point{i, -i}, fmt.Sprint(i))
	}
	if v, ok := m.Load(point{7, -7}); !ok || v != "7" {
		t.Fatalf("Load(point{7,-7}) = %q, %v", v, ok)
	}
	type name string // a named string type takes the maphash.String path
	n := shard.NewMap[name, int]()
	n.Store("a", 1)
	if v, ok := n.Load("a"); !ok || v != 1 {
		t.Fatalf("named string key: Load = %d, %v", v, ok)
	}
	if v, loaded := n.LoadAndDelete("a"); !loaded || v != 1 || n.Len() != 0 {
		t.Fatalf("LoadAndDelete = %d, %v; Len %d", v, loaded, n.Len())
	}
}

// TestMapAllocations: reads never allocate; overwriting a word-sized value
// writes it in place and allocates nothing; a new key, or an overwrite of a
// larger value, allocates exactly its one entry (the price of lock-free
// reads).
func TestMapAllocations(t *testing.T) {
	m := shard.NewMap[string, int]()
	m.Store("k", 1)
	big := shard.NewMap[string, string]()
	big.Store("k", "v")
	ptr := shard.NewMap[string, *int]()
	ptr.Store("k", new(int))
	p := new(int)
	inPlace := 0.0 // word-sized overwrites are in place on 64-bit platforms only
	if strconv.IntSize == 32 {
		inPlace = 1
	}
	for name, tc := range map[string]struct {
		f      func()
		allocs float64
	}{
		"Load":             {func() { m.Load("k") }, 0},
		"LoadMiss":         {func() { m.Load("missing") }, 0},
		"LoadOrStore":      {func() { m.LoadOrStore("k", 3) }, 0},
		"LoadOrCompute":    {func() { m.LoadOrCompute("k", func() int { return 3 }) }, 0},
		"DeleteMissing":    {func() { m.Delete("missing") }, 0},
		"Store":            {func() { m.Store("k", 2) }, inPlace},
		"Swap":             {func() { m.Swap("k", 2) }, inPlace},
		"CompareAndSwap":   {func() { m.CompareAndSwap("k", 2, 2) }, inPlace},
		"Compute":          {func() { m.Compute("k", func(o int, _ bool) (int, bool) { return o + 1, true }) }, inPlace},
		"StorePointer":     {func() { ptr.Store("k", p) }, inPlace},
		"StoreString":      {func() { big.Store("k", "w") }, 1},
		"LoadString":       {func() { big.Load("k") }, 0},
		"ComputeString":    {func() { big.Compute("k", func(o string, _ bool) (string, bool) { return "x", true }) }, 1},
		"StoreNewAndClear": {func() { m.Store("new", 1); m.Delete("new") }, 1},
	} {
		if a := testing.AllocsPerRun(1000, tc.f); a != tc.allocs {
			t.Errorf("%s allocates %v times per call, want %v", name, a, tc.allocs)
		}
	}
}

func TestMapStats(t *testing.T) {
	m := shard.NewMap[int, int](shard.WithShards(4))
	for i := range 100 {
		m.Store(i, i)
	}
	m.Load(1)
	s := m.Stats()
	if len(s.Shards) != 4 || s.Len != 100 || s.Writes != 100 {
		t.Fatalf("Stats() = {Len %d, Writes %d, %d shards}; want 100, 100, 4", s.Len, s.Writes, len(s.Shards))
	}
	sum := 0
	for _, sh := range s.Shards {
		sum += sh.Entries
	}
	if sum != 100 {
		t.Fatalf("shard entries sum to %d, want 100", sum)
	}
}

func TestWithShardsRejectsBadCounts(t *testing.T) {
	for _, n := range []int{0, -1, 3, 100, 1 << 17} {
		func() {
			defer func() {
				r := recover()
				msg, _ := r.(string)
				if !strings.HasPrefix(msg, fmt.Sprintf("shard: WithShards(%d): ", n)) {
					t.Errorf("WithShards(%d) panicked with %v, want a shard: message", n, r)
				}
			}()
			shard.WithShards(n)
		}()
	}
	shard.NewMap[int, int](shard.WithShards(1 << 16)) // the largest allowed
}

// TestMapReadersSeeOnlyStoredValues runs lock-free readers (Load, and
// LoadOrCompute, whose hit path is Load's written out again) against
// writers that store, overwrite, delete and grow the tables: a reader must
// only ever see a value some writer stored for that very key (values encode
// their key), never one from another key or a half-written entry, and must
// take a slot emptied under it for a miss.
func TestMapReadersSeeOnlyStoredValues(t *testing.T) {
	m := shard.NewMap[int, int](shard.WithShards(4))
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for r := range 4 {
		readers.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := (i*7 + r) % 5000
				if v, ok := m.Load(k); ok && v/1_000_000 != k {
					t.Errorf("Load(%d) = %d: a value stored for key %d", k, v, v/1_000_000)
					return
				}
				if r%2 == 1 {
					if v, _ := m.LoadOrCompute(k, func() int { return k * 1_000_000 }); v/1_000_000 != k {
						t.Errorf("LoadOrCompute(%d) = %d: a value stored for key %d", k, v, v/1_000_000)
						return
					}
				}
			}
		})
	}
	var writers sync.WaitGroup
	for w := range 2 {
		writers.Go(func() {
			for i := range 50_000 {
				k := (i*13 + w) % 5000
				switch i % 4 {
				case 0, 1:
					m.Store(k, k*1_000_000+i)
				case 2:
					m.Delete(k)
				case 3:
					m.Compute(k, func(old int, loaded bool) (int, bool) { return k*1_000_000 + i, !loaded })
				}
			}
		})
	}
	writers.Wait()
	close(stop)
	readers.Wait()
	for k, v := range m.All() {
		if v/1_000_000 != k {
			t.Fatalf("All yielded %d -> %d", k, v)
		}
	}
}
