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

// TestQueuedCriticalNotBehindSheddable (defect 3): with a Sheddable waiter
// at the head and a Critical one behind it, a freed slot that only the
// Critical one may take goes to it at once instead of both waiting out
// their 100 ms.
func TestQueuedCriticalNotBehindSheddable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := shed.NewQueued(shed.NewInFlight(10), 10) // Sheddable: 9 of 10
		crit := shed.WithPriority(t.Context(), shed.Critical)
		var held []shed.Permit
		for range 9 {
			p, err := q.Acquire(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, p)
		}
		last, err := q.Acquire(crit)
		if err != nil {
			t.Fatal(err)
		}
		sheddable := make(chan error, 1)
		go func() {
			p, err := q.Acquire(t.Context())
			if err == nil {
				p.Release(shed.Success)
			}
			sheddable <- err
		}()
		synctest.Wait() // the Sheddable waiter is at the head
		critical := make(chan time.Duration, 1)
		go func() {
			start := time.Now()
			p, err := q.Acquire(crit)
			if err != nil {
				critical <- -1
				return
			}
			critical <- time.Since(start)
			p.Release(shed.Success)
		}()
		synctest.Wait()
		last.Release(shed.Success) // 9 busy: fits a Critical waiter only
		if waited := <-critical; waited != 0 {
			t.Fatalf("Critical waiter behind a Sheddable head: waited %v (-1: shed), want served at once", waited)
		}
		for _, p := range held {
			p.Release(shed.Success)
		}
		if err := <-sheddable; err != nil {
			t.Fatalf("the Sheddable waiter: %v, want served once slots freed", err)
		}
	})
}

// racingLimiter is a limiter of one slot, written outside the package with
// NewPermit, whose first refusal runs onRefuse before returning: the place
// where a release can slip between a failed Acquire and joining the queue.
type racingLimiter struct {
	mu       sync.Mutex
	inFlight int
	refusals int
	onRefuse func()
	onGrant  func()
	cancels  int
}

func (l *racingLimiter) Acquire(ctx context.Context) (shed.Permit, error) {
	if err := ctx.Err(); err != nil {
		return shed.Permit{}, err
	}
	l.mu.Lock()
	if l.inFlight >= 1 {
		l.refusals++
		hook := l.onRefuse
		l.onRefuse = nil
		l.mu.Unlock()
		if hook != nil {
			hook()
		}
		return shed.Permit{}, shed.ErrOverloaded
	}
	l.inFlight++
	hook := l.onGrant
	l.onGrant = nil
	l.mu.Unlock()
	if hook != nil {
		hook()
	}
	return shed.NewPermit(l), nil
}

func (l *racingLimiter) ReleasePermit(_ time.Time, o shed.Outcome) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight--
	if o == shed.Cancelled {
		l.cancels++
	}
}

func (l *racingLimiter) Stats() shed.Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return shed.Stats{Limit: 1, InFlight: l.inFlight}
}

// TestQueuedNoLostWakeup (defect 4): the holder releases right after a
// newcomer's Acquire failed and before it joined the queue; the newcomer
// must get the free slot at once, not wait out its 100 ms while it idles.
func TestQueuedNoLostWakeup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inner := &racingLimiter{}
		q := shed.NewQueued(inner, 4)
		hold, err := q.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		inner.onRefuse = func() { hold.Release(shed.Success) } // finds the queue empty
		start := time.Now()
		p, err := q.Acquire(t.Context())
		if err != nil || time.Since(start) != 0 {
			t.Fatalf("Acquire after a release that raced it: %v after %v; want the free slot at once", err, time.Since(start))
		}
		p.Release(shed.Success)
		if s := q.Stats(); s.InFlight != 0 || s.Queued != 0 {
			t.Fatalf("Stats = %+v", s)
		}
	})
}

// TestQueuedGrantedWhileGivingUp: a waiter whose ctx ends just as a slot is
// handed to it gives the slot back (as Cancelled, which teaches a limiter
// nothing) and returns its ctx's error: no slot leaks, none is used twice.
// The limiter cancels the waiter's ctx inside the hand-off's Acquire, so
// the cancellation is ready before the grant when the waiter wakes; each
// round takes the give-up path with probability at least 1/2.
func TestQueuedGrantedWhileGivingUp(t *testing.T) {
	inner := &racingLimiter{}
	q := shed.NewQueued(inner, 4)
	for round := range 40 {
		hold, err := q.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		got := make(chan error, 1)
		go func() {
			p, err := q.Acquire(ctx)
			if err == nil {
				p.Release(shed.Success)
			}
			got <- err
		}()
		for deadline := time.Now().Add(10 * time.Second); q.Stats().Queued == 0; {
			if time.Now().After(deadline) {
				t.Fatal("the waiter never queued")
			}
			time.Sleep(50 * time.Microsecond)
		}
		inner.mu.Lock()
		inner.onGrant = cancel // runs in the hand-off, before the grant is sent
		inner.mu.Unlock()
		hold.Release(shed.Success)
		if err := <-got; err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("round %d: %v", round, err)
		}
		cancel()
		if s := q.Stats(); s.InFlight != 0 || s.Queued != 0 {
			t.Fatalf("round %d: Stats = %+v; a slot leaked", round, s)
		}
	}
	inner.mu.Lock()
	defer inner.mu.Unlock()
	if inner.cancels == 0 {
		t.Fatal("no round gave a granted slot back: the path went untested")
	}
}
