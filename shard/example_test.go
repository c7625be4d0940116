package shard_test

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/breakeven-go/breakeven/shard"
)

// Many goroutines count into one Counter; Load after they finish is exact.
func ExampleCounter() {
	var requests shard.Counter // the zero value is ready to use
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				requests.Add(1)
			}
		})
	}
	wg.Wait()
	fmt.Println(requests.Load())
	// Output: 8000
}

func ExampleNewCounter() {
	inFlight := shard.NewCounter()
	inFlight.Add(3)
	inFlight.Add(-1) // deltas may be negative
	fmt.Println(inFlight.Load())
	// Output: 2
}

// Export the requests of each interval, as a metrics loop would: every
// Add lands in exactly one interval.
func ExampleCounter_LoadAndReset() {
	var requests shard.Counter
	requests.Add(3)
	fmt.Println("interval 1:", requests.LoadAndReset())
	requests.Add(2)
	fmt.Println("interval 2:", requests.LoadAndReset())
	fmt.Println("now:", requests.Load())
	// Output:
	// interval 1: 3
	// interval 2: 2
	// now: 0
}

func ExampleCounter_Reset() {
	c := shard.NewCounter()
	c.Add(10)
	c.Reset()
	c.Add(1)
	fmt.Println(c.Load())
	// Output: 1
}

func ExampleCounter_Stats() {
	c := shard.NewCounter()
	c.Add(42)
	s := c.Stats()
	fmt.Println(s.Value, s.Generations)
	// Output: 42 1
}

func ExampleNewMap() {
	sessions := shard.NewMap[string, int]()
	sessions.Store("alice", 1)
	sessions.Store("bob", 2)
	v, ok := sessions.Load("alice")
	fmt.Println(v, ok, sessions.Len())
	// Output: 1 true 2
}

func ExampleWithShards() {
	// 256 shards: more than the default when many goroutines write at once.
	m := shard.NewMap[int, string](shard.WithShards(256))
	m.Store(1, "one")
	fmt.Println(m.Stats().Len, len(m.Stats().Shards))
	// Output: 1 256
}

func ExampleMap_Compute() {
	hits := shard.NewMap[string, int]()
	for _, page := range []string{"/", "/about", "/"} {
		hits.Compute(page, func(old int, _ bool) (int, bool) { return old + 1, true })
	}
	v, _ := hits.Load("/")
	fmt.Println(v)
	// Output: 2
}

func ExampleMap_LoadOrStore() {
	m := shard.NewMap[string, int]()
	v, loaded := m.LoadOrStore("k", 1)
	fmt.Println(v, loaded)
	v, loaded = m.LoadOrStore("k", 2)
	fmt.Println(v, loaded)
	// Output:
	// 1 false
	// 1 true
}

func ExampleMap_All() {
	m := shard.NewMap[string, int]()
	m.Store("a", 1)
	m.Store("b", 2)
	sum := 0
	for _, v := range m.All() {
		sum += v
	}
	fmt.Println(sum)
	// Output: 3
}

func ExampleMap_Delete() {
	m := shard.NewMap[string, int]()
	m.Store("a", 1)
	m.Delete("a")
	_, ok := m.Load("a")
	fmt.Println(ok, m.Len())
	// Output: false 0
}

func ExampleMap_Stats() {
	m := shard.NewMap[string, int](shard.WithShards(4))
	for i := range 100 {
		m.Store(fmt.Sprint("key-", i), i)
	}
	st := m.Stats()
	hottest := 0
	for _, s := range st.Shards {
		hottest = max(hottest, s.Entries)
	}
	fmt.Println("keys:", st.Len, "shards:", len(st.Shards), "writes:", st.Writes, "hottest shard below half:", hottest < 50)
	// Output: keys: 100 shards: 4 writes: 100 hottest shard below half: true
}

