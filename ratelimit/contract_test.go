package ratelimit_test

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/time/rate"

	"github.com/breakeven-go/breakeven/ratelimit"
)

// Promises of the package docs at their edges, each found unchecked by a
// mutation run (scripts/mutation.sh gremlins ./ratelimit).

// TestNoRefusalWhileTokensRemain: 8 goroutines on at least two Ps make
// 400000 AllowN(1) calls between them, as fast as they can, on a bucket of
// exactly 400000 that does not refill within the test: every call is
// admitted, however the calls interleave. A refusal is only for an empty
// bucket; a call that lost a race to another admission (and decides again
// under the lock) must not turn into a refusal while tokens remain.
func TestNoRefusalWhileTokensRemain(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	const goroutines, calls = 8, 50000
	for _, im := range limiterImpls {
		t.Run(im.name, func(t *testing.T) {
			l := im.new(rate.Every(time.Hour), goroutines*calls)
			var refused atomic.Int64
			var wg sync.WaitGroup
			for range goroutines {
				wg.Go(func() {
					for range calls {
						if !l.AllowN(1) {
							refused.Add(1)
						}
					}
				})
			}
			wg.Wait()
			if n := refused.Load(); n != 0 {
				t.Fatalf("%d of %d calls refused by a bucket of %d: refused while tokens remained", n, goroutines*calls, goroutines*calls)
			}
		})
	}
}

// TestNoRefusalWhileTheRateSwitches: as TestNoRefusalWhileTokensRemain,
// while another goroutine switches the rate between one an hour and
// rate.Inf as fast as it can (SetLimit keeps the tokens; at rate.Inf every
// call is admitted). A call that loaded the old rate and finds rate.Inf
// when it decides again under the lock is admitted, not refused.
func TestNoRefusalWhileTheRateSwitches(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	const rounds, goroutines, calls = 3, 8, 50000
	for round := range rounds {
		l := ratelimit.New(rate.Every(time.Hour), goroutines*calls)
		var refused atomic.Int64
		stop := make(chan struct{})
		var switcher, callers sync.WaitGroup
		switcher.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r := rate.Every(time.Hour)
				if i%2 == 0 {
					r = rate.Inf
				}
				if err := l.SetLimit(r); err != nil {
					t.Error(err)
					return
				}
			}
		})
		for range goroutines {
			callers.Go(func() {
				for range calls {
					if !l.AllowN(1) {
						refused.Add(1)
					}
				}
			})
		}
		callers.Wait()
		close(stop)
		switcher.Wait()
		if n := refused.Load(); n != 0 {
			t.Fatalf("round %d: %d of %d calls refused by a bucket of %d while the rate switched to and from rate.Inf", round, n, goroutines*calls, goroutines*calls)
		}
	}
}

// TestWaitNAboveTheBurst: WaitN of more events than the burst fails at
// once with an error of its own, not one matching DeadlineExceeded (no
// deadline would help); with rate.Inf there is no burst to exceed.
func TestWaitNAboveTheBurst(t *testing.T) {
	ctx := context.Background()
	l := ratelimit.New(10, 2)
	k := ratelimit.NewKeyed[string](10, 2)
	for name, err := range map[string]error{"Limiter": l.WaitN(ctx, 3), "Keyed": k.WaitN(ctx, "a", 3)} {
		if err == nil || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s.WaitN(3) with a burst of 2 = %v, want an error that is not DeadlineExceeded", name, err)
		}
	}
	if err := ratelimit.New(rate.Inf, 2).WaitN(ctx, 3); err != nil {
		t.Errorf("Limiter at rate.Inf: WaitN(3) with a burst of 2 = %v, want nil", err)
	}
	if err := ratelimit.NewKeyed[string](rate.Inf, 2).WaitN(ctx, "a", 3); err != nil {
		t.Errorf("Keyed at rate.Inf: WaitN(3) with a burst of 2 = %v, want nil", err)
	}
}

