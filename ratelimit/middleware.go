package ratelimit

import (
	"fmt"
	"math"
	"net"
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
// user id). The default is the client IP: see TrustedProxies. A KeyFunc
// error answers 400 with the error's text.
func KeyFunc(fn func(*http.Request) (string, error)) MiddlewareOption {
	return middlewareOptionFunc(func(m *middleware) { m.key = fn })
}

// TrustedProxies makes the default key trust X-Forwarded-For from these
// networks (your load balancers): the client IP is then the rightmost
// address in the header that is not itself a trusted proxy. Without it the
// header is ignored, since any client can send one: the key is the
// connection's remote address.
func TrustedProxies(prefixes ...netip.Prefix) MiddlewareOption {
	return middlewareOptionFunc(func(m *middleware) { m.trusted = append(m.trusted, prefixes...) })
}

// OmitHeaders stops the middleware from sending the RateLimit-Policy and
// RateLimit fields (Retry-After on a 429 is always sent).
func OmitHeaders() MiddlewareOption {
	return middlewareOptionFunc(func(m *middleware) { m.omitHeaders = true })
}

// Exempt lets requests for which fn returns true through unlimited and
// uncounted (health checks, internal callers).
func Exempt(fn func(*http.Request) bool) MiddlewareOption {
	return middlewareOptionFunc(func(m *middleware) { m.exempt = fn })
}

// OnLimiterError sets what happens when the limiter itself fails (a remote
// limiter unreachable): fn writes the response or calls next. The default
// answers 503 Service Unavailable.
func OnLimiterError(fn func(w http.ResponseWriter, r *http.Request, next http.Handler, err error)) MiddlewareOption {
	return middlewareOptionFunc(func(m *middleware) { m.onErr = fn })
}

type middleware struct {
	l           KeyLimiter
	next        http.Handler
	key         func(*http.Request) (string, error)
	trusted     []netip.Prefix
	omitHeaders bool
	exempt      func(*http.Request) bool
	onErr       func(http.ResponseWriter, *http.Request, http.Handler, error)
}

// Middleware limits requests to next per key: an allowed request goes on
// with the IETF RateLimit-Policy and RateLimit header fields
// (draft-ietf-httpapi-ratelimit-headers) describing the key's quota; a
// refused one gets 429 Too Many Requests with Retry-After in whole seconds
// (rounded up) and never reaches next.
func Middleware(l KeyLimiter, next http.Handler, opts ...MiddlewareOption) http.Handler {
	if l == nil || next == nil {
		panic("ratelimit: Middleware(nil limiter or handler)")
	}
	m := &middleware{l: l, next: next}
	for _, o := range opts {
		o.apply(m)
	}
	if m.key == nil {
		m.key = m.clientIP
	}
	if m.onErr == nil {
		m.onErr = func(w http.ResponseWriter, _ *http.Request, _ http.Handler, err error) {
			http.Error(w, "rate limiter unavailable: "+err.Error(), http.StatusServiceUnavailable)
		}
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
		http.Error(w, "ratelimit: "+err.Error(), http.StatusBadRequest)
		return
	}
	d, err := m.l.Check(r.Context(), key)
	if err != nil {
		m.onErr(w, r, m.next, err)
		return
	}
	if !m.omitHeaders && d.Limit > 0 {
		h := w.Header()
		h.Set("RateLimit-Policy", fmt.Sprintf(`"default";q=%d;w=%d`, d.Limit, ceilSeconds(d.Window)))
		h.Set("RateLimit", fmt.Sprintf(`"default";r=%d;t=%d`, d.Remaining, ceilSeconds(d.ResetAfter)))
	}
	if !d.Allowed {
		w.Header().Set("Retry-After", strconv.FormatInt(max(1, ceilSeconds(d.RetryAfter)), 10))
		http.Error(w, "rate limit exceeded", http.StatusTooManyRequests)
		return
	}
	m.next.ServeHTTP(w, r)
}

func ceilSeconds(d time.Duration) int64 { return int64(math.Ceil(d.Seconds())) }

// clientIP is the default key: the remote address, or with trusted proxies
// the rightmost untrusted address in X-Forwarded-For.
func (m *middleware) clientIP(r *http.Request) (string, error) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return "", fmt.Errorf("cannot parse remote address %q", r.RemoteAddr)
	}
	addr = addr.Unmap()
	if !m.isTrusted(addr) {
		return addr.String(), nil
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a garbled hop: trust nothing further left
		}
		if hop = hop.Unmap(); !m.isTrusted(hop) {
			return hop.String(), nil
		}
		addr = hop
	}
	return addr.String(), nil
}

func (m *middleware) isTrusted(a netip.Addr) bool {
	for _, p := range m.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
