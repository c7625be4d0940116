package shed

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MiddlewareOption configures [Middleware].
type MiddlewareOption interface{ apply(*middleware) }

type middlewareOptionFunc func(*middleware)

func (f middlewareOptionFunc) apply(m *middleware) { f(m) }

// maxRetryAfter bounds RetryAfter: a client told to come back in more than
// a day has been told to go away, and larger values overflow the jitter.
const maxRetryAfter = 24 * time.Hour

// RetryAfter sets the base of the Retry-After header on shed responses
// (default 1s); each response adds a random jitter of up to the base, so
// shed clients do not all come back in the same second. d must be between
// 1s (the header counts seconds) and 24h.
func RetryAfter(d time.Duration) MiddlewareOption {
	if d < time.Second || d > maxRetryAfter {
		panic(fmt.Sprintf("shed: RetryAfter(%v): want 1s <= d <= 24h", d))
	}
	return middlewareOptionFunc(func(m *middleware) { m.retryAfter = d })
}

// Status sets the status code of shed responses (default 503; 429 suits
// quota-like shedding). Requests whose own deadline passed while they
// waited for a slot get 504 whatever the code.
func Status(code int) MiddlewareOption {
	if code < 400 || code > 599 {
		panic(fmt.Sprintf("shed: Status(%d): want a 4xx or 5xx code", code))
	}
	return middlewareOptionFunc(func(m *middleware) { m.status = code })
}

// PriorityHeader makes the middleware read a request's priority from the
// named header: value "critical" (any case) marks it Critical, anything
// else leaves it Sheddable. Without this option no header is read.
//
// Any client can send any header, so this is only safe behind a proxy that
// sets the header itself (or strips it from outside traffic): trusted
// blindly, it lets every client claim the slots kept for Critical work.
func PriorityHeader(name string) MiddlewareOption {
	if name == "" {
		panic("shed: PriorityHeader(\"\"): want a header name")
	}
	return middlewareOptionFunc(func(m *middleware) { m.priorityHeader = name })
}

type middleware struct {
	l              Limiter
	next           http.Handler
	retryAfter     time.Duration
	status         int
	priorityHeader string // "" reads none
}

// Middleware sheds requests to next that l refuses and reports each
// admitted request's outcome to l.
//
// A refused request gets 503 Service Unavailable (or the code set with
// [Status]) with a jittered Retry-After header, or 504 Gateway Timeout,
// without Retry-After, when its own deadline passed while it waited for a
// slot (a [Queued] limiter). The body is a fixed text.
//
// Outcomes: Cancelled if the client went away (the request's context was
// cancelled without a deadline passing), Dropped if a deadline on our side
// passed or next answered 503 or 504 (its own timeouts or overload),
// Failure for other 5xx, else Success. A hijacked connection is released
// as Cancelled: its lifetime is not a service time. If next panics, the
// slot is released (as a Failure) before the panic continues.
//
// The response writer next sees keeps the optional interfaces of the
// original (http.Flusher, http.Hijacker) visible to type
// assertions, and Unwrap for http.ResponseController.
func Middleware(l Limiter, next http.Handler, opts ...MiddlewareOption) http.Handler {
	if l == nil || next == nil {
		panic("shed: Middleware(nil limiter or handler)")
	}
	m := &middleware{l: l, next: next, retryAfter: time.Second, status: http.StatusServiceUnavailable}
	for _, o := range opts {
		o.apply(m)
	}
	return m
}

func (m *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if m.priorityHeader != "" && strings.EqualFold(r.Header.Get(m.priorityHeader), "critical") {
		ctx = WithPriority(ctx, Critical)
		r = r.WithContext(ctx)
	}
	permit, err := m.l.Acquire(ctx)
	if err != nil {
		m.refuse(w, err)
		return
	}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	outcome := Failure // if next panics
	defer func() { permit.Release(outcome) }()
	m.next.ServeHTTP(wrapWriter(sw), r)
	outcome = classify(ctx, sw)
}

// refuse answers a request the limiter did not admit.
func (m *middleware) refuse(w http.ResponseWriter, err error) {
	if errors.Is(err, context.DeadlineExceeded) {
		http.Error(w, "deadline passed while waiting, retry later", http.StatusGatewayTimeout)
		return
	}
	// Overloaded, a cancelled client (nobody reads it, but the log shows a
	// real status), or another limiter's error: all "not now".
	w.Header().Set("Retry-After", retryAfterSeconds(m.retryAfter, rand.Int64N(int64(m.retryAfter)+1)))
	http.Error(w, "overloaded, retry later", m.status)
}

// retryAfterSeconds is the header value for base plus jitter (both at most
// maxRetryAfter, so the sum cannot overflow), rounded up to whole seconds.
func retryAfterSeconds(base time.Duration, jitter int64) string {
	d := base + time.Duration(jitter)
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}

// classify names how an admitted request ended.
func classify(ctx context.Context, sw *statusWriter) Outcome {
	switch {
	case sw.hijacked:
		return Cancelled
	case ctx.Err() != nil:
		if errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
			return Dropped // our deadline (a server timeout) passed
		}
		return Cancelled // the client went away
	case sw.status == http.StatusServiceUnavailable || sw.status == http.StatusGatewayTimeout:
		return Dropped
	case sw.status >= 500:
		return Failure
	}
	return Success
}

// statusWriter records the final status code the handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status   int
	wrote    bool
	hijacked bool
}

func (s *statusWriter) WriteHeader(code int) {
	// 1xx other than 101 Switching Protocols are informational: the final
	// status is still to come.
	if !s.wrote && (code >= 200 || code == http.StatusSwitchingProtocols) {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer
// (Flush, Hijack, deadlines).
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusWriter) flush() {
	s.wrote = true
	s.ResponseWriter.(http.Flusher).Flush()
}

func (s *statusWriter) hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := s.ResponseWriter.(http.Hijacker).Hijack()
	if err == nil {
		s.hijacked = true
	}
	return c, rw, err
}

// The wrappers below keep the original writer's http.Flusher and
// http.Hijacker visible to a type assertion (handlers that check
// w.(http.Flusher) before streaming), one type per combination.
type (
	flushWriter       struct{ *statusWriter }
	hijackWriter      struct{ *statusWriter }
	flushHijackWriter struct{ *statusWriter }
)

func (w flushWriter) Flush()       { w.flush() }
func (w flushHijackWriter) Flush() { w.flush() }
func (w hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.hijack()
}
func (w flushHijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.hijack()
}

func wrapWriter(s *statusWriter) http.ResponseWriter {
	_, f := s.ResponseWriter.(http.Flusher)
	_, h := s.ResponseWriter.(http.Hijacker)
	switch {
	case f && h:
		return flushHijackWriter{s}
	case f:
		return flushWriter{s}
	case h:
		return hijackWriter{s}
	}
	return s
}
