package shard_test

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breakeven-go/breakeven/shard"
)

// TestLoadOrComputeWaitersGetTheirKeysValue: in a one-shard map, where
// every computation shares the shard's list and its spare record, groups of
// goroutines ask for many absent keys at once, one key per group, while
// earlier keys' computations finish and later ones start. Every caller must
// get its own key's value, computed once per key, and none may wait for
// good (a record reused while a waiter still held it would hand the waiter
// another key's value, or a wait that never ends).
func TestLoadOrComputeWaitersGetTheirKeysValue(t *testing.T) {
	m := shard.NewMap[int, int](shard.WithShards(1))
	const keys, perKey = 400, 6
	var runs [keys]atomic.Int32
	var wg sync.WaitGroup
	var wrong atomic.Int32
	start := make(chan struct{})
	for k := range keys {
		for range perKey {
			wg.Go(func() {
				<-start
				v, _ := m.LoadOrCompute(k, func() int {
					runs[k].Add(1)
					for range k % 4 {
						runtime.Gosched() // let waiters find it, and other keys finish meanwhile
					}
					return k * 10
				})
				if v != k*10 {
					wrong.Add(1)
				}
			})
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	close(start)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("LoadOrCompute callers still waiting after 30s")
	}
	if n := wrong.Load(); n != 0 {
		t.Fatalf("%d callers got another key's value", n)
	}
	for k := range keys {
		if n := runs[k].Load(); n != 1 {
			t.Fatalf("fn ran %d times for key %d, want once", n, k)
		}
	}
}
