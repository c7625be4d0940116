package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"time"

	"golang.org/x/time/rate"

	"github.com/breakeven-go/breakeven/ratelimit"
)

func ExampleNew() {
	// One limiter for the whole process, at the scope of what it protects.
	l := ratelimit.New(100, 3) // 100 events/s, bursts of 3
	admitted := 0
	for range 10 {
		if l.Allow() {
			admitted++
		}
	}
	fmt.Println(admitted)
	// Output: 3
}

func ExampleLimiter_Wait() {
	l := ratelimit.New(rate.Every(time.Hour), 1)
	l.Allow() // spend the only token
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := l.Wait(ctx) // the next token is an hour away: fail now, not in a second
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	// Output: true
}

func ExampleNewKeyed() {
	perClient := ratelimit.NewKeyed[string](1, 2)
	fmt.Println(perClient.Allow("alice"), perClient.Allow("alice"), perClient.Allow("alice"), perClient.Allow("bob"))
	// Output: true true false true
}

func ExampleOverride() {
	k := ratelimit.NewKeyed[string](1, 1, ratelimit.Override("partner", 100, 50))
	fmt.Println(k.Decide("partner").Limit, k.Decide("anyone").Limit)
	// Output: 50 1
}

func ExampleMiddleware() {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	srv := httptest.NewServer(ratelimit.Middleware(ratelimit.NewKeyed[string](rate.Every(time.Minute), 1), api))
	defer srv.Close()
	for range 2 {
		resp, err := http.Get(srv.URL)
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("RateLimit-Policy"))
	}
	// Output:
	// 200  "default";q=1;w=60
	// 429 60 "default";q=1;w=60
}

func ExampleNewCombined() {
	// At most 100 calls per second to the payment API, and 10 at once.
	payments := ratelimit.NewCombined(100, 10, 10)
	if err := payments.Acquire(context.Background()); err == nil {
		defer payments.Release()
		fmt.Println("calling")
	}
	// Output: calling
}

func ExampleLimiter_Reserve() {
	l := ratelimit.New(10, 1)
	l.Reserve()      // now
	r := l.Reserve() // the next slot, 100ms later
	fmt.Println(r.OK(), r.Delay() > 0)
	r.Cancel() // not going to happen after all: give it back
	// Output: true true
}

func ExampleMaxKeys() {
	// A bound of one key, to show eviction: each new client pushes out the
	// previous one, whose bucket was not yet full again (an active key),
	// so it could burst again. Size MaxKeys well above the clients active
	// within burst/r, and watch EvictedActive.
	k := ratelimit.NewKeyed[string](1, 1, ratelimit.MaxKeys(1))
	for _, client := range []string{"a", "b", "c"} {
		k.Allow(client)
	}
	st := k.Stats()
	fmt.Println("keys:", st.Keys, "evicted:", st.Evicted, "of them active:", st.EvictedActive)
	// Output: keys: 1 evicted: 2 of them active: 2
}

func ExampleKeyFunc() {
	limiter := ratelimit.NewKeyed[string](1, 1)
	byToken := ratelimit.KeyFunc(func(r *http.Request) (string, error) {
		if t := r.Header.Get("X-Api-Token"); t != "" {
			return t, nil
		}
		return "", errors.New("missing X-Api-Token")
	})
	h := ratelimit.Middleware(limiter, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "ok")
	}), byToken)
	for _, token := range []string{"t1", "t1", "t2", ""} {
		req := httptest.NewRequest("GET", "/", nil)
		if token != "" {
			req.Header.Set("X-Api-Token", token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(token, rec.Code)
	}
	// Output:
	// t1 200
	// t1 429
	// t2 200
	//  400
}

func ExampleTrustedProxies() {
	limiter := ratelimit.NewKeyed[string](1, 1)
	// Requests arrive through a load balancer at 10.0.0.1: trust its
	// X-Forwarded-For, so each client is limited, not the balancer.
	lb := ratelimit.TrustedProxies(netip.MustParsePrefix("10.0.0.0/8"))
	h := ratelimit.Middleware(limiter, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), lb)
	for _, client := range []string{"203.0.113.7", "203.0.113.7", "198.51.100.2"} {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = "10.0.0.1:4242"
		req.Header.Set("X-Forwarded-For", client)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(client, rec.Code)
	}
	// Output:
	// 203.0.113.7 200
	// 203.0.113.7 429
	// 198.51.100.2 200
}

func ExampleExempt() {
	limiter := ratelimit.NewKeyed[string](1, 1)
	health := ratelimit.Exempt(func(r *http.Request) bool { return r.URL.Path == "/healthz" })
	h := ratelimit.Middleware(limiter, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), health)
	for _, path := range []string{"/healthz", "/healthz", "/api", "/api"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		fmt.Println(path, rec.Code)
	}
	// Output:
	// /healthz 200
	// /healthz 200
	// /api 200
	// /api 429
}

// unavailable is a KeyLimiter whose backend is down and whose failure
// policy admits (fail open), as redisrate's FailOpen does.
type unavailable struct{}

func (unavailable) Check(context.Context, string) (ratelimit.Decision, error) {
	return ratelimit.Decision{Allowed: true}, errors.New("redisrate: dial tcp 10.0.0.5:6379: connection refused")
}

func ExampleOnError() {
	// The limiter's policy decides what the request gets (here: through);
	// OnError only sees the error, for logs and metrics. The client never
	// sees it.
	logged := 0
	h := ratelimit.Middleware(unavailable{}, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "ok")
	}), ratelimit.OnError(func(err error) { logged++ }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Println(rec.Code, rec.Body.String(), "errors logged:", logged)
	// Output: 200 ok errors logged: 1
}

func ExampleIPv6Prefix() {
	// By default one IPv6 /64 is one client; here a /48 is.
	limiter := ratelimit.NewKeyed[string](rate.Every(time.Hour), 1)
	h := ratelimit.Middleware(limiter, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), ratelimit.IPv6Prefix(48))
	for _, addr := range []string{"[2001:db8:1:1::1]:443", "[2001:db8:1:2::1]:443", "[2001:db8:2::1]:443"} {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = addr
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(addr, rec.Code)
	}
	// Output:
	// [2001:db8:1:1::1]:443 200
	// [2001:db8:1:2::1]:443 429
	// [2001:db8:2::1]:443 200
}

func ExampleLimiter_SetLimit() {
	l := ratelimit.New(10, 5)
	// A limit reloaded from config: a bad value is refused and the limiter
	// keeps running at the old one.
	if err := l.SetLimit(-1); err != nil {
		fmt.Println(err)
	}
	fmt.Println(l.Limit())
	if err := l.SetLimit(100); err == nil {
		fmt.Println(l.Limit(), l.Tokens()) // the tokens it had are kept
	}
	// Output:
	// ratelimit: SetLimit(-1): rate must be >= 0 (or rate.Inf)
	// 10
	// 100 5
}

func ExampleLimiter_SetBurst() {
	l := ratelimit.New(1, 2)
	l.AllowN(2) // the bucket is empty
	if err := l.SetBurst(100); err == nil {
		fmt.Println(l.Burst(), l.Tokens()) // a larger burst does not refill it
	}
	// Output: 100 0
}

func ExampleKeyed_Wait() {
	k := ratelimit.NewKeyed[string](rate.Every(time.Hour), 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	fmt.Println(k.Wait(ctx, "job-1"))
	err := k.Wait(ctx, "job-1") // an hour away: fail now, not in a second
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	// Output:
	// <nil>
	// true
}