// TestCancelledWaitNGivesEveryEventBack: a WaitN of several events
// cancelled while it waits gives all of them back, for the Limiter and for
// a key of Keyed.
func TestCancelledWaitNGivesEveryEventBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(10, 3)
		k := ratelimit.NewKeyed[string](10, 3)
		l.AllowN(3)
		k.AllowN("a", 3)
		for name, wait := range map[string]func(context.Context) error{
			"Limiter": func(ctx context.Context) error { return l.WaitN(ctx, 3) },
			"Keyed":   func(ctx context.Context) error { return k.WaitN(ctx, "a", 3) },
		} {
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error)
			go func() { done <- wait(ctx) }()
			synctest.Wait() // waiting for its 3 events, 300ms away
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("%s: cancelled WaitN(3) = %v", name, err)
			}
		}
		time.Sleep(300 * time.Millisecond) // the bucket refills the 3 spent at the start
		if !l.AllowN(3) {
			t.Error("Limiter: 300ms after a cancelled WaitN(3) on an empty bucket of 3, AllowN(3) refused: events were kept")
		}
		if !k.AllowN("a", 3) {
			t.Error("Keyed: 300ms after a cancelled WaitN(3) on an empty bucket of 3, AllowN(3) refused: events were kept")
		}
	})
}

// TestWaitedCountsOnlyEventsThatWait: Stats().Waited counts the events of a
// reservation that has to wait, not those admitted at once.
func TestWaitedCountsOnlyEventsThatWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(10, 2)
		l.ReserveN(2) // at once: the bucket was full
		if s := l.Stats(); s.Allowed != 2 || s.Waited != 0 {
			t.Fatalf("after ReserveN(2) on a full bucket: Stats = %+v, want 2 allowed, 0 waited", s)
		}
		if r := l.ReserveN(1); r.Delay() != 100*time.Millisecond {
			t.Fatalf("ReserveN(1) on an empty bucket: Delay %v, want 100ms", r.Delay())
		}
		if s := l.Stats(); s.Allowed != 3 || s.Waited != 1 {
			t.Fatalf("after ReserveN(1) that waits: Stats = %+v, want 3 allowed, 1 waited", s)
		}
	})
}

// TestEvictedActiveMeansNotYetFull: a key evicted to stay under MaxKeys
// counts in EvictedActive only if its bucket was not yet full: evicted at
// the very instant it is full again, it is not.
func TestEvictedActiveMeansNotYetFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := ratelimit.NewKeyed[int](10, 1, ratelimit.MaxKeys(1))
		k.Allow(1)                         // key 1's bucket is full again in 100ms
		time.Sleep(100 * time.Millisecond) // ... now
		k.Allow(2)                         // evicts key 1
		if s := k.Stats(); s.Evicted != 1 || s.EvictedActive != 0 {
			t.Fatalf("key evicted the instant its bucket was full: Stats = %+v, want 1 evicted, 0 active", s)
		}
		k.Allow(3) // evicts key 2, 100ms from full
		if s := k.Stats(); s.Evicted != 2 || s.EvictedActive != 1 {
			t.Fatalf("key evicted before its bucket was full: Stats = %+v, want 2 evicted, 1 active", s)
		}
	})
}

// TestCombinedOneInFlight: maxInFlight 1 (the smallest allowed) runs one
// operation at a time.
func TestCombinedOneInFlight(t *testing.T) {
	c := ratelimit.NewCombined(rate.Inf, 1, 1)
	if !c.TryAcquire() {
		t.Fatal("NewCombined(Inf, 1, 1): TryAcquire refused with nothing in flight")
	}
	if c.TryAcquire() {
		t.Fatal("NewCombined(Inf, 1, 1): a second operation admitted while one is in flight")
	}
	c.Release()
	if !c.TryAcquire() {
		t.Fatal("NewCombined(Inf, 1, 1): TryAcquire refused after Release")
	}
	c.Release()
}

// noQuota is a KeyLimiter that decides without describing a quota (Limit
// 0), as a custom limiter may.
type noQuota struct{}

func (noQuota) Check(context.Context, string) (ratelimit.Decision, error) {
	return ratelimit.Decision{Allowed: true}, nil
}

// TestMiddlewareDescribesOnlyAQuotaItWasGiven: a decision without a quota
// (Limit 0) gets no RateLimit-Policy or RateLimit field: "q=0" would tell
// clients they may send nothing at all.
func TestMiddlewareDescribesOnlyAQuotaItWasGiven(t *testing.T) {
	srv := serve(t, noQuota{})
	resp := get(t, srv.URL)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	for _, h := range []string{"RateLimit-Policy", "RateLimit"} {
		if v := resp.Header.Get(h); v != "" {
			t.Errorf("%s: %q for a decision without a quota, want none", h, v)
		}
	}
}
