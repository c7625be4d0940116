package cow_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/breakeven-go/breakeven/cow"
)

type Config struct {
	MaxConns int
	Greeting string
}

func ExampleNewValue() {
	cfg := cow.NewValue(&Config{MaxConns: 10, Greeting: "hello"})
	// On every request: one atomic load, no lock.
	fmt.Println(cfg.Load().Greeting)
	// On reload: publish a new config; requests in flight keep the old one.
	cfg.Store(&Config{MaxConns: 20, Greeting: "hi"})
	fmt.Println(cfg.Load().MaxConns)
	// Output:
	// hello
	// 20
}

func ExampleValue_Update() {
	v := cow.NewValue(1)
	v.Update(func(old int) int { return old * 10 })
	fmt.Println(v.Load())
	// Output: 10
}

func ExampleValue_TryUpdate() {
	cfg := cow.NewValue(&Config{MaxConns: 10})
	_, err := cfg.TryUpdate(func(old *Config) (*Config, error) {
		next := *old
		next.MaxConns = -1
		if next.MaxConns <= 0 {
			return nil, errors.New("MaxConns must be positive")
		}
		return &next, nil
	})
	fmt.Println(err, cfg.Load().MaxConns) // the last good config stays
	// Output: MaxConns must be positive 10
}

func ExampleValue_Watch() {
	v := cow.NewValue("v1")
	ctx, cancel := context.WithCancel(context.Background())
	applied := make(chan string)
	go func() {
		defer close(applied)
		for cfg := range v.Watch(ctx) { // ends when ctx is cancelled
			applied <- cfg
		}
	}()
	fmt.Println(<-applied) // the current value comes first
	v.Store("v2")
	fmt.Println(<-applied)
	cancel()
	<-applied // closed once the watch has ended
	// Output:
	// v1
	// v2
}

func ExampleValue_Changed() {
	v := cow.NewValue(1)
	changed := v.Changed()
	v.Store(2)
	<-changed // closed by the Store
	fmt.Println(v.Load(), v.Version())
	// Output: 2 2
}

func ExampleNewMap() {
	routes := cow.NewMap(map[string]string{"/": "home"})
	routes.Store("/about", "about")
	page, ok := routes.Load("/about")
	fmt.Println(page, ok, routes.Len())
	// Output: about true 2
}

func ExampleMap_Apply() {
	flags := cow.NewMap(map[string]bool{"beta": false})
	// Many edits, one copy, one publish: readers see all of them or none.
	flags.Apply(func(m map[string]bool) {
		m["beta"] = true
		m["dark-mode"] = true
		delete(m, "legacy")
	})
	fmt.Println(flags.Len(), flags.Stats().Copies)
	// Output: 2 1
}

func ExampleMap_Reset() {
	cache := cow.NewMap(map[string]int{"a": 1, "b": 2})
	old := cache.Reset(nil) // start a new epoch; readers never block
	fmt.Println(old.Len(), cache.Len())
	// Output: 2 0
}

func ExampleMap_Snapshot() {
	m := cow.NewMap(map[string]int{"a": 1})
	snap := m.Snapshot() // a consistent view, however m changes
	m.Store("b", 2)
	fmt.Println(snap.Len(), m.Len())
	// Output: 1 2
}

func ExampleValue() {
	var hits cow.Value[int] // the zero value is ready to use and holds 0
	fmt.Println(hits.Load())
	hits.Update(func(n int) int { return n + 1 })
	fmt.Println(hits.Load(), hits.Version())
	// Output:
	// 0
	// 1 2
}

func ExampleValue_CompareAndSwap() {
	type config struct{ Workers int }
	cfg := cow.NewValue(&config{Workers: 4})
	// Read, compute without holding anything, publish only if nobody
	// published in between; otherwise read again and retry (a bounded
	// number of times: Update is for writers that must not give up).
	for range 10 {
		old := cfg.Load()
		next := &config{Workers: old.Workers * 2}
		if cfg.CompareAndSwap(old, next) {
			break
		}
	}
	fmt.Println(cfg.Load().Workers)
	// Output: 8
}

func ExampleMap() {
	var flags cow.Map[string, bool] // the zero value is ready to use and empty
	flags.Store("dark-mode", true)
	on, _ := flags.Load("dark-mode")
	fmt.Println(on, flags.Len())
	// Output: true 1
}

func ExampleMap_Changed() {
	routes := cow.NewMap(map[string]string{"/": "home"})
	changed := routes.Changed()
	routes.Store("/about", "about")
	<-changed // closed by the Store
	fmt.Println(routes.Len())
	// Output: 2
}

func ExampleMap_Watch() {
	routes := cow.NewMap(map[string]string{"/": "home"})
	ctx, cancel := context.WithCancel(context.Background())
	applied := make(chan int)
	go func() {
		defer close(applied)
		for snap := range routes.Watch(ctx) { // ends when ctx is cancelled
			applied <- snap.Len() // rebuild a router from snap here
		}
	}()
	fmt.Println(<-applied) // the current version comes first
	routes.Store("/about", "about")
	fmt.Println(<-applied)
	cancel()
	<-applied // closed once the watch has ended
	// Output:
	// 1
	// 2
}
