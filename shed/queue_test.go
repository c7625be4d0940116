package shed_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/breakeven-go/breakeven/shed"
)

// TestQueueAbsorbsABurst: 5 simultaneous requests against 2 slots all get
// served, 3 of them after a short wait, none shed.
func TestQueueAbsorbsABurst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := shed.NewQueued(shed.NewInFlight(3), 10) // sheddable: 2 slots
		var served atomic.Int32
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() {
				p, err := q.Acquire(t.Context())
				if err != nil {
					t.Errorf("Acquire: %v", err)
					return
				}
				time.Sleep(10 * time.Millisecond)
				p.Release(shed.Success)
				served.Add(1)
			})
		}
		wg.Wait()
		if s := q.Stats(); served.Load() != 5 || s.ServedFromQueue != 3 || s.Queued != 0 || s.InFlight != 0 {
			t.Fatalf("served %d; Stats = %+v", served.Load(), s)
		}
	})
}

func TestQueueFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := shed.NewQueued(shed.NewInFlight(1), 1)
		crit := shed.WithPriority(t.Context(), shed.Critical)
		hold, err := q.Acquire(crit)
		if err != nil {
			t.Fatal(err)
		}
		waited := make(chan error)
		go func() {
			p, err := q.Acquire(crit) // fills the queue of 1
			if err == nil {
				p.Release(shed.Success)
			}
			waited <- err
		}()
		synctest.Wait()
		if _, err := q.Acquire(crit); !errors.Is(err, shed.ErrOverloaded) {
			t.Fatalf("Acquire with the queue full: %v, want ErrOverloaded", err)
		}
		hold.Release(shed.Success) // hands the slot to the waiter
		if err := <-waited; err != nil {
			t.Fatalf("the queued request: %v", err)
		}
		if s := q.Stats(); s.ShedQueueFull != 1 || s.ServedFromQueue != 1 || s.InFlight != 0 {
			t.Fatalf("Stats = %+v", s)
		}
	})
}

// TestQueueDeadlineAware: a request whose deadline comes before its
// expected wait is refused at once rather than timing out in the queue.
func TestQueueDeadlineAware(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := shed.NewQueued(shed.NewInFlight(1), 10)
		crit := shed.WithPriority(t.Context(), shed.Critical)
		p, _ := q.Acquire(crit)
		time.Sleep(50 * time.Millisecond)
		p.Release(shed.Success) // the queue learns: a slot is held ~50ms
		p, _ = q.Acquire(crit)
		defer p.Release(shed.Success)
		ctx, cancel := context.WithTimeout(crit, 10*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := q.Acquire(ctx)
		if !errors.Is(err, shed.ErrOverloaded) || time.Since(start) != 0 {
			t.Fatalf("Acquire with a 10ms deadline and a ~50ms expected wait: %v after %v; want an immediate refusal", err, time.Since(start))
		}
		if q.Stats().ShedDeadline != 1 {
			t.Fatalf("Stats = %+v", q.Stats())
		}
	})
}

// TestStandingQueueIsShortAndLIFO: once the queue has not been empty for
// 100ms, newcomers may wait only 5ms, and a freed slot goes to the newest.
func TestStandingQueueIsShortAndLIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := shed.NewQueued(shed.NewInFlight(1), 10)
		crit := shed.WithPriority(t.Context(), shed.Critical)
		hold, _ := q.Acquire(crit)
		got := make(chan string, 3)
		wait := func(name string) {
			p, err := q.Acquire(crit)
			if err != nil {
				got <- name + " shed"
				return
			}
			got <- name + " served"
			p.Release(shed.Success)
		}
		go wait("w1")                     // t=0: queue healthy, may wait 100ms
		time.Sleep(99 * time.Millisecond) // still non-empty since t=0
		go wait("w2")                     // may wait 100ms
		time.Sleep(2 * time.Millisecond)  // t=101ms: standing
		go wait("w3")                     // may wait only 5ms
		time.Sleep(time.Millisecond)      // t=102ms; w1 timed out at 100ms
		if r := <-got; r != "w1 shed" {
			t.Fatalf("first outcome %q, want w1 shed after its 100ms", r)
		}
		hold.Release(shed.Success) // standing queue: LIFO hands the slot to w3
		if r := <-got; r != "w3 served" {
			t.Fatalf("outcome %q, want w3 (newest) served first", r)
		}
		<-got
	})
}
