package shed_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/breakeven-go/breakeven/shed"
)

// errLimiter refuses every request with err.
type errLimiter struct{ err error }

func (l errLimiter) Acquire(context.Context) (shed.Permit, error) { return shed.Permit{}, l.err }
func (l errLimiter) Stats() shed.Stats                            { return shed.Stats{} }

// TestMiddlewareRefusalStatuses: every refusal gets a real status (issue 18
// defect 5: an error other than ErrOverloaded used to answer 200 with an
// empty body): 504 without Retry-After for a deadline that passed while
// waiting, 503 with Retry-After for overload and anything else.
func TestMiddlewareRefusalStatuses(t *testing.T) {
	for _, tc := range []struct {
		err        error
		code       int
		retryAfter bool
	}{
		{fmt.Errorf("%w: full", shed.ErrOverloaded), 503, true},
		{context.DeadlineExceeded, 504, false},
		{context.Canceled, 503, true},
		{errors.New("custom limiter broke"), 503, true},
	} {
		called := false
		h := shed.Middleware(errLimiter{tc.err}, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if called || rec.Code != tc.code || (rec.Header().Get("Retry-After") != "") != tc.retryAfter || rec.Body.Len() == 0 {
			t.Errorf("Acquire error %v: handler called %v, status %d, Retry-After %q, body %q; want %d, Retry-After %v",
				tc.err, called, rec.Code, rec.Header().Get("Retry-After"), rec.Body, tc.code, tc.retryAfter)
		}
	}
}

// TestMiddlewareIgnoresPriorityHeaderByDefault (defect 6): without the
// PriorityHeader option, "X-Priority: critical" from a client does not buy
// the slots kept for Critical requests.
func TestMiddlewareIgnoresPriorityHeaderByDefault(t *testing.T) {
	l := shed.NewInFlight(10) // Sheddable requests may use 9
	for range 9 {
		p, _ := l.Acquire(context.Background())
		defer p.Release(shed.Success)
	}
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-Priority", "critical")
	rec := httptest.NewRecorder()
	shed.Middleware(l, ok).ServeHTTP(rec, req)
	if rec.Code != 503 {
		t.Fatalf("default middleware, X-Priority: critical from a client: %d, want 503 (the header is not trusted)", rec.Code)
	}
	rec = httptest.NewRecorder()
	shed.Middleware(l, ok, shed.PriorityHeader("X-Priority")).ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("PriorityHeader(X-Priority), X-Priority: critical: %d, want 200", rec.Code)
	}
}

// TestRetryAfterBounds (defect 7): absurd durations are refused at
// construction with a "shed: " panic, and the largest allowed one gives a
// positive header within base..2*base.
func TestRetryAfterBounds(t *testing.T) {
	for _, d := range []time.Duration{math.MaxInt64, 146 * 365 * 24 * time.Hour, 24*time.Hour + 1, -time.Second} {
		func() {
			defer func() {
				if msg, _ := recover().(string); !strings.HasPrefix(msg, "shed: RetryAfter(") {
					t.Errorf("RetryAfter(%v) panicked with %q, want a shed: RetryAfter panic", d, msg)
				}
			}()
			shed.RetryAfter(d)
		}()
	}
	l := shed.NewInFlight(1)
	p, _ := l.Acquire(context.Background())
	defer p.Release(shed.Success)
	h := shed.Middleware(l, http.NotFoundHandler(), shed.RetryAfter(24*time.Hour))
	for range 100 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		s, err := strconv.Atoi(rec.Header().Get("Retry-After"))
		if err != nil || s < 86400 || s > 2*86400 {
			t.Fatalf("RetryAfter(24h): header %q, want 86400..172800", rec.Header().Get("Retry-After"))
		}
	}
}

