package ratelimit_test

import (
	"errors"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/breakeven-go/breakeven/ratelimit"
)

// FuzzClientKey feeds the default key function any RemoteAddr and
// X-Forwarded-For, with and without trusted proxies, and checks what the
// key can be: an IPv4 address, an IPv6 /64 prefix, "unix" or "unknown";
// never the client's text as it came. Without trusted proxies the header
// never changes the key.
func FuzzClientKey(f *testing.F) {
	for _, s := range [][2]string{
		{"192.0.2.1:1234", ""},
		{"[2001:db8::1]:443", "198.51.100.7"},
		{"[fe80::1%eth0]:80", "[2001:db8::2%25en0]:1, unknown"},
		{"10.0.0.1:80", "198.51.100.7:5555, 10.1.2.3"},
		{"10.0.0.1:80", "unknown, _obf, ,,"},
		{"", "203.0.113.5"},
		{"@", "[::ffff:10.1.1.1]:1"},
		{"/run/app.sock", "fd00::1"},
		{"[::1]", "garbage]:["},
		{"garbage", ""},
	} {
		f.Add(s[0], s[1], true)
		f.Add(s[0], s[1], false)
	}
	trusted := ratelimit.TrustedProxies(netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8"), netip.MustParsePrefix("::1/128"))
	f.Fuzz(func(t *testing.T, remote, xff string, trust bool) {
		var opts []ratelimit.MiddlewareOption
		if trust {
			opts = append(opts, trusted)
		}
		key := keyOf(t, remote, []string{xff}, opts...)
		if !trust {
			if without := keyOf(t, remote, nil); key != without {
				t.Fatalf("untrusted X-Forwarded-For %q changed the key from %q to %q", xff, without, key)
			}
		}
		switch {
		case key == "unix" || key == "unknown" || key == "status 400":
		default:
			if a, err := netip.ParseAddr(key); err == nil {
				if !a.Is4() {
					t.Fatalf("key %q: an IPv6 address, want its /64", key)
				}
			} else if p, err := netip.ParsePrefix(key); err != nil || p.Bits() != 64 || p.Addr().Is4() || p != p.Masked() {
				t.Fatalf("key %q (RemoteAddr %q, X-Forwarded-For %q) is neither an IPv4 address nor an IPv6 /64", key, remote, xff)
			}
		}
	})
}

var (
	policyField     = regexp.MustCompile(`^"default";q=[0-9]+;w=[0-9]+$`)
	rateLimitField  = regexp.MustCompile(`^"default";r=[0-9]+;t=[0-9]+$`)
	retryAfterField = regexp.MustCompile(`^[1-9][0-9]*$`)
)

// FuzzRateLimitHeaders feeds Middleware any decision a limiter could
// return (negative, huge, with an error) and checks the response: the
// status follows the decision, Retry-After on every refusal is a positive
// integer of seconds not below the decision's RetryAfter, the RateLimit
// fields are well formed, and no error text reaches the body.
func FuzzRateLimitHeaders(f *testing.F) {
	f.Add(true, 10, 5, int64(time.Second), int64(0), int64(time.Second), false)
	f.Add(false, 10, 0, int64(time.Second), int64(1500*time.Millisecond), int64(2*time.Second), false)
	f.Add(false, 0, 0, int64(0), int64(0), int64(0), true)
	f.Add(false, -3, -7, int64(-1), int64(-1), int64(-5), false)
	f.Add(false, 1, 0, int64(1<<63-1), int64(1<<63-1), int64(1<<63-1), false)
	f.Add(true, 1, 1, int64(-1<<63), int64(-1<<63), int64(-1<<63), true)
	f.Fuzz(func(t *testing.T, allowed bool, limit, remaining int, window, retry, reset int64, fail bool) {
		d := ratelimit.Decision{Allowed: allowed, Limit: limit, Remaining: remaining,
			Window: time.Duration(window), RetryAfter: time.Duration(retry), ResetAfter: time.Duration(reset)}
		var err error
		if fail {
			err = errors.New("SECRET")
		}
		rec := httptest.NewRecorder()
		ratelimit.Middleware(decidingLimiter{d, err}, okHandler).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		h := rec.Header()
		switch {
		case allowed && rec.Code != 200, !allowed && rec.Code != 429 && rec.Code != 503:
			t.Fatalf("decision %+v (error %v): status %d", d, err, rec.Code)
		case !allowed && rec.Code == 503 && !(fail && retry <= 0):
			t.Fatalf("decision %+v without a failure answered 503", d)
		case strings.Contains(rec.Body.String(), "SECRET"):
			t.Fatal("error text in the body")
		}
		if ra := h.Get("Retry-After"); allowed != (ra == "") || (!allowed && !retryAfterField.MatchString(ra)) {
			t.Fatalf("decision %+v: Retry-After %q", d, ra)
		}
		if p, r := h.Get("RateLimit-Policy"), h.Get("RateLimit"); p != "" || r != "" {
			if fail || limit <= 0 || !policyField.MatchString(p) || !rateLimitField.MatchString(r) {
				t.Fatalf("decision %+v (error %v): RateLimit-Policy %q, RateLimit %q", d, err, p, r)
			}
		}
	})
}
