package shed_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/breakeven-go/breakeven/shed"
)

// backend is a simulated service of slots slots, each request holding one
// for service (or until its ctx ends); run it on synctest's clock.
type backend struct{ slots chan struct{} }

func newBackend(slots int) *backend { return &backend{slots: make(chan struct{}, slots)} }

func (b *backend) serve(ctx context.Context, service time.Duration) error {
	select {
	case b.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-b.slots }()
	t := time.NewTimer(service)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// tally counts what an offered load got.
type tally struct{ served, shed atomic.Int64 }

// offer sends rate requests per second for d, open loop, each on its own
// goroutine running one(); it returns when they have all finished.
func offer(rate int, d time.Duration, one func()) {
	var wg sync.WaitGroup
	every := time.Second / time.Duration(rate)
	start := time.Now()
	for i := 0; time.Since(start) < d; i++ {
		wg.Go(one)
		time.Sleep(time.Until(start.Add(time.Duration(i+1) * every)))
	}
	wg.Wait()
}

// direct returns a request that goes through l straight to b.
func direct(l shed.Limiter, b *backend, service time.Duration, n *tally) func() {
	return func() {
		p, err := l.Acquire(context.Background())
		if err != nil {
			n.shed.Add(1)
			return
		}
		b.serve(context.Background(), service)
		n.served.Add(1)
		p.Release(shed.Success)
	}
}

// TestAdaptiveIgnoresClientCancels (issue 18 defect 1): one client that
// cancels one request per 100 ms window, among about 60 that succeed, does
// not move the limit: a client going away says nothing about capacity.
// Before, the middleware reported it as Dropped and every such window cut
// the limit by a tenth, down to the minimum.
func TestAdaptiveIgnoresClientCancels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := shed.NewAdaptive()
		b := newBackend(40) // 4,000 req/s of 10 ms requests: never overloaded here
		h := shed.Middleware(a, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if b.serve(r.Context(), 10*time.Millisecond) != nil {
				return
			}
			w.Write([]byte("ok"))
		}))
		var n tally
		get := func(ctx context.Context) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil).WithContext(ctx))
			switch rec.Code {
			case 200:
				n.served.Add(1)
			case 503:
				n.shed.Add(1)
			}
		}
		stop := make(chan struct{})
		attacker := make(chan struct{})
		go func() { // the client that cancels
			defer close(attacker)
			for {
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
				}
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(time.Millisecond, cancel)
				get(ctx)
				cancel()
			}
		}()
		offer(600, 10*time.Second, func() { get(context.Background()) })
		close(stop)
		<-attacker
		s := a.Stats()
		if s.Cancelled < 50 || s.Dropped != 0 {
			t.Fatalf("Stats = %+v; want the attacker's ~100 requests counted as Cancelled, none Dropped", s)
		}
		if s.Limit < 8 || n.shed.Load() > 60 {
			t.Fatalf("limit %d, %d of %d shed under one cancel per window: the cancels moved the limit",
				s.Limit, n.shed.Load(), n.shed.Load()+n.served.Load())
		}
	})
}

// TestAdaptiveStrayDropDoesNotShrink: one of our own timeouts (Dropped) per
// window among many successes is noise, not overload: the limit holds.
func TestAdaptiveStrayDropDoesNotShrink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := shed.NewAdaptive()
		b := newBackend(40)
		var n tally
		var i atomic.Int64
		offer(600, 10*time.Second, func() {
			p, err := a.Acquire(context.Background())
			if err != nil {
				n.shed.Add(1)
				return
			}
			b.serve(context.Background(), 10*time.Millisecond)
			if i.Add(1)%60 == 0 {
				p.Release(shed.Dropped)
				return
			}
			p.Release(shed.Success)
		})
		if s := a.Stats(); s.Limit < 8 || n.shed.Load() > 60 {
			t.Fatalf("Stats = %+v, %d shed: one drop per window shrank the limit", s, n.shed.Load())
		}
	})
}

// TestAdaptiveRecoversFromFastQuietPeriod (defect 2): 2 s of 100 µs
// requests (health checks, 304s, 429s) teach the limiter a no-load latency
// that 20 ms requests can never meet; then 1,000 req/s of 20 ms requests,
// which the 40-slot backend serves easily, must not be shed once the
// limiter has re-measured (the last 5 s here). Before, the limit stayed at
// 4 and most requests were shed for good.
func TestAdaptiveRecoversFromFastQuietPeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := shed.NewAdaptive()
		b := newBackend(40)
		var quiet, warm, n tally
		offer(500, 2*time.Second, direct(a, b, 100*time.Microsecond, &quiet))
		offer(1000, 5*time.Second, direct(a, b, 20*time.Millisecond, &warm))
		offer(1000, 5*time.Second, direct(a, b, 20*time.Millisecond, &n))
		s := a.Stats()
		t.Logf("while re-measuring: %d of %d shed; then %d of %d; Stats %+v",
			warm.shed.Load(), warm.shed.Load()+warm.served.Load(), n.shed.Load(), n.shed.Load()+n.served.Load(), s)
		if n.shed.Load() > 50 || s.MinLatency < 10*time.Millisecond {
			t.Fatalf("after the quiet period: %d of 5000 shed, no-load latency %v; want the 20 ms requests served",
				n.shed.Load(), s.MinLatency)
		}
	})
}

// TestAdaptiveNoGrowthWhileIdle: requests one at a time for a minute never
// use half the limit, so the limit does not grow (Netflix #134: a limit
// that grows while idle admits a flood when load returns).
func TestAdaptiveNoGrowthWhileIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := shed.NewAdaptive(shed.Limits(10, 2, 1000))
		b := newBackend(4)
		var n tally
		for range 6000 { // one every 10 ms, each 5 ms: at most 1 in flight
			direct(a, b, 5*time.Millisecond, &n)()
			time.Sleep(5 * time.Millisecond)
		}
		if s := a.Stats(); s.Limit != 10 || n.shed.Load() != 0 {
			t.Fatalf("after a minute of one request at a time: Stats = %+v, want the limit still 10", s)
		}
	})
}

// TestAdaptiveClamps: the limit stays within Limits' min and max, and
// reaches each: pushed up by a load a big backend absorbs, pushed down by
// one that overloads a 1-slot backend.
func TestAdaptiveClamps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := shed.NewAdaptive(shed.Limits(4, 3, 6))
		lo, hi := 1000, 0
		watch := func(stop <-chan struct{}, done chan<- struct{}) {
			defer close(done)
			for {
				l := a.Stats().Limit
				lo, hi = min(lo, l), max(hi, l)
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}
		phase := func(b *backend, rate int) {
			stop, done := make(chan struct{}), make(chan struct{})
			go watch(stop, done)
			var n tally
			offer(rate, 5*time.Second, direct(a, b, 10*time.Millisecond, &n))
			close(stop)
			<-done
		}
		phase(newBackend(100), 2000) // 20 in flight wanted: capped at 6
		if hi != 6 || lo < 3 {
			t.Fatalf("under a load wanting 20 slots: limit ranged %d..%d, want up to exactly 6", lo, hi)
		}
		lo, hi = 1000, 0
		phase(newBackend(1), 2000) // 1 slot: latency grows with the limit
		if lo != 3 || hi > 6 {
			t.Fatalf("overloading a 1-slot backend: limit ranged %d..%d, want down to exactly 3", lo, hi)
		}
	})
}
