package shard_test

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breakeven-go/breakeven/shard"
)

// TestLoadOrComputeRunsFnOnce: 64 goroutines, released together, ask for
// one absent key; fn yields while it computes so that the others arrive
// while it runs. fn must run once, and every caller get its value.
func TestLoadOrComputeRunsFnOnce(t *testing.T) {
	for round := range 20 {
		m := shard.NewMap[string, int]()
		key := fmt.Sprint("k", round)
		var calls atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		got := make([]int, 64)
		computed := make([]bool, 64)
		for g := range 64 {
			wg.Go(func() {
				<-start
				v, loaded := m.LoadOrCompute(key, func() int {
					calls.Add(1)
					for range 50 {
						runtime.Gosched() // let the others pile up on the key
					}
					return 1000 + g
				})
				got[g], computed[g] = v, !loaded
			})
		}
		close(start)
		wg.Wait()
		if n := calls.Load(); n != 1 {
			t.Fatalf("round %d: fn ran %d times for one key, want once", round, n)
		}
		winners := 0
		for g := range 64 {
			if computed[g] {
				winners++
			}
			if got[g] != got[0] {
				t.Fatalf("round %d: callers got %d and %d", round, got[0], got[g])
			}
		}
		if v, _ := m.Load(key); winners != 1 || v != got[0] {
			t.Fatalf("round %d: %d callers report computing, map holds %d, callers got %d", round, winners, v, got[0])
		}
	}
}

// TestLoadOrComputePanicStoresNothing: a panicking fn stores nothing, its
// panic reaches the caller, and a caller that was waiting for it computes
// the value itself.
func TestLoadOrComputePanicStoresNothing(t *testing.T) {
	m := shard.NewMap[string, int]()
	inFn, release := make(chan struct{}), make(chan struct{})
	panicked := make(chan any, 1)
	go func() {
		defer func() { panicked <- recover() }()
		m.LoadOrCompute("k", func() int {
			close(inFn)
			<-release
			panic("boom")
		})
	}()
	<-inFn
	waiter := make(chan [2]int, 1)
	go func() {
		v, loaded := m.LoadOrCompute("k", func() int { return 7 })
		waiter <- [2]int{v, map[bool]int{false: 0, true: 1}[loaded]}
	}()
	close(release)
	if r := <-panicked; r != "boom" {
		t.Fatalf("LoadOrCompute's caller recovered %v, want fn's panic", r)
	}
	select {
	case got := <-waiter:
		if got != [2]int{7, 0} {
			t.Fatalf("after the panic, the other caller got %v; want its own value 7, computed", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a caller waiting on a panicked computation never returned")
	}
	if v, ok := m.Load("k"); !ok || v != 7 {
		t.Fatalf("Load = %d, %v; want 7", v, ok)
	}
}

// TestLoadOrComputeGoexit: fn calling runtime.Goexit (as t.FailNow does)
// stores nothing and leaves no computation behind for later callers.
func TestLoadOrComputeGoexit(t *testing.T) {
	m := shard.NewMap[string, int]()
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.LoadOrCompute("k", func() int { runtime.Goexit(); return 1 })
	}()
	<-done
	if _, ok := m.Load("k"); ok {
		t.Fatal("a Goexit in fn stored a value")
	}
	if v, loaded := m.LoadOrCompute("k", func() int { return 2 }); v != 2 || loaded {
		t.Fatalf("LoadOrCompute after a Goexit = %d, %v; want 2, false", v, loaded)
	}
}

// TestLoadOrComputeFnMayUseTheMap: fn runs with no lock held, so it may
// call the map; a value stored for the key while fn runs wins.
func TestLoadOrComputeFnMayUseTheMap(t *testing.T) {
	m := shard.NewMap[string, int](shard.WithShards(1))
	v, loaded := m.LoadOrCompute("k", func() int {
		m.Store("other", 1)
		m.Compute("k", func(int, bool) (int, bool) { return 5, true })
		return 9
	})
	if v != 5 || !loaded {
		t.Fatalf("LoadOrCompute = %d, %v; want the value stored meanwhile, 5, true", v, loaded)
	}
	if v, _ := m.Load("k"); v != 5 {
		t.Fatalf("map holds %d, want 5", v)
	}
}

// TestLoadOrStoreRacedOnOneKey: goroutines released together LoadOrStore
// their own value on one absent key; every caller must get the same value,
// and exactly one must have stored it.
func TestLoadOrStoreRacedOnOneKey(t *testing.T) {
	forEachMap(t, func(t *testing.T, m kvMap) {
		const goroutines = 16
		for round := range 500 {
			key := fmt.Sprint("k", round)
			var wg sync.WaitGroup
			start := make(chan struct{})
			var got [goroutines]int
			var stored atomic.Int32
			for g := range goroutines {
				wg.Go(func() {
					<-start
					v, loaded := m.LoadOrStore(key, round*100+g)
					got[g] = v
					if !loaded {
						stored.Add(1)
					}
				})
			}
			close(start)
			wg.Wait()
			for g := range goroutines {
				if got[g] != got[0] {
					t.Fatalf("round %d: LoadOrStore on one key returned %d to one caller and %d to another", round, got[0], got[g])
				}
			}
			if n := stored.Load(); n != 1 {
				t.Fatalf("round %d: %d callers stored, want 1", round, n)
			}
		}
	})
}

func TestSwapAndCompare(t *testing.T) {
	m := shard.NewMap[string, int]()
	if prev, loaded := m.Swap("a", 1); loaded || prev != 0 {
		t.Fatalf("Swap on an absent key = %d, %v", prev, loaded)
	}
	if prev, loaded := m.Swap("a", 2); !loaded || prev != 1 {
		t.Fatalf("Swap = %d, %v; want 1, true", prev, loaded)
	}
	if m.CompareAndSwap("a", 1, 3) || m.CompareAndSwap("missing", 0, 3) {
		t.Fatal("CompareAndSwap swapped a value that did not match")
	}
	if !m.CompareAndSwap("a", 2, 3) {
		t.Fatal("CompareAndSwap(a, 2, 3) did not swap")
	}
	if m.CompareAndDelete("a", 2) || m.CompareAndDelete("missing", 0) {
		t.Fatal("CompareAndDelete deleted a value that did not match")
	}
	if !m.CompareAndDelete("a", 3) || m.Len() != 0 {
		t.Fatal("CompareAndDelete(a, 3) did not delete")
	}
	// Racing increments by CompareAndSwap lose nothing.
	var wg sync.WaitGroup
	m.Store("n", 0)
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				for {
					old, _ := m.Load("n")
					if m.CompareAndSwap("n", old, old+1) {
						break
					}
				}
			}
		})
	}
	wg.Wait()
	if v, _ := m.Load("n"); v != 8000 {
		t.Fatalf("8 x 1000 CompareAndSwap increments = %d", v)
	}
}

