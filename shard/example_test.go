package shard_test

import (
	"fmt"
	"sync"

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
