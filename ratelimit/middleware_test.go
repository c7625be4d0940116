package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

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

// decidingLimiter returns a fixed decision and error, as a remote limiter
// with a failure policy does when its dependency is down.
type decidingLimiter struct {
	d   ratelimit.Decision
	err error
}

func (f decidingLimiter) Check(context.Context, string) (ratelimit.Decision, error) {
	return f.d, f.err
}

// errSecret quotes what must never reach a client: a key (an API token) and
// an internal address.
var errSecret = errors.New(`redisrate: deciding for "tok-SECRET": dial tcp 10.9.8.7:6379: connection refused`)

// TestMiddlewareHonoursPolicyDecision (issue 19, defect 1): the decision a
// limiter returns with its error decides the request; the error goes to
// OnError, which only observes.
func TestMiddlewareHonoursPolicyDecision(t *testing.T) {
	for _, tc := range []struct {
		name       string
		d          ratelimit.Decision
		status     int
		retryAfter string
	}{
		{"fail-open", ratelimit.Decision{Allowed: true}, 200, ""},
		{"fallback-local-refuses", ratelimit.Decision{RetryAfter: 1500 * time.Millisecond}, 429, "2"},
		{"fail-closed", ratelimit.Decision{}, 503, "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen []error
			h := ratelimit.Middleware(decidingLimiter{tc.d, errSecret}, okHandler, ratelimit.OnError(func(err error) { seen = append(seen, err) }))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			if rec.Code != tc.status || rec.Header().Get("Retry-After") != tc.retryAfter {
				t.Fatalf("status %d, Retry-After %q; want %d, %q", rec.Code, rec.Header().Get("Retry-After"), tc.status, tc.retryAfter)
			}
			if len(seen) != 1 || !errors.Is(seen[0], errSecret) {
				t.Fatalf("OnError saw %v, want the limiter's error once", seen)
			}
			if rec.Header().Get("RateLimit") != "" {
				t.Fatal("RateLimit fields sent for a decision made without the limiter")
			}
		})
	}
}

// TestMiddlewareKeepsErrorsOutOfBodies (issue 19, defect 2): neither the
// limiter's error (key, Redis address) nor a KeyFunc's reaches the client.
func TestMiddlewareKeepsErrorsOutOfBodies(t *testing.T) {
	var seen int
	hook := ratelimit.OnError(func(error) { seen++ })
	for _, h := range []http.Handler{
		ratelimit.Middleware(decidingLimiter{ratelimit.Decision{}, errSecret}, okHandler, hook),
		ratelimit.Middleware(ratelimit.NewKeyed[string](1, 1), okHandler, hook,
			ratelimit.KeyFunc(func(r *http.Request) (string, error) { return "", errSecret })),
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if body := rec.Body.String(); strings.Contains(body, "SECRET") || strings.Contains(body, "10.9.8.7") || rec.Code == 200 {
			t.Fatalf("status %d, body %q: the error reached the client", rec.Code, body)
		}
	}
	if seen != 2 {
		t.Fatalf("OnError saw %d errors, want 2", seen)
	}
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })

// keyOf returns the key the default KeyFunc gives a request.
func keyOf(t testing.TB, remoteAddr string, xff []string, opts ...ratelimit.MiddlewareOption) string {
	t.Helper()
	var key string
	rec := recordingLimiter(func(k string) { key = k })
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = remoteAddr
	for _, v := range xff {
		req.Header.Add("X-Forwarded-For", v)
	}
	w := httptest.NewRecorder()
	ratelimit.Middleware(rec, okHandler, opts...).ServeHTTP(w, req)
	if w.Code != 200 {
		return fmt.Sprintf("status %d", w.Code)
	}
	return key
}

type recordingLimiter func(string)

func (f recordingLimiter) Check(_ context.Context, key string) (ratelimit.Decision, error) {
	f(key)
	return ratelimit.Decision{Allowed: true}, nil
}

