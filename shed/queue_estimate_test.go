package shed_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/breakeven-go/breakeven/shed"
)

// Queued refuses at once a request whose deadline comes before its
// expected wait: queue position x recent service time / limit.

// holdFor admits a Critical request through q, holds it d, and releases
// it, so that q learns a service time of d.
func holdFor(t *testing.T, q *shed.Queued, d time.Duration) {
	t.Helper()
	p, err := q.Acquire(shed.WithPriority(t.Context(), shed.Critical))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(d)
	p.Release(shed.Success)
}

// TestQueueExpectedWaitDividesByTheLimit: with 4 slots each held about
// 100ms, the first in the queue expects about 25ms, so a request with a
// 50ms deadline waits for a slot instead of being refused at once.
func TestQueueExpectedWaitDividesByTheLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		crit := shed.WithPriority(t.Context(), shed.Critical)
		q := shed.NewQueued(shed.NewInFlight(4), 10)
		holdFor(t, q, 100*time.Millisecond)
		var held []shed.Permit
		for range 4 {
			p, err := q.Acquire(crit)
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, p)
		}
		ctx, cancel := context.WithTimeout(crit, 50*time.Millisecond)
		defer cancel()
		go func() {
			time.Sleep(20 * time.Millisecond)
			held[0].Release(shed.Success)
		}()
		p, err := q.Acquire(ctx)
		if err != nil {
			t.Fatalf("expected wait 25ms, deadline 50ms: Acquire = %v, want a slot after waiting", err)
		}
		p.Release(shed.Success)
		for _, p := range held[1:] {
			p.Release(shed.Success)
		}
		if s := q.Stats(); s.ShedDeadline != 0 || s.ServedFromQueue != 1 {
			t.Fatalf("Stats = %+v, want served from the queue, none refused on its deadline", s)
		}
	})
}

// TestQueueServiceTimeFollowsRecentReleases: the service time the queue
// expects follows recent releases: after one slow request and then many
// fast ones, a request with a deadline that the fast ones fit in is
// queued, not refused on the slow one's account.
func TestQueueServiceTimeFollowsRecentReleases(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		crit := shed.WithPriority(t.Context(), shed.Critical)
		q := shed.NewQueued(shed.NewInFlight(1), 10)
		holdFor(t, q, time.Second)
		for range 50 {
			holdFor(t, q, 10*time.Millisecond)
		}
		p, err := q.Acquire(crit)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(crit, 100*time.Millisecond)
		defer cancel()
		go func() {
			time.Sleep(10 * time.Millisecond)
			p.Release(shed.Success)
		}()
		p2, err := q.Acquire(ctx)
		if err != nil {
			t.Fatalf("after 50 requests of 10ms, a request with a 100ms deadline: %v, want queued and served", err)
		}
		p2.Release(shed.Success)
	})
}

// TestQueueNeverEmptyBecomesStanding: a queue that has not been empty for
// the last 100ms is standing, even while slots are handed to its waiters,
// and a newcomer may then wait only 5ms.
func TestQueueNeverEmptyBecomesStanding(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		crit := shed.WithPriority(t.Context(), shed.Critical)
		q := shed.NewQueued(shed.NewInFlight(1), 10)
		hold, _ := q.Acquire(crit)
		got := make(chan string, 3)
		wait := func(name string) {
			p, err := q.Acquire(crit)
			if err != nil {
				got <- name + " shed"
				return
			}
			got <- name + " served"
			time.Sleep(time.Second)
			p.Release(shed.Success)
		}
		go wait("w1") // t=0: the queue was empty until now
		time.Sleep(40 * time.Millisecond)
		go wait("w2")                     // t=40ms, may wait 100ms
		time.Sleep(20 * time.Millisecond) // t=60ms
		hold.Release(shed.Success)        // the slot goes to w1; w2 still waits
		if r := <-got; r != "w1 served" {
			t.Fatalf("outcome %q, want w1 served", r)
		}
		time.Sleep(41 * time.Millisecond) // t=101ms: not empty since t=0
		start := time.Now()
		go wait("w3")
		if r := <-got; r != "w3 shed" || time.Since(start) != 5*time.Millisecond {
			t.Fatalf("outcome %q after %v, want w3 shed after 5ms: the queue is standing", r, time.Since(start))
		}
		if r := <-got; r != "w2 shed" {
			t.Fatalf("outcome %q, want w2 shed after its 100ms", r)
		}
		time.Sleep(time.Second) // w1 releases its slot and returns
	})
}
