package shed_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/breakeven-go/breakeven/shed"
)

func ExampleNewInFlight() {
	l := shed.NewInFlight(2)
	ctx := shed.WithPriority(context.Background(), shed.Critical)
	p1, _ := l.Acquire(ctx)
	p2, _ := l.Acquire(ctx)
	_, err := l.Acquire(ctx) // a third request while two are in flight
	fmt.Println(errors.Is(err, shed.ErrOverloaded))
	p1.Release(shed.Success)
	p2.Release(shed.Success)
	// Output: true
}

func ExampleNewAdaptive() {
	l := shed.NewAdaptive() // learns the limit from latency; no tuning
	p, err := l.Acquire(context.Background())
	if err == nil {
		p.Release(shed.Success)
	}
	fmt.Println(err, l.Stats().Limit)
	// Output: <nil> 4
}

func ExampleMiddleware() {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	srv := httptest.NewServer(shed.Middleware(shed.NewAdaptive(), api))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode) // under overload: 503 with Retry-After
	// Output: 200
}

func ExampleWithPriority() {
	l := shed.NewInFlight(10) // Sheddable requests may fill 9 of 10 slots
	for range 9 {
		l.Acquire(context.Background())
	}
	_, errSheddable := l.Acquire(context.Background())
	_, errCritical := l.Acquire(shed.WithPriority(context.Background(), shed.Critical))
	fmt.Println(errSheddable != nil, errCritical == nil)
	// Output: true true
}

func ExampleNewQueued() {
	// One slot, and room for one request to wait for it.
	l := shed.NewQueued(shed.NewInFlight(1), 1)
	p, _ := l.Acquire(context.Background())
	waited := make(chan error)
	go func() {
		q, err := l.Acquire(context.Background()) // waits in the queue
		if err == nil {
			q.Release(shed.Success)
		}
		waited <- err
	}()
	// Wait (a bounded while) until the second request is queued.
	for deadline := time.Now().Add(5 * time.Second); l.Stats().Queued == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	_, err := l.Acquire(context.Background()) // the queue is full: shed
	fmt.Println("third:", errors.Is(err, shed.ErrOverloaded))
	p.Release(shed.Success) // the slot passes to the queued request
	fmt.Println("second:", <-waited)
	// Output:
	// third: true
	// second: <nil>
}

func ExampleStatus() {
	l := shed.NewInFlight(1)
	p, _ := l.Acquire(context.Background()) // the only slot is taken
	defer p.Release(shed.Success)
	h := shed.Middleware(l, http.NotFoundHandler(), shed.Status(http.StatusTooManyRequests))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Println(rec.Code)
	// Output: 429
}

func ExampleRetryAfter() {
	l := shed.NewInFlight(1)
	p, _ := l.Acquire(context.Background()) // the only slot is taken
	defer p.Release(shed.Success)
	// Shed clients come back after 2s plus up to 2s of jitter.
	h := shed.Middleware(l, http.NotFoundHandler(), shed.RetryAfter(2*time.Second))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	ra, _ := strconv.Atoi(rec.Header().Get("Retry-After"))
	fmt.Println(rec.Code, ra >= 2 && ra <= 4)
	// Output: 503 true
}

func ExamplePriorityFrom() {
	ctx := shed.WithPriority(context.Background(), shed.Critical)
	fmt.Println(shed.PriorityFrom(ctx) == shed.Critical, shed.PriorityFrom(context.Background()) == shed.Critical)
	// Output: true false
}

func ExampleLimits() {
	l := shed.NewAdaptive(shed.Limits(10, 2, 100), shed.AIMD())
	fmt.Println("starting limit:", l.Stats().Limit)
	// Output: starting limit: 10
}

func ExamplePriorityHeader() {
	// Callers you control mark requests that must not be shed first.
	// Only behind a proxy that sets the header (and strips it from outside
	// traffic): any client can send it.
	h := shed.Middleware(shed.NewInFlight(10), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("critical:", shed.PriorityFrom(r.Context()) == shed.Critical)
	}), shed.PriorityHeader("X-Request-Priority"))
	req := httptest.NewRequest("GET", "/checkout", nil)
	req.Header.Set("X-Request-Priority", "critical")
	h.ServeHTTP(httptest.NewRecorder(), req)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/recommendations", nil))
	// Output:
	// critical: true
	// critical: false
}

// oneAtATime is a Limiter written outside the package: one request at a
// time, counting releases by outcome.
type oneAtATime struct {
	busy     atomic.Bool
	released atomic.Int64
}

func (l *oneAtATime) Acquire(ctx context.Context) (shed.Permit, error) {
	if err := ctx.Err(); err != nil {
		return shed.Permit{}, err
	}
	if !l.busy.CompareAndSwap(false, true) {
		return shed.Permit{}, fmt.Errorf("%w: busy", shed.ErrOverloaded)
	}
	return shed.NewPermit(l), nil
}

func (l *oneAtATime) ReleasePermit(granted time.Time, o shed.Outcome) {
	l.released.Add(1)
	l.busy.Store(false)
}

func (l *oneAtATime) Stats() shed.Stats {
	s := shed.Stats{Limit: 1}
	if l.busy.Load() {
		s.InFlight = 1
	}
	return s
}

func ExampleNewPermit() {
	var l shed.Limiter = &oneAtATime{}
	h := shed.Middleware(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// While this request runs, a second one is shed.
		rec := httptest.NewRecorder()
		shed.Middleware(l, http.NotFoundHandler()).ServeHTTP(rec, r)
		fmt.Println("second request:", rec.Code)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Println("first request:", rec.Code, "in flight after:", l.Stats().InFlight)
	// Output:
	// second request: 503
	// first request: 200 in flight after: 0
}
