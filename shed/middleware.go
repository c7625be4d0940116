package shed

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MiddlewareOption configures NewMiddleware.
type MiddlewareOption interface{ apply(*middleware) }

type middlewareOptionFunc func(*middleware)

func (f middlewareOptionFunc) apply(m *middleware) { f(m) }

// RetryAfter sets the base of the Retry-After header on shed responses
// (default 1s); each response adds a random jitter of up to the base, so
// shed clients do not all come back in the same second. d must be >= 1s.
func RetryAfter(d time.Duration) MiddlewareOption {
	if d < time.Second {
		panic(fmt.Sprintf("shed: RetryAfter(%v): must be at least 1s (the header counts seconds)", d))
	}
	return middlewareOptionFunc(func(m *middleware) { m.retryAfter = d })
}

// Status sets the status code of shed responses (default 503; 429 suits
// quota-like shedding).
func Status(code int) MiddlewareOption {
	if code < 400 || code > 599 {
		panic(fmt.Sprintf("shed: Status(%d): want a 4xx or 5xx code", code))
	}
	return middlewareOptionFunc(func(m *middleware) { m.status = code })
}

// PriorityHeader names the request header that marks a request Critical
// (value "critical") or Sheddable (anything else); default "X-Priority".
// Only trust it from callers you control: strip it at your edge.
func PriorityHeader(name string) MiddlewareOption {
	return middlewareOptionFunc(func(m *middleware) { m.priorityHeader = name })
}

type middleware struct {
	l              Limiter
	next           http.Handler
	retryAfter     time.Duration
	status         int
	priorityHeader string
}

// Middleware sheds requests to next that l refuses, answering 503 Service
// Unavailable with a jittered Retry-After header, and reports each
// admitted request's outcome to l: Dropped if the client went away or its
// deadline passed, Failure for a 5xx, else Success. If next panics, the
// slot is released (as a Failure) before the panic continues.
func Middleware(l Limiter, next http.Handler) http.Handler { return NewMiddleware(l, next) }

// NewMiddleware is Middleware with options.
func NewMiddleware(l Limiter, next http.Handler, opts ...MiddlewareOption) http.Handler {
	if l == nil || next == nil {
		panic("shed: Middleware(nil limiter or handler)")
	}
	m := &middleware{l: l, next: next, retryAfter: time.Second, status: http.StatusServiceUnavailable, priorityHeader: "X-Priority"}
	for _, o := range opts {
		o.apply(m)
	}
	return m
}

func (m *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if strings.EqualFold(r.Header.Get(m.priorityHeader), "critical") {
		ctx = WithPriority(ctx, Critical)
		r = r.WithContext(ctx)
	}
	permit, err := m.l.Acquire(ctx)
	if err != nil {
		if !errors.Is(err, ErrOverloaded) {
			return // the client is gone; nobody reads a response
		}
		jittered := m.retryAfter + time.Duration(rand.Int64N(int64(m.retryAfter)+1))
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(jittered.Seconds()))))
		http.Error(w, "overloaded, retry later", m.status)
		return
	}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	outcome := Failure // if next panics
	defer func() { permit.Release(outcome) }()
	m.next.ServeHTTP(sw, r)
	switch {
	case ctx.Err() != nil:
		outcome = Dropped
	case sw.status >= 500:
		outcome = Failure
	default:
		outcome = Success
	}
}

// statusWriter records the status code the handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer
// (Flush, deadlines).
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