// TestMiddlewareKeysIPv6ByPrefix (issue 19, defect 3): one /64 is one
// client by default; IPv6Prefix changes the length; IPv4 is by address.
func TestMiddlewareKeysIPv6ByPrefix(t *testing.T) {
	k := ratelimit.NewKeyed[string](rate.Every(time.Hour), 1)
	h := ratelimit.Middleware(k, okHandler)
	allowed := 0
	for i := range 100 {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = fmt.Sprintf("[2001:db8:1:2::%x]:443", i+1)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == 200 {
			allowed++
		}
	}
	if allowed != 1 {
		t.Fatalf("100 requests from one /64 at 1 per hour: %d allowed, want 1", allowed)
	}
	for _, tc := range []struct {
		remote string
		opts   []ratelimit.MiddlewareOption
		want   string
	}{
		{"[2001:db8:1:2:aaaa::1]:1", nil, "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:aaaa::1]:1", []ratelimit.MiddlewareOption{ratelimit.IPv6Prefix(48)}, "2001:db8:1::/48"},
		{"[2001:db8:1:2:aaaa::1]:1", []ratelimit.MiddlewareOption{ratelimit.IPv6Prefix(128)}, "2001:db8:1:2:aaaa::1/128"},
		{"[2001:db8:1:2:aaaa::1]:1", []ratelimit.MiddlewareOption{ratelimit.IPv6Prefix(1)}, "::/1"}, // 1 and 128 are the bounds
		{"[fe80::1%eth0]:1", nil, "fe80::/64"},
		{"[::ffff:192.0.2.1]:1", nil, "192.0.2.1"},
		{"192.0.2.1:1", nil, "192.0.2.1"},
		{"192.0.2.1", nil, "192.0.2.1"},
	} {
		if got := keyOf(t, tc.remote, nil, tc.opts...); got != tc.want {
			t.Errorf("key of %s = %q, want %q", tc.remote, got, tc.want)
		}
	}
}

// TestMiddlewareUnixSocket (issue 19, defect 4): on a Unix-domain listener
// requests share one key, or behind a trusted proxy the forwarded client's.
func TestMiddlewareUnixSocket(t *testing.T) {
	for _, remote := range []string{"", "@", "/run/app.sock"} {
		if got := keyOf(t, remote, nil); got != "unix" {
			t.Errorf("key with RemoteAddr %q = %q, want \"unix\"", remote, got)
		}
		if got := keyOf(t, remote, []string{"203.0.113.5"}, ratelimit.TrustedProxies(netip.MustParsePrefix("10.0.0.0/8"))); got != "203.0.113.5" {
			t.Errorf("key with RemoteAddr %q behind a proxy = %q, want the forwarded client", remote, got)
		}
	}
	// Over a real Unix-domain socket.
	sock := filepath.Join(t.TempDir(), "s")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Skip("no Unix-domain sockets:", err)
	}
	srv := &http.Server{Handler: ratelimit.Middleware(ratelimit.NewKeyed[string](rate.Every(time.Hour), 1), okHandler)}
	go srv.Serve(ln)
	defer srv.Close()
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}
	defer tr.CloseIdleConnections()
	var codes []int
	for range 2 {
		resp, err := (&http.Client{Transport: tr}).Get("http://unix/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
	}
	if codes[0] != 200 || codes[1] != 429 {
		t.Fatalf("two requests over a Unix socket at 1 per hour: %v, want [200 429]", codes)
	}
}

// TestMiddlewareForwardedForHops (issue 19, defect 5): hops with a port
// are parsed, and a hop with no address never falls back to the proxy's.
func TestMiddlewareForwardedForHops(t *testing.T) {
	lb := ratelimit.TrustedProxies(netip.MustParsePrefix("10.0.0.0/8"))
	for _, tc := range []struct {
		xff  []string
		want string
	}{
		{[]string{"198.51.100.7:5555, 10.1.2.3:80"}, "198.51.100.7"},
		{[]string{"[2001:db8::7]:443"}, "2001:db8::/64"},
		{[]string{"[2001:db8::7]"}, "2001:db8::/64"},
		{[]string{"192.0.2.1, 198.51.100.7", "10.1.1.1"}, "198.51.100.7"},
		{[]string{"198.51.100.7,,10.1.1.1, "}, "198.51.100.7"},
		{[]string{"unknown"}, "unknown"},
		{[]string{"198.51.100.7, unknown, 10.1.1.1"}, "unknown"},
		{[]string{"_hidden, 10.1.1.1"}, "unknown"},
		{[]string{"10.1.1.1"}, "10.1.1.1"}, // every hop trusted: the leftmost
		{nil, "10.0.0.1"},
	} {
		if got := keyOf(t, "10.0.0.1:4000", tc.xff, lb); got != tc.want {
			t.Errorf("X-Forwarded-For %q: key %q, want %q", tc.xff, got, tc.want)
		}
	}
}

func TestIPv6PrefixRejectsBadValues(t *testing.T) {
	for _, bits := range []int{0, -1, 129} {
		func() {
			defer func() {
				if msg, _ := recover().(string); !strings.HasPrefix(msg, "ratelimit: IPv6Prefix(") {
					t.Errorf("IPv6Prefix(%d) panicked with %q", bits, msg)
				}
			}()
			ratelimit.IPv6Prefix(bits)
		}()
	}
}