// TestCompareOnUncomparableValuesPanics: as sync.Map, CompareAndSwap and
// CompareAndDelete need comparable values; here the panic is the
// package's, and comes even when the key is absent.
func TestCompareOnUncomparableValuesPanics(t *testing.T) {
	m := shard.NewMap[string, []int]()
	m.Store("a", []int{1})
	for name, f := range map[string]func(){
		"CompareAndSwap":   func() { m.CompareAndSwap("a", nil, nil) },
		"CompareAndDelete": func() { m.CompareAndDelete("absent", nil) },
	} {
		func() {
			defer func() {
				if msg, _ := recover().(string); !strings.HasPrefix(msg, "shard: Map."+name+": value type []int is not comparable") {
					t.Errorf("%s with []int values: recovered %q", name, msg)
				}
			}()
			f()
		}()
	}
}

// TestWithCapacityAvoidsGrowth: a map sized for n keys does not rebuild a
// table while n keys are stored; without the hint it does.
func TestWithCapacityAvoidsGrowth(t *testing.T) {
	for _, n := range []int{1, 100, 10_000} {
		for _, shards := range []int{1, 16} {
			sized := shard.NewMap[int, int](shard.WithShards(shards), shard.WithCapacity(n))
			plain := shard.NewMap[int, int](shard.WithShards(shards))
			for i := range n {
				sized.Store(i, i)
				plain.Store(i, i)
			}
			if g := growths(sized); g != 0 {
				t.Errorf("WithCapacity(%d), %d shards: %d growths storing %d keys, want 0", n, shards, g, n)
			}
			if g := growths(plain); n >= 10_000 && g == 0 {
				t.Errorf("no capacity hint, %d shards: no growth storing %d keys (the test cannot tell)", shards, n)
			}
		}
	}
	for _, n := range []int{-1, math.MaxInt} {
		func() {
			defer func() {
				if msg, _ := recover().(string); !strings.HasPrefix(msg, fmt.Sprintf("shard: WithCapacity(%d): ", n)) {
					t.Errorf("WithCapacity(%d) recovered %q, want a shard: panic", n, msg)
				}
			}()
			shard.WithCapacity(n)
		}()
	}
}

