package shed_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

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
