package shard_test

import (
	"runtime"
	"sync"
	"testing"

	"github.com/breakeven-go/breakeven/internal/baseline"
	"github.com/breakeven-go/breakeven/shard"
)

type counter interface {
	Add(int64)
	Load() int64
}

// counterImpls are the counter and its baselines: every behaviour test runs
// against all of them, so the benchmarks compare against correct code.
var counterImpls = []struct {
	name string
	new  func() counter
}{
	{"shard", func() counter { return shard.NewCounter() }},
	{"shard-zero", func() counter { return new(shard.Counter) }},
	{"atomic", func() counter { return new(baseline.AtomicCounter) }},
	{"mutex", func() counter { return new(baseline.MutexCounter) }},
}

func forEachCounter(t *testing.T, f func(t *testing.T, c counter)) {
	for _, im := range counterImpls {
		t.Run(im.name, func(t *testing.T) { f(t, im.new()) })
	}
}

// addFrom adds 1 to c adds times from each of goroutines goroutines at
// once, and returns when all are done.
func addFrom(c interface{ Add(int64) }, goroutines, adds int) {
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range adds {
				c.Add(1)
			}
		})
	}
	wg.Wait()
}

func TestCounterConcurrentAddsSumExactly(t *testing.T) {
	forEachCounter(t, func(t *testing.T, c counter) {
		const goroutines, adds = 16, 100_000
		addFrom(c, goroutines, adds)
		if got, want := c.Load(), int64(goroutines*adds); got != want {
			t.Fatalf("Load() = %d, want %d", got, want)
		}
	})
}

func TestCounterNegativeDeltas(t *testing.T) {
	forEachCounter(t, func(t *testing.T, c counter) {
		if got := c.Load(); got != 0 {
			t.Fatalf("new counter Load() = %d, want 0", got)
		}
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 10_000 {
					if (i+g)%2 == 0 {
						c.Add(5)
					} else {
						c.Add(-7)
					}
				}
			})
		}
		wg.Wait()
		// Each goroutine adds 5 and -7 5000 times each.
		if got, want := c.Load(), int64(8*5000*(5-7)); got != want {
			t.Fatalf("Load() = %d, want %d", got, want)
		}
		c.Add(-c.Load())
		if got := c.Load(); got != 0 {
			t.Fatalf("after subtracting the total, Load() = %d, want 0", got)
		}
	})
}

func TestCounterAddDoesNotAllocate(t *testing.T) {
	forEachCounter(t, func(t *testing.T, c counter) {
		c.Add(1) // the zero Counter allocates its cells on first use
		if allocs := testing.AllocsPerRun(1000, func() { c.Add(1) }); allocs != 0 {
			t.Fatalf("Add allocates %v times per call, want 0", allocs)
		}
		if allocs := testing.AllocsPerRun(1000, func() { _ = c.Load() }); allocs != 0 {
			t.Fatalf("Load allocates %v times per call, want 0", allocs)
		}
	})
}

// TestCounterSurvivesGOMAXPROCSChanges changes GOMAXPROCS up and down while
// adders run: P ids outside the first cell set must add a generation, and
// increments made to older generations must still be counted.
func TestCounterSurvivesGOMAXPROCSChanges(t *testing.T) {
	orig := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(orig) })
	forEachCounter(t, func(t *testing.T, c counter) {
		runtime.GOMAXPROCS(1)
		c.Add(0) // cells sized for one P
		const goroutines, adds = 8, 50_000
		var wg sync.WaitGroup
		for range goroutines {
			wg.Go(func() {
				for i := range adds {
					c.Add(1)
					if i%1000 == 0 {
						runtime.Gosched()
					}
				}
			})
		}
		for _, procs := range []int{4, 1, 8, 2, 16, 3} {
			runtime.GOMAXPROCS(procs)
			runtime.Gosched()
		}
		wg.Wait()
		if got, want := c.Load(), int64(goroutines*adds); got != want {
			t.Fatalf("Load() = %d, want %d", got, want)
		}
	})
}

