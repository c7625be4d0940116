package redisrate_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
	"golang.org/x/time/rate"

	"github.com/breakeven-go/breakeven/ratelimit"
	"github.com/breakeven-go/breakeven/ratelimit/redisrate"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestFleetWideLimit: 4 independent clients (4 "instances") x 8 goroutines
// hammer one key at 500/s burst 20 for 2 s; together they get at most
// 500 x 2 + 20 admissions, with no errors. (How many they get at least
// depends on the machine's speed, so that is checked by
// TestFleetWideExact instead.)
func TestFleetWideLimit(t *testing.T) {
	srv := startRedis(t)
	var admitted, errs atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(2 * time.Second)
	for range 4 {
		l := redisrate.New(srv.client(t), 500, 20, redisrate.Timeout(5*time.Second))
		for range 8 {
			wg.Go(func() {
				for time.Now().Before(deadline) {
					ok, err := l.Allow(context.Background(), "shared-key")
					if err != nil {
						errs.Add(1)
						continue
					}
					if ok && time.Now().Before(deadline) { // decided within the window
						admitted.Add(1)
					}
				}
			})
		}
	}
	wg.Wait()
	if n := admitted.Load(); n > 1020 || errs.Load() != 0 {
		t.Fatalf("admitted %d (errors %d) in 2s at 500/s burst 20 across 4 clients, want at most 1020 and no errors", n, errs.Load())
	}
}

// TestFleetWideExact: 4 clients x 8 goroutines race for a burst of 300 that
// does not refill within the test (one event an hour): together they get
// exactly 300, however fast the machine is.
func TestFleetWideExact(t *testing.T) {
	srv := startRedis(t)
	var admitted, errs atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		l := redisrate.New(srv.client(t), rate.Every(time.Hour), 300, redisrate.Timeout(5*time.Second))
		for range 8 {
			wg.Go(func() {
				for range 60 {
					ok, err := l.Allow(context.Background(), "shared-key")
					if err != nil {
						errs.Add(1)
					} else if ok {
						admitted.Add(1)
					}
				}
			})
		}
	}
	wg.Wait()
	if n := admitted.Load(); n != 300 || errs.Load() != 0 {
		t.Fatalf("admitted %d (errors %d) of a burst of 300 across 4 clients, want exactly 300 and no errors", n, errs.Load())
	}
}

func TestResultAndExpiry(t *testing.T) {
	srv := startRedis(t)
	c := srv.client(t)
	l := redisrate.New(c, 10, 3, redisrate.Prefix("test:"), redisrate.Timeout(2*time.Second))
	ctx := context.Background()
	for i := range 3 {
		res, err := l.AllowN(ctx, "k", 1)
		if err != nil || !res.Allowed || res.Remaining != 2-i {
			t.Fatalf("event %d: %+v, %v", i, res, err)
		}
	}
	res, err := l.AllowN(ctx, "k", 1)
	if err != nil || res.Allowed || res.RetryAfter <= 0 || res.RetryAfter > 100*time.Millisecond {
		t.Fatalf("4th event: %+v, %v; want refused with RetryAfter up to 100ms", res, err)
	}
	ttl, err := c.PTTL(ctx, "test:{k}").Result()
	if err != nil || ttl <= 0 || ttl > 300*time.Millisecond {
		t.Fatalf("key TTL = %v, %v; want it to expire when the bucket is full (<= 300ms)", ttl, err)
	}
	if _, err := l.AllowN(ctx, "k", 4); err == nil {
		t.Fatal("AllowN above the burst did not fail")
	}
}