// TestMiddlewareOutcomes: how each way a request ends is reported to the
// limiter (defect 1: a client going away is Cancelled, not Dropped; a 1xx
// is not the final status, defect 8).
func TestMiddlewareOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request, cancel context.CancelFunc)
		want    string
	}{
		{"success", func(w http.ResponseWriter, _ *http.Request, _ context.CancelFunc) { w.Write([]byte("ok")) }, "success"},
		{"500 is a failure", func(w http.ResponseWriter, _ *http.Request, _ context.CancelFunc) { w.WriteHeader(500) }, "failed"},
		{"103 then 500 is a failure", func(w http.ResponseWriter, _ *http.Request, _ context.CancelFunc) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(500)
		}, "failed"},
		{"503 from the handler is dropped", func(w http.ResponseWriter, _ *http.Request, _ context.CancelFunc) { w.WriteHeader(503) }, "dropped"},
		{"504 from the handler is dropped", func(w http.ResponseWriter, _ *http.Request, _ context.CancelFunc) { w.WriteHeader(504) }, "dropped"},
		{"client went away", func(_ http.ResponseWriter, r *http.Request, cancel context.CancelFunc) {
			cancel()
			<-r.Context().Done()
		}, "cancelled"},
		{"server deadline passed", func(_ http.ResponseWriter, r *http.Request, _ context.CancelFunc) {
			<-r.Context().Done() // the deadline set below
		}, "dropped"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := shed.NewInFlight(4)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if tc.name == "server deadline passed" {
					ctx, cancel = context.WithTimeout(ctx, time.Second)
					defer cancel()
				}
				h := shed.Middleware(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tc.handler(w, r, cancel) }))
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil).WithContext(ctx))
				s := l.Stats()
				got := map[string]uint64{"dropped": s.Dropped, "failed": s.Failed, "cancelled": s.Cancelled,
					"success": s.Accepted - s.Dropped - s.Failed - s.Cancelled}
				for k, v := range got {
					if want := uint64(0); k == tc.want && v != 1 || k != tc.want && v != want {
						t.Fatalf("Stats = %+v; want exactly one %s outcome", s, tc.want)
					}
				}
			})
		})
	}
}

// TestMiddlewareKeepsFlusherAndHijacker (defect 8): over real HTTP/1.1,
// whose writer is both, the handler behind the middleware still sees
// http.Flusher and http.Hijacker by type assertion, and a hijacked
// connection is released as Cancelled (its lifetime is no service time).
func TestMiddlewareKeepsFlusherAndHijacker(t *testing.T) {
	l := shed.NewInFlight(4)
	var mu sync.Mutex
	var flusher, hijacker bool
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		_, flusher = w.(http.Flusher)
		_, hijacker = w.(http.Hijacker)
		mu.Unlock()
		if hj, ok := w.(http.Hijacker); ok && r.URL.Path == "/hijack" {
			c, rw, err := hj.Hijack()
			if err != nil {
				return
			}
			rw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
			rw.Flush()
			c.Close()
			return
		}
		w.(http.Flusher).Flush()
	})
	// served says the middleware has returned, its permit released: the
	// server's Close does not wait for a handler whose connection was
	// hijacked.
	mw, served := shed.Middleware(l, h), make(chan struct{}, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mw.ServeHTTP(w, r)
		served <- struct{}{}
	}))
	defer srv.Close()
	for _, path := range []string{"/", "/hijack"} {
		c, err := net.DialTimeout("tcp", srv.Listener.Addr().String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		c.Close()
	}
	for range 2 {
		select {
		case <-served:
		case <-time.After(10 * time.Second):
			t.Fatal("the middleware did not return within 10s")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if !flusher || !hijacker {
		t.Fatalf("behind the middleware: Flusher %v, Hijacker %v; want both", flusher, hijacker)
	}
	if s := l.Stats(); s.Cancelled != 1 || s.InFlight != 0 {
		t.Fatalf("Stats = %+v, want the hijacked request released as Cancelled", s)
	}
}

// FuzzPriorityHeader: whatever a client sends in the opted-in priority
// header, the middleware does not panic, and only "critical" (any case)
// raises the priority.
func FuzzPriorityHeader(f *testing.F) {
	for _, s := range []string{"critical", "CRITICAL", "sheddable", "", "critical ", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		var got shed.Priority
		h := shed.Middleware(shed.NewInFlight(10), http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			got = shed.PriorityFrom(r.Context())
		}), shed.PriorityHeader("X-Priority"))
		req := httptest.NewRequest("GET", "/", nil)
		req.Header["X-Priority"] = []string{v}
		h.ServeHTTP(httptest.NewRecorder(), req)
		if want := strings.EqualFold(v, "critical"); (got == shed.Critical) != want {
			t.Fatalf("header %q: priority %v", v, got)
		}
	})
}