func growths(m *shard.Map[int, int]) uint64 {
	var g uint64
	for _, s := range m.Stats().Shards {
		g += s.Growths
	}
	return g
}

// TestZeroMapIsUsable: the zero Map needs no constructor.
func TestZeroMapIsUsable(t *testing.T) {
	var m shard.Map[string, int]
	if _, ok := m.Load("a"); ok || m.Len() != 0 {
		t.Fatal("zero Map is not empty")
	}
	m.Delete("a")
	m.Clear()
	for range m.All() {
		t.Fatal("zero Map yields a key")
	}
	var wg sync.WaitGroup
	for g := range 8 { // the first writes race to build the shards
		wg.Go(func() { m.Store(fmt.Sprint(g), g) })
	}
	wg.Wait()
	if m.Len() != 8 {
		t.Fatalf("Len = %d after 8 Stores, want 8", m.Len())
	}
}

// TestClearKeepsItsRoom: after Clear, a shard's next table is as large as
// the one dropped (as documented), so refilling the map to its old size
// does not grow it, and every key is found again.
func TestClearKeepsItsRoom(t *testing.T) {
	m := shard.NewMap[int, int](shard.WithShards(1))
	const n = 5000
	for k := range n {
		m.Store(k, k)
	}
	before := m.Stats().Shards[0]
	m.Clear()
	m.Store(0, 1) // builds the shard's next table
	if slots := m.Stats().Shards[0].Slots; slots != before.Slots {
		t.Fatalf("first table after Clear has %d slots, want the %d from before Clear", slots, before.Slots)
	}
	for k := range n {
		m.Store(k, k+1)
	}
	after := m.Stats().Shards[0]
	if after.Slots != before.Slots || after.Growths != before.Growths {
		t.Fatalf("refilled after Clear: %d slots, %d growths; want the %d slots and %d growths from before Clear",
			after.Slots, after.Growths, before.Slots, before.Growths)
	}
	for k := range n {
		if v, ok := m.Load(k); !ok || v != k+1 {
			t.Fatalf("Load(%d) = %d, %v after Clear and refill; want %d, true", k, v, ok, k+1)
		}
	}
}

// TestLoadOrComputeMissAllocatesOnlyTheEntry: a miss with nobody waiting
// reuses the shard's finished computation record, so it allocates the new
// entry and nothing else.
func TestLoadOrComputeMissAllocatesOnlyTheEntry(t *testing.T) {
	m := shard.NewMap[int, int](shard.WithShards(1))
	m.LoadOrCompute(1, func() int { return 1 }) // builds the table and the spare record
	allocs := testing.AllocsPerRun(100, func() {
		m.Delete(1)
		m.LoadOrCompute(1, func() int { return 2 })
	})
	if allocs != 1 {
		t.Fatalf("Delete then a LoadOrCompute miss: %v allocations, want 1 (the entry)", allocs)
	}
}

// TestLoadOrComputeInAShardWithoutATable: after Clear no shard has a table
// (and the map's table references stay); LoadOrCompute must take that for
// a miss and compute, as it must for a key whose shard was never written.
func TestLoadOrComputeInAShardWithoutATable(t *testing.T) {
	m := shard.NewMap[string, int]()
	m.Store("a", 1)
	m.Clear()
	if v, loaded := m.LoadOrCompute("b", func() int { return 2 }); v != 2 || loaded {
		t.Fatalf("LoadOrCompute after Clear = %d, %v; want 2, false", v, loaded)
	}
}
