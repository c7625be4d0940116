package shard

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// waitForWaiters returns once fn is running for k in m (one shard) with n
// callers waiting for it, or fails the test after 10s.
func waitForWaiters(t *testing.T, m *Map[string, int], k string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := -1 // no computation
		if m.tables.Load() != nil {
			s := &m.shards[0]
			s.mu.Lock()
			if c := s.computing(m.hash(k), k); c != nil {
				got = c.waiters
			}
			s.mu.Unlock()
		}
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d callers wait for %q after 10s, want %d", got, k, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestLoadOrComputeWaitersGetTheValue: callers that found fn running for
// their key (each counted as a waiter before fn returns) all return fn's
// value with loaded true, and fn runs once.
func TestLoadOrComputeWaitersGetTheValue(t *testing.T) {
	m := NewMap[string, int](WithShards(1))
	const waiters = 8
	release := make(chan struct{})
	var runs atomic.Int32
	fn := func() int { runs.Add(1); <-release; return 7 }
	var wg sync.WaitGroup
	wg.Go(func() {
		if v, loaded := m.LoadOrCompute("k", fn); v != 7 || loaded {
			t.Errorf("the computing caller got %d, %v; want 7, false", v, loaded)
		}
	})
	waitForWaiters(t, m, "k", 0) // fn is running
	for range waiters {
		wg.Go(func() {
			if v, loaded := m.LoadOrCompute("k", fn); v != 7 || !loaded {
				t.Errorf("a waiting caller got %d, %v; want 7, true", v, loaded)
			}
		})
	}
	waitForWaiters(t, m, "k", waiters)
	close(release)
	wg.Wait()
	if n := runs.Load(); n != 1 {
		t.Fatalf("fn ran %d times, want once", n)
	}
}

// TestLoadOrComputePanicReleasesWaiters: when fn panics with callers
// already waiting for it, every waiter is released and tries again: one of
// them runs its own fn, the others get that value, and the map holds it.
func TestLoadOrComputePanicReleasesWaiters(t *testing.T) {
	m := NewMap[string, int](WithShards(1))
	const waiters = 8
	release := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("the computing caller recovered %v, want fn's panic", r)
			}
		}()
		m.LoadOrCompute("k", func() int { <-release; panic("boom") })
	})
	waitForWaiters(t, m, "k", 0)
	var runs, computed atomic.Int32
	for range waiters {
		wg.Go(func() {
			v, loaded := m.LoadOrCompute("k", func() int { runs.Add(1); return 9 })
			if v != 9 {
				t.Errorf("a waiter got %d after the panic, want 9", v)
			}
			if !loaded {
				computed.Add(1)
			}
		})
	}
	waitForWaiters(t, m, "k", waiters)
	close(release)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("callers waiting on a panicked computation still wait after 10s")
	}
	if r, c := runs.Load(), computed.Load(); r != 1 || c != 1 {
		t.Fatalf("after the panic fn ran %d times and %d callers report computing, want 1 and 1", r, c)
	}
	if v, ok := m.Load("k"); v != 9 || !ok {
		t.Fatalf("Load = %d, %v; want 9, true", v, ok)
	}
}