// TestCounterGrowsByOneP grows GOMAXPROCS from 1 to 2, so that every Add
// on the new P has the index one past the first generation's last cell:
// the bound is i < len, and an Add there must start a generation, not
// index past the end.
func TestCounterGrowsByOneP(t *testing.T) {
	orig := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(orig) })
	for _, zero := range []bool{false, true} {
		runtime.GOMAXPROCS(1)
		c := shard.NewCounter()
		if zero {
			c = new(shard.Counter)
		}
		c.Add(1)
		runtime.GOMAXPROCS(2)
		const goroutines, adds = 64, 1000
		addFrom(c, goroutines, adds)
		if got, want := c.Load(), int64(1+goroutines*adds); got != want {
			t.Fatalf("zero Counter %v: Load() = %d, want %d", zero, got, want)
		}
	}
}

func TestCounterStats(t *testing.T) {
	orig := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(orig) })
	runtime.GOMAXPROCS(1)
	c := shard.NewCounter()
	c.Add(3)
	first := c.Stats()
	if first.Value != 3 || first.Generations != 1 || first.Cells < 1 {
		t.Fatalf("Stats() = %+v, want Value 3 in 1 generation", first)
	}
	// Grow GOMAXPROCS and add from many goroutines until some run on a P
	// beyond the first set of cells.
	runtime.GOMAXPROCS(8)
	addFrom(c, 64, 1000)
	s := c.Stats()
	if s.Value != 3+64*1000 || s.Value != c.Load() {
		t.Fatalf("Stats().Value = %d, Load() = %d, want %d", s.Value, c.Load(), 3+64*1000)
	}
	// Each generation after the first is sized for the grown GOMAXPROCS (8
	// cells at least), and the older generations are kept. (This used to
	// check Cells < Generations, which cannot happen: a generation has at
	// least one cell.)
	if s.Cells < first.Cells+8*(s.Generations-1) {
		t.Fatalf("Stats() = %+v after growing from %+v: a later generation has fewer than 8 cells, or an older one was dropped", s, first)
	}
}

// TestCounterLoadAndResetLosesNothing: adders run while another goroutine
// keeps taking LoadAndReset; what the resets took plus what is left must be
// exactly what was added, none lost and none counted twice.
func TestCounterLoadAndResetLosesNothing(t *testing.T) {
	for _, c := range []*shard.Counter{shard.NewCounter(), new(shard.Counter)} {
		const goroutines, adds = 8, 50_000
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				for i := range adds {
					c.Add(1)
					if i%512 == g {
						runtime.Gosched()
					}
				}
			})
		}
		stop := make(chan struct{})
		taken := make(chan int64)
		go func() {
			var sum int64
			for {
				select {
				case <-stop:
					taken <- sum
					return
				default:
				}
				v := c.LoadAndReset()
				if v < 0 {
					t.Errorf("LoadAndReset = %d with only positive Adds", v)
				}
				sum += v
				runtime.Gosched()
			}
		}()
		wg.Wait()
		close(stop)
		sum := <-taken
		if got := sum + c.LoadAndReset(); got != goroutines*adds {
			t.Fatalf("LoadAndReset took %d in all, want %d", got, goroutines*adds)
		}
		if c.Load() != 0 {
			t.Fatalf("Load after the last LoadAndReset = %d", c.Load())
		}
	}
}
func TestCounterReset(t *testing.T) {
	var c shard.Counter
	c.Reset() // on the zero Counter
	c.Add(5)
	c.Reset()
	if c.Load() != 0 || c.Stats().Value != 0 {
		t.Fatalf("after Reset: Load %d, Stats().Value %d; want 0", c.Load(), c.Stats().Value)
	}
	c.Add(-2)
	if got := c.LoadAndReset(); got != -2 || c.Load() != 0 {
		t.Fatalf("LoadAndReset = %d (then Load %d), want -2 (then 0)", got, c.Load())
	}
}
