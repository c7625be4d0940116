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

func ExampleCounter_Stats() {
	c := shard.NewCounter()
	c.Add(42)
	s := c.Stats()
	fmt.Println(s.Value, s.Generations)
	// Output: 42 1
}