// TestRedisDownFollowsPolicyAndRecovers kills redis-server mid-test: every
// call returns promptly with its error and the policy's answer, and once a
// server is back the limit applies again.
func TestRedisDownFollowsPolicyAndRecovers(t *testing.T) {
	srv := startRedis(t)
	var hooked atomic.Int64
	mk := func(p redisrate.FailurePolicy) *redisrate.Limiter {
		return redisrate.New(srv.client(t), 1, 1, redisrate.Failure(p), redisrate.LocalShare(1),
			redisrate.Timeout(200*time.Millisecond), redisrate.OnError(func(error) { hooked.Add(1) }))
	}
	closed, open, local := mk(redisrate.FailClosed), mk(redisrate.FailOpen), mk(redisrate.FallbackLocal)
	ctx := context.Background()
	if ok, err := closed.Allow(ctx, "a"); !ok || err != nil {
		t.Fatalf("with Redis up: %v, %v", ok, err)
	}
	srv.stop()
	for _, tc := range []struct {
		name string
		l    *redisrate.Limiter
		want []bool
	}{
		{"fail-closed", closed, []bool{false, false}},
		{"fail-open", open, []bool{true, true}},
		{"fallback-local", local, []bool{true, false}}, // 1/s burst 1, decided locally
	} {
		for i, want := range tc.want {
			start := time.Now()
			ok, err := tc.l.Allow(ctx, "b")
			if took := time.Since(start); took > 2*time.Second {
				t.Fatalf("%s: Allow hung for %v with Redis down", tc.name, took)
			}
			if err == nil || ok != want {
				t.Fatalf("%s call %d with Redis down: %v, %v; want %v and an error", tc.name, i, ok, err, want)
			}
		}
	}
	if hooked.Load() != 6 {
		t.Fatalf("OnError saw %d errors, want 6", hooked.Load())
	}
	srv.start() // same port, empty state
	waitUp := time.Now().Add(5 * time.Second)
	for {
		ok, err := closed.Allow(ctx, "c")
		if err == nil {
			if !ok {
				t.Fatal("first event on a fresh key refused")
			}
			break
		}
		if time.Now().After(waitUp) {
			t.Fatalf("limiting did not resume after Redis came back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ok, err := closed.Allow(ctx, "c"); ok || err != nil {
		t.Fatalf("second event at 1/s burst 1 after recovery: %v, %v; want refused", ok, err)
	}
}

func TestCallerContextBoundsTheCall(t *testing.T) {
	srv := startRedis(t)
	l := redisrate.New(srv.client(t), 1, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Allow(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Allow with a cancelled ctx: %v, want context.Canceled", err)
	}
}

// TestMiddleware: the Redis limiter plugs into ratelimit.Middleware over
// real HTTP, with the same headers as the in-process one.
func TestMiddleware(t *testing.T) {
	srv := startRedis(t)
	l := redisrate.New(srv.client(t), 1, 1, redisrate.Timeout(2*time.Second))
	h := ratelimit.Middleware(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	hs := httptest.NewServer(h)
	defer hs.Close()
	var codes []int
	for range 2 {
		resp, err := http.Get(hs.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
		if resp.Header.Get("RateLimit-Policy") != `"default";q=1;w=1` {
			t.Fatalf("RateLimit-Policy = %q", resp.Header.Get("RateLimit-Policy"))
		}
	}
	if codes[0] != 200 || codes[1] != 429 {
		t.Fatalf("status codes %v, want [200 429]", codes)
	}
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
}

// BenchmarkAllow measures decisions per second against a real redis-server
// on loopback (impl=redis) beside the in-process ratelimit.Keyed it stands
// in for across a fleet (impl=local, the baseline): one caller at a time,
// and GOMAXPROCS x 16 callers sharing a client (its pool pipelines them
// over several connections).
//
//	go test -run '^$' -bench Allow -count 6 . | benchstat -col /impl -
func BenchmarkAllow(b *testing.B) {
	srv := startRedis(b)
	ctx := context.Background()
	impls := []struct {
		name string
		l    ratelimit.KeyLimiter
	}{
		{"local", ratelimit.NewKeyed[string](1e6, 1000)},
		{"redis", redisrate.New(srv.client(b), 1e6, 1000)},
	}
	for _, callers := range []struct {
		name        string
		parallelism int // 0: one caller
	}{{"callers=1", 0}, {"callers=16xP", 16}} {
		b.Run(callers.name, func(b *testing.B) {
			for _, im := range impls {
				b.Run("impl="+im.name, func(b *testing.B) {
					if callers.parallelism == 0 {
						for range b.N {
							if _, err := im.l.Check(ctx, "bench"); err != nil {
								b.Fatal(err)
							}
						}
					} else {
						b.SetParallelism(callers.parallelism)
						b.RunParallel(func(pb *testing.PB) {
							for pb.Next() {
								if _, err := im.l.Check(ctx, "bench"); err != nil {
									b.Error(err)
									return
								}
							}
						})
					}
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
				})
			}
		})
	}
}

// TestRatesHoldWithinOnePercent (issue 19, defect 12): the script charges
// each event its exact interval, to the nanosecond, also when the interval
// is not a whole number of microseconds (700,000/s is 1428.57 ns; whole
// microseconds made it 1,000,000/s). One call of n events on a fresh key
// owes n intervals: ResetAfter says so, whatever the clock does.
func TestRatesHoldWithinOnePercent(t *testing.T) {
	srv := startRedis(t)
	c := srv.client(t)
	ctx := context.Background()
	for _, r := range []rate.Limit{700_000, 333_333, 1e6 / 7, 3, 0.7} {
		const burst, n = 1000, 700
		l := redisrate.New(c, r, burst, redisrate.Prefix(fmt.Sprintf("rate%v:", r)), redisrate.Timeout(2*time.Second))
		d, err := l.AllowN(ctx, "k", n)
		if err != nil || !d.Allowed {
			t.Fatalf("%v/s: AllowN(%d) on a fresh key: %+v, %v", r, n, d, err)
		}
		want := float64(n) / float64(r) * 1e9
		if got := float64(d.ResetAfter); math.Abs(got-want) > want/100 {
			t.Errorf("%v/s: %d events owe %v, want %v within 1%%", r, n, d.ResetAfter, time.Duration(want))
		}
		if d.Remaining != burst-n || d.Limit != burst {
			t.Errorf("%v/s: Remaining %d, Limit %d; want %d, %d", r, d.Remaining, d.Limit, burst-n, burst)
		}
	}
}

func TestNewRejectsBadQuotas(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	defer c.Close()
	for name, f := range map[string]func(){
		"rate 0":           func() { redisrate.New(c, 0, 1) },
		"rate above 1e6":   func() { redisrate.New(c, 2e6, 1) },
		"burst 0":          func() { redisrate.New(c, 1, 0) },
		"interval x burst": func() { redisrate.New(c, rate.Every(time.Hour), 1<<30) },
		"unknown policy":   func() { redisrate.Failure(7) },
		"LocalShare(0)":    func() { redisrate.LocalShare(0) },
		"Timeout(0)":       func() { redisrate.Timeout(0) },
		"New(nil client)":  func() { redisrate.New(nil, 1, 1) },
	} {
		func() {
			defer func() {
				if msg, _ := recover().(string); !strings.HasPrefix(msg, "redisrate: ") {
					t.Errorf("%s: panicked with %q, want a redisrate: message", name, msg)
				}
			}()
			f()
		}()
	}
	l := redisrate.New(c, 1, 1)
	if _, err := l.NewQuota(-1, 1); err == nil || !strings.HasPrefix(err.Error(), "redisrate: ") {
		t.Errorf("NewQuota(-1, 1) = %v", err)
	}
}

// TestReset: a spent key is full again after Reset.
func TestReset(t *testing.T) {
	srv := startRedis(t)
	l := redisrate.New(srv.client(t), rate.Every(time.Hour), 1, redisrate.Timeout(2*time.Second))
	ctx := context.Background()
	if ok, err := l.Allow(ctx, "k"); !ok || err != nil {
		t.Fatalf("first event: %v, %v", ok, err)
	}
	if ok, _ := l.Allow(ctx, "k"); ok {
		t.Fatal("second event at 1/hour admitted")
	}
	if err := l.Reset(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if ok, err := l.Allow(ctx, "k"); !ok || err != nil {
		t.Fatalf("after Reset: %v, %v; want admitted", ok, err)
	}
	srv.stop()
	if err := l.Reset(ctx, "k"); err == nil || !strings.HasPrefix(err.Error(), "redisrate: ") {
		t.Fatalf("Reset with Redis down: %v", err)
	}
}

// TestQuotasPerPlan: one Limiter, two plans, each key held to its own
// plan's burst.
func TestQuotasPerPlan(t *testing.T) {
	srv := startRedis(t)
	l := redisrate.New(srv.client(t), rate.Every(time.Hour), 1, redisrate.Timeout(2*time.Second))
	pro, err := l.NewQuota(rate.Every(time.Hour), 5)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	count := func(allow func() (ratelimit.Decision, error)) int {
		n := 0
		for range 10 {
			if d, err := allow(); err != nil {
				t.Fatal(err)
			} else if d.Allowed {
				n++
			}
		}
		return n
	}
	free := count(func() (ratelimit.Decision, error) { return l.AllowN(ctx, "free-client", 1) })
	paid := count(func() (ratelimit.Decision, error) { return pro.AllowN(ctx, "pro-client", 1) })
	if free != 1 || paid != 5 {
		t.Fatalf("admitted %d on the default plan (burst 1) and %d on pro (burst 5)", free, paid)
	}
}

// TestMiddlewareRedisRestartEachPolicy (issue 19): behind
// ratelimit.Middleware, Redis is killed and restarted mid-test; each
// failure policy decides what requests get while it is down (no error text
// in any body, every error seen by the hook), and limiting resumes once it
// is back.
func TestMiddlewareRedisRestartEachPolicy(t *testing.T) {
	srv := startRedis(t)
	for _, tc := range []struct {
		policy redisrate.FailurePolicy
		down   []int // status codes of 3 requests with Redis down
	}{
		{redisrate.FailClosed, []int{503, 503, 503}},
		{redisrate.FailOpen, []int{200, 200, 200}},
		{redisrate.FallbackLocal, []int{200, 200, 429}}, // burst 2 locally
	} {
		t.Run(fmt.Sprint(tc.policy), func(t *testing.T) {
			if srv.cmd == nil {
				srv.start()
			}
			var hooked atomic.Int64
			l := redisrate.New(srv.client(t), rate.Every(time.Hour), 2, redisrate.Failure(tc.policy),
				redisrate.Prefix(fmt.Sprintf("p%d:", tc.policy)), redisrate.Timeout(time.Second))
			h := ratelimit.Middleware(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }),
				ratelimit.OnError(func(error) { hooked.Add(1) }),
				ratelimit.KeyFunc(func(*http.Request) (string, error) { return "tok-SECRET", nil }))
			serve := func() (int, string) {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
				return rec.Code, rec.Body.String()
			}
			for i, want := range []int{200, 200, 429} {
				if code, _ := serve(); code != want {
					t.Fatalf("request %d with Redis up: %d, want %d", i, code, want)
				}
			}
			srv.stop()
			for i, want := range tc.down {
				code, body := serve()
				if code != want {
					t.Fatalf("request %d with Redis down: %d, want %d", i, code, want)
				}
				if strings.Contains(body, "SECRET") || strings.Contains(body, srv.addr()) || strings.Contains(body, "redisrate") {
					t.Fatalf("body %q leaks the key or the error", body)
				}
			}
			if n := hooked.Load(); n != int64(len(tc.down)) {
				t.Fatalf("OnError saw %d errors, want %d", n, len(tc.down))
			}
			srv.start() // same port, empty state: the key starts full again
			deadline := time.Now().Add(5 * time.Second)
			for {
				code, _ := serve()
				if code == 200 && hooked.Load() == int64(len(tc.down)) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("limiting did not resume within 5s after Redis came back (last status %d)", code)
				}
				hooked.Store(int64(len(tc.down)))
				time.Sleep(20 * time.Millisecond)
			}
			codes := []int{}
			for range 2 {
				code, _ := serve()
				codes = append(codes, code)
			}
			if codes[0] != 200 || codes[1] != 429 {
				t.Fatalf("after Redis came back: %v, want [200 429] (burst 2, one spent)", codes)
			}
		})
	}
}

// TestRedisSlowOrFullFollowsPolicy: a Redis that does not answer in time
// (CLIENT PAUSE) or refuses writes (maxmemory reached) is a failure like a
// dead one: the call returns within its Timeout with the error and the
// policy's decision.
func TestRedisSlowOrFullFollowsPolicy(t *testing.T) {
	srv := startRedis(t)
	admin := srv.client(t)
	ctx := context.Background()
	l := redisrate.New(srv.client(t), 1, 1, redisrate.Failure(redisrate.FailOpen), redisrate.Timeout(100*time.Millisecond))

	if err := admin.Do(ctx, "CLIENT", "PAUSE", "2000", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ok, err := l.Allow(ctx, "slow")
	if took := time.Since(start); !ok || err == nil || took > time.Second {
		t.Fatalf("with Redis paused: %v, %v after %v; want admitted (FailOpen) with an error within the timeout", ok, err, took)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("with Redis paused: error %v, want one matching context.DeadlineExceeded", err)
	}
	if err := admin.Do(ctx, "CLIENT", "UNPAUSE").Err(); err != nil {
		t.Fatal(err)
	}

	if err := admin.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
		t.Fatal(err)
	}
	closed := redisrate.New(srv.client(t), 1, 1, redisrate.Failure(redisrate.FailClosed))
	d, err := closed.AllowN(ctx, "full", 1)
	if err == nil || d.Allowed || !strings.Contains(err.Error(), "OOM") {
		t.Fatalf("with Redis full: %+v, %v; want refused (FailClosed) with the OOM error", d, err)
	}
}
