package pin

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// TestOwnedFollowsItsParts: Owned is Exact, outside the race detector, on
// a 64-bit platform; never in a race build or the portable one.
func TestOwnedFollowsItsParts(t *testing.T) {
	want := Exact && !Race && ^uint(0)>>63 == 1
	if Owned != want {
		t.Fatalf("Owned = %v with Exact %v, Race %v, 64-bit %v", Owned, Exact, Race, ^uint(0)>>63 == 1)
	}
	if Race && Owned {
		t.Fatal("Owned in a race build: the detector would report the plain writes")
	}
}

// TestIndexIsAPWhenExact: in the default build Index names a P, in
// [0, GOMAXPROCS), for goroutines all over the machine; in the portable one
// it is a non-negative hash. Either way Unpin lets the goroutine block again.
func TestIndexIsAPWhenExact(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for range 4 * procs {
		wg.Go(func() {
			for range 1000 {
				i := Index()
				Unpin()
				if i < 0 || Exact && i >= procs {
					t.Errorf("Index() = %d with GOMAXPROCS %d (Exact %v)", i, procs, Exact)
					return
				}
				runtime.Gosched()
			}
		})
	}
	wg.Wait()
}

// TestPinnedGoroutinesHaveDistinctIndexes: the promise Owned rests on.
// Two goroutines pinned at the same moment are on two Ps, so Index gives
// them different slots. Each spins, pinned, until the other is pinned too;
// the spin is bounded (a stop-the-world pause can keep the second one from
// running while the first holds its P), and a round where they did not
// overlap is not counted. The portable build cannot promise this.
func TestPinnedGoroutinesHaveDistinctIndexes(t *testing.T) {
	if !Exact {
		t.Skip("the portable build hashes goroutines: two may share a slot")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	const rounds, spin = 200, 1 << 22
	overlapped := 0
	for range rounds {
		var pinned atomic.Int32
		var idx [2]int
		var met [2]bool
		var wg sync.WaitGroup
		for g := range 2 {
			wg.Go(func() {
				idx[g] = Index()
				pinned.Add(1)
				for i := 0; i < spin && pinned.Load() < 2; i++ {
				}
				met[g] = pinned.Load() == 2
				Unpin()
			})
		}
		wg.Wait()
		if !met[0] || !met[1] {
			continue
		}
		overlapped++
		if idx[0] == idx[1] {
			t.Fatalf("two goroutines pinned at once both got Index %d", idx[0])
		}
	}
	if overlapped == 0 {
		t.Fatalf("in %d rounds the two goroutines were never pinned at once", rounds)
	}
}

// TestPortableIndexIsStablePerGoroutine: the portable hash is the same for
// one goroutine at one stack depth, and spreads goroutines over slots.
func TestPortableIndexIsStablePerGoroutine(t *testing.T) {
	if Exact {
		t.Skip("the default build returns the P, which may change between calls")
	}
	const goroutines = 64
	seen := make(map[int]bool)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			a, b := Index(), Index()
			if a != b {
				t.Errorf("Index() = %d then %d on one goroutine", a, b)
			}
			mu.Lock()
			seen[a&(goroutines-1)] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(seen) < goroutines/8 {
		t.Fatalf("%d goroutines landed on %d of %d slots", goroutines, len(seen), goroutines)
	}
}
