package ratelimit_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"testing"

	"golang.org/x/time/rate"

	"github.com/breakeven-go/breakeven/ratelimit"
)

// serve starts the middleware over real HTTP on loopback.
func serve(t *testing.T, l ratelimit.KeyLimiter, opts ...ratelimit.MiddlewareOption) *httptest.Server {
	t.Helper()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	srv := httptest.NewServer(ratelimit.Middleware(l, ok, opts...))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestMiddlewareRefusesWith429AndHeaders(t *testing.T) {
	srv := serve(t, ratelimit.NewKeyed[string](rate.Every(10_000_000_000), 2)) // 1 per 10 s, burst 2
	for i := range 2 {
		resp := get(t, srv.URL)
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: status %d, want 200", i, resp.StatusCode)
		}
		if got := resp.Header.Get("RateLimit-Policy"); got != `"default";q=2;w=20` {
			t.Fatalf("RateLimit-Policy = %q", got)
		}
		wantRemaining := strconv.Itoa(1 - i)
		if got := resp.Header.Get("RateLimit"); got != `"default";r=`+wantRemaining+`;t=`+strconv.Itoa(10*(i+1)) {
			t.Fatalf("request %d: RateLimit = %q", i, got)
		}
	}
	resp := get(t, srv.URL)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third request: status %d, want 429", resp.StatusCode)
	}
	if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 9 || ra > 10 {
		t.Fatalf("Retry-After = %q, want about 10 seconds", resp.Header.Get("Retry-After"))
	}
	if got := resp.Header.Get("RateLimit"); got != `"default";r=0;t=20` {
		t.Fatalf("RateLimit on the 429 = %q", got)
	}
}

func TestMiddlewareOmitHeadersAndExempt(t *testing.T) {
	srv := serve(t, ratelimit.NewKeyed[string](rate.Every(1e10), 1),
		ratelimit.OmitHeaders(),
		ratelimit.Exempt(func(r *http.Request) bool { return r.URL.Path == "/healthz" }))
	if resp := get(t, srv.URL); resp.Header.Get("RateLimit") != "" || resp.Header.Get("RateLimit-Policy") != "" {
		t.Fatal("OmitHeaders still sent RateLimit fields")
	}
	for range 5 {
		if resp := get(t, srv.URL+"/healthz"); resp.StatusCode != 200 {
			t.Fatalf("exempt path got %d", resp.StatusCode)
		}
	}
	if resp := get(t, srv.URL); resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("second limited request: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// TestMiddlewareIgnoresSpoofedForwardedFor: without trusted proxies every
// loopback request shares 127.0.0.1's quota, whatever X-Forwarded-For says.
func TestMiddlewareIgnoresSpoofedForwardedFor(t *testing.T) {
	srv := serve(t, ratelimit.NewKeyed[string](rate.Every(1e10), 1))
	get(t, srv.URL, "X-Forwarded-For", "203.0.113.1")
	if resp := get(t, srv.URL, "X-Forwarded-For", "203.0.113.2"); resp.StatusCode != 429 {
		t.Fatalf("a new X-Forwarded-For bought a fresh quota: status %d", resp.StatusCode)
	}
}

// TestMiddlewareTrustedProxies: behind a trusted proxy (loopback here) the
// client is the rightmost untrusted X-Forwarded-For hop.
func TestMiddlewareTrustedProxies(t *testing.T) {
	k := ratelimit.NewKeyed[string](rate.Every(1e10), 1)
	srv := serve(t, k, ratelimit.TrustedProxies(netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")))
	if resp := get(t, srv.URL, "X-Forwarded-For", "198.51.100.7, 10.1.2.3"); resp.StatusCode != 200 {
		t.Fatalf("first request from 198.51.100.7: %d", resp.StatusCode)
	}
	if resp := get(t, srv.URL, "X-Forwarded-For", "203.0.113.9"); resp.StatusCode != 200 {
		t.Fatalf("another client behind the proxy shared the quota: %d", resp.StatusCode)
	}
	// A client prepending a fake hop does not escape its own quota.
	if resp := get(t, srv.URL, "X-Forwarded-For", "192.0.2.1, 198.51.100.7"); resp.StatusCode != 429 {
		t.Fatalf("spoofed leftmost hop escaped the limit: %d", resp.StatusCode)
	}
	if d := k.Decide("198.51.100.7"); d.Allowed {
		t.Fatal("the client's quota was not charged under its own IP")
	}
}

type failingLimiter struct{}

func (failingLimiter) Check(context.Context, string) (ratelimit.Decision, error) {
	return ratelimit.Decision{}, errors.New("redis down")
}

func TestMiddlewareLimiterError(t *testing.T) {
	srv := serve(t, failingLimiter{})
	if resp := get(t, srv.URL); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("limiter error: status %d, want 503", resp.StatusCode)
	}
	open := serve(t, failingLimiter{}, ratelimit.OnLimiterError(func(w http.ResponseWriter, r *http.Request, next http.Handler, err error) {
		next.ServeHTTP(w, r) // fail open
	}))
	if resp := get(t, open.URL); resp.StatusCode != 200 {
		t.Fatalf("fail-open handler: status %d", resp.StatusCode)
	}
}