// The zero Map is ready to use, as a struct field or a variable.
func ExampleMap() {
	var sessions shard.Map[string, int]
	sessions.Store("alice", 1)
	fmt.Println(sessions.Len())
	// Output: 1
}

// A cache that computes a missing value once, however many requests ask
// for it at the same moment (the others wait for that one computation).
func ExampleMap_LoadOrCompute() {
	var cache shard.Map[string, string]
	var computed atomic.Int32
	render := func(page string) string {
		v, _ := cache.LoadOrCompute(page, func() string {
			computed.Add(1)
			return "<h1>" + page + "</h1>" // an expensive render
		})
		return v
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { render("home") })
	}
	wg.Wait()
	fmt.Println(render("home"), computed.Load())
	// Output: <h1>home</h1> 1
}

func ExampleMap_Swap() {
	m := shard.NewMap[string, string]()
	m.Store("leader", "node-1")
	prev, loaded := m.Swap("leader", "node-2")
	fmt.Println(prev, loaded)
	// Output: node-1 true
}

// CompareAndSwap turns a read-modify-write into an optimistic update that
// retries when another goroutine got there first.
func ExampleMap_CompareAndSwap() {
	m := shard.NewMap[string, int]()
	m.Store("version", 1)
	old, _ := m.Load("version")
	fmt.Println(m.CompareAndSwap("version", old, old+1))
	fmt.Println(m.CompareAndSwap("version", old, old+1)) // old is stale now
	// Output:
	// true
	// false
}

// CompareAndDelete removes a key only if it still holds the value the
// caller saw: here, a lease is released only by its holder.
func ExampleMap_CompareAndDelete() {
	leases := shard.NewMap[string, string]()
	leases.Store("job-7", "worker-a")
	fmt.Println(leases.CompareAndDelete("job-7", "worker-b"))
	fmt.Println(leases.CompareAndDelete("job-7", "worker-a"))
	// Output:
	// false
	// true
}

// WithCapacity sizes the tables once for the keys a map will hold, so that
// filling it does not rebuild them.
func ExampleWithCapacity() {
	m := shard.NewMap[int, int](shard.WithCapacity(10_000))
	for i := range 10_000 {
		m.Store(i, i)
	}
	var growths uint64
	for _, s := range m.Stats().Shards {
		growths += s.Growths
	}
	fmt.Println(m.Len(), growths)
	// Output: 10000 0
}

func ExampleMap_Load() {
	m := shard.NewMap[string, int]()
	m.Store("a", 1)
	v, ok := m.Load("a")
	fmt.Println(v, ok)
	_, ok = m.Load("b")
	fmt.Println(ok)
	// Output:
	// 1 true
	// false
}

func ExampleMap_Store() {
	m := shard.NewMap[string, int]()
	m.Store("a", 1)
	m.Store("a", 2) // an overwrite
	v, _ := m.Load("a")
	fmt.Println(v)
	// Output: 2
}

func ExampleMap_LoadAndDelete() {
	m := shard.NewMap[string, int]()
	m.Store("a", 1)
	v, loaded := m.LoadAndDelete("a")
	fmt.Println(v, loaded, m.Len())
	// Output: 1 true 0
}

func ExampleMap_Len() {
	m := shard.NewMap[int, bool]()
	for i := range 5 {
		m.Store(i, true)
	}
	fmt.Println(m.Len())
	// Output: 5
}

func ExampleMap_Clear() {
	m := shard.NewMap[int, bool]()
	m.Store(1, true)
	m.Clear()
	fmt.Println(m.Len())
	// Output: 0
}

func ExampleCounter_Add() {
	var bytesServed shard.Counter
	bytesServed.Add(512)
	bytesServed.Add(1024)
	fmt.Println(bytesServed.Load())
	// Output: 1536
}

func ExampleCounter_Load() {
	var c shard.Counter
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { c.Add(1) })
	}
	wg.Wait() // after the Adds finish, Load is exact
	fmt.Println(c.Load())
	// Output: 4
}
