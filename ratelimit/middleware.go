package ratelimit

import (
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// MiddlewareOption configures Middleware.
type MiddlewareOption interface{ apply(*middleware) }

type middlewareOptionFunc func(*middleware)

func (f middlewareOptionFunc) apply(m *middleware) { f(m) }

// KeyFunc sets how a request maps to a rate-limit key (an API token, a
// user id). The default is the client's address: see TrustedProxies and
// IPv6Prefix. A KeyFunc error answers 400 Bad Request with a fixed body
// (the error, which may quote what the client sent, goes to OnError only).
func KeyFunc(fn func(*http.Request) (string, error)) MiddlewareOption {
	if fn == nil {
		panic("ratelimit: KeyFunc(nil)")
	}
	return middlewareOptionFunc(func(m *middleware) { m.key = fn })
}

// TrustedProxies makes the default key trust X-Forwarded-For from these
// networks (your load balancers): the client is then the rightmost hop in
// the header that is not itself a trusted proxy. Hops may carry a port
// ("198.51.100.7:4711", "[2001:db8::7]:443"). A hop that names no address
// ("unknown", an obfuscated "_hidden", garbage) ends the walk: that client
// cannot be told apart from others, so all such clients share the key
// "unknown" (never the proxy's own address, and never the text the client
// sent). Without TrustedProxies the header is ignored, since any client
// can send one: the key is the connection's remote address.
//
// A Unix-domain socket peer (RemoteAddr "" or "@", or a path) counts as a
// trusted proxy when TrustedProxies is set, since only a local process
// (your reverse proxy) can connect to one; without it every request on
// such a listener shares the key "unix".
func TrustedProxies(prefixes ...netip.Prefix) MiddlewareOption {
	return middlewareOptionFunc(func(m *middleware) { m.trusted = append(m.trusted, prefixes...) })
}

// IPv6Prefix sets how many leading bits of an IPv6 client address the
// default key keeps (default 64): one site usually holds a whole /64 (or a
// /56, /48), so keying by the full address would give it a fresh bucket
// per address, without end, and its churn would evict active keys. IPv4
// clients are keyed by their address. bits must be in 1..128.
func IPv6Prefix(bits int) MiddlewareOption {
	if bits < 1 || bits > 128 {
		panic(fmt.Sprintf("ratelimit: IPv6Prefix(%d): want 1..128 bits", bits))
	}
	return middlewareOptionFunc(func(m *middleware) { m.v6bits = bits })
}

// OmitHeaders stops the middleware from sending the RateLimit-Policy and
// RateLimit fields (Retry-After on a refusal is always sent).
func OmitHeaders() MiddlewareOption {
	return middlewareOptionFunc(func(m *middleware) { m.omitHeaders = true })
}

// Exempt lets requests for which fn returns true through unlimited and
// uncounted (health checks, internal callers).
func Exempt(fn func(*http.Request) bool) MiddlewareOption {
	return middlewareOptionFunc(func(m *middleware) { m.exempt = fn })
}

// OnError sets a hook that sees every error: the limiter's (a remote
// limiter unreachable) and the KeyFunc's, for logs and metrics. It only
// observes: what the request gets is decided by the limiter's decision
// (see KeyLimiter), and no error text ever reaches a response body.
func OnError(fn func(error)) MiddlewareOption {
	return middlewareOptionFunc(func(m *middleware) { m.onError = fn })
}

type middleware struct {
	l           KeyLimiter
	next        http.Handler
	key         func(*http.Request) (string, error)
	trusted     []netip.Prefix
	v6bits      int
	omitHeaders bool
	exempt      func(*http.Request) bool
	onError     func(error)
}

// Middleware limits requests to next per key. An allowed request goes on
// with the IETF RateLimit-Policy and RateLimit header fields
// (draft-ietf-httpapi-ratelimit-headers) describing the key's quota. A
// refused one never reaches next and gets Retry-After in whole seconds
// (rounded up, at least 1) with 429 Too Many Requests, or 503 Service
// Unavailable when the limiter failed and its policy refused without a
// time to retry (redisrate's FailClosed).
//
// When the limiter returns an error, its decision still decides: a
// limiter's failure policy (redisrate's FailOpen, FallbackLocal) is set in
// one place, the limiter, and the error goes to the OnError hook. Response
// bodies are fixed texts: neither keys nor error texts reach the client.
func Middleware(l KeyLimiter, next http.Handler, opts ...MiddlewareOption) http.Handler {
	if l == nil || next == nil {
		panic("ratelimit: Middleware(nil limiter or handler)")
	}
	m := &middleware{l: l, next: next, v6bits: 64}
	for _, o := range opts {
		o.apply(m)
	}
	if m.key == nil {
		m.key = m.clientKey
	}
	return m
}

func (m *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if m.exempt != nil && m.exempt(r) {
		m.next.ServeHTTP(w, r)
		return
	}
	key, err := m.key(r)
	if err != nil {
		m.report(fmt.Errorf("ratelimit: no key for the request: %w", err))
		http.Error(w, "ratelimit: cannot identify the client", http.StatusBadRequest)
		return
	}
	d, err := m.l.Check(r.Context(), key)
	if err != nil {
		m.report(err)
	} else if !m.omitHeaders && d.Limit > 0 {
		// The quota is only described when the limiter could decide.
		h := w.Header()
		h.Set("RateLimit-Policy", `"default";q=`+itoa(int64(d.Limit))+`;w=`+itoa(ceilSeconds(d.Window)))
		h.Set("RateLimit", `"default";r=`+itoa(int64(d.Remaining))+`;t=`+itoa(ceilSeconds(d.ResetAfter)))
	}
	if d.Allowed {
		m.next.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Retry-After", itoa(max(1, ceilSeconds(d.RetryAfter))))
	if err != nil && d.RetryAfter <= 0 {
		http.Error(w, "rate limiter unavailable", http.StatusServiceUnavailable)
		return
	}
	http.Error(w, "rate limit exceeded", http.StatusTooManyRequests)
}

func (m *middleware) report(err error) {
	if m.onError != nil {
		m.onError(err)
	}
}

// itoa formats a header number: negative values (from a buggy limiter)
// become 0, as the fields are non-negative integers.
func itoa(n int64) string { return strconv.FormatInt(max(0, n), 10) }

func ceilSeconds(d time.Duration) int64 { return int64(math.Ceil(d.Seconds())) }

// clientKey is the default key: the client's address (IPv6 by prefix), or
// with trusted proxies the rightmost untrusted X-Forwarded-For hop.
func (m *middleware) clientKey(r *http.Request) (string, error) {
	peer, ok := parseHost(r.RemoteAddr)
	switch {
	case ok && !m.isTrusted(peer):
		return m.addrKey(peer), nil
	case ok:
		return m.forwarded(r, m.addrKey(peer)), nil
	case !isUnixPeer(r.RemoteAddr):
		return "", fmt.Errorf("cannot parse remote address %q", r.RemoteAddr)
	case len(m.trusted) == 0:
		return "unix", nil
	}
	return m.forwarded(r, "unix"), nil
}

// forwarded walks X-Forwarded-For from the right (the hop nearest to us)
// past trusted proxies; key is the last trusted hop's, the answer when
// every hop is trusted.
func (m *middleware) forwarded(r *http.Request, key string) string {
	values := r.Header.Values("X-Forwarded-For")
	for i := len(values) - 1; i >= 0; i-- {
		for rest := values[i]; ; {
			comma := strings.LastIndexByte(rest, ',')
			hop := strings.TrimSpace(rest[comma+1:])
			if hop != "" { // an empty element names no hop: skip it
				a, ok := parseHost(hop)
				if !ok {
					return "unknown"
				}
				if !m.isTrusted(a) {
					return m.addrKey(a)
				}
				key = m.addrKey(a)
			}
			if comma < 0 {
				break
			}
			rest = rest[:comma]
		}
	}
	return key
}

// addrKey is the key of a client address: IPv4 as is, IPv6 by its prefix
// of v6bits bits ("2001:db8:1:2::/64").
func (m *middleware) addrKey(a netip.Addr) string {
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(m.v6bits)
	return p.String()
}

// parseHost parses an address with or without a port, brackets or an IPv6
// zone ("1.2.3.4", "1.2.3.4:80", "[::1]:80", "[fe80::1%eth0]", "::1").
// The result has no zone and IPv4-mapped IPv6 addresses are unmapped.
func parseHost(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().WithZone("").Unmap(), true
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone("").Unmap(), true
}

// isUnixPeer reports whether a RemoteAddr is a Unix-domain socket's: net
// gives "" or "@" (an unnamed or autobound peer), or a path.
func isUnixPeer(s string) bool {
	return s == "" || s[0] == '@' || s[0] == '/'
}

func (m *middleware) isTrusted(a netip.Addr) bool {
	for _, p := range m.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
