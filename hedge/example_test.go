package hedge_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/breakeven-go/breakeven/hedge"
)

func ExampleDo() {
	h := hedge.New(hedge.Delay(10 * time.Millisecond))
	v, err := hedge.Do(context.Background(), h, func(ctx context.Context) (string, error) {
		if hedge.Attempt(ctx) == 0 {
			<-ctx.Done() // the first replica stalls...
			return "", ctx.Err()
		}
		return "from the hedge", nil // ...the hedge answers
	})
	fmt.Println(v, err, h.Stats().HedgeWins)
	// Output: from the hedge <nil> 1
}

func ExamplePercentile() {
	// Hedge after the observed 95th percentile latency, for at most 10% more
	// calls; until 32 latencies are seen, hedge after 50ms.
	h := hedge.New(hedge.Percentile(0.95), hedge.Delay(50*time.Millisecond), hedge.Budget(0.10))
	fmt.Println(h.Stats().Delay)
	// Output: 50ms
}

func ExampleTransport() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello")
	}))
	defer srv.Close()

	// GETs, HEADs, OPTIONS and requests with an Idempotency-Key through
	// client are hedged; other requests go once.
	h := hedge.New(hedge.Percentile(0.95), hedge.Delay(time.Second))
	client := &http.Client{Transport: hedge.Transport(http.DefaultTransport, h)}
	resp, err := client.Get(srv.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close() // releases the winning attempt's context
	fmt.Println(resp.StatusCode, string(body), "calls:", h.Stats().Calls)
	// Output: 200 hello calls: 1
}

func ExampleFailedStatus() {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) == 1 {
			w.WriteHeader(http.StatusTooManyRequests) // the first replica is busy
			return
		}
		fmt.Fprint(w, "hello")
	}))
	defer srv.Close()

	// A 429 counts as a failed attempt, as 502, 503 and 504 do by default:
	// the hedge starts at once instead of after the delay.
	h := hedge.New(hedge.Delay(time.Second))
	rt := hedge.Transport(http.DefaultTransport, h, hedge.FailedStatus(429, 502, 503, 504))
	resp, err := (&http.Client{Transport: rt}).Get(srv.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body), "hedges:", h.Stats().Hedges)
	// Output: 200 hello hedges: 1
}

func ExampleBudget() {
	// A backend that fails every call: each failure would start another
	// attempt at once, doubling the load on a backend already in trouble.
	// The budget lets extra attempts reach a tenth of calls (plus a few
	// saved up), timed hedges and failure-triggered ones alike.
	h := hedge.New(hedge.Delay(time.Second), hedge.Budget(0.10))
	for range 100 {
		hedge.Do(context.Background(), h, func(context.Context) (int, error) {
			return 0, errors.New("backend down")
		})
	}
	st := h.Stats()
	fmt.Println("calls:", st.Calls, "extra attempts:", st.Hedges, "denied:", st.BudgetDenied)
	// Output: calls: 100 extra attempts: 19 denied: 81
}

func ExampleDoWith() {
	h := hedge.New(hedge.Delay(time.Second))
	// The first replica answers at once, but with "busy": classified as a
	// failure, it starts the hedge at once, and the hedge's answer wins.
	v, release, err := hedge.DoWith(context.Background(), h, func(ctx context.Context) (string, error) {
		if hedge.Attempt(ctx) == 0 {
			return "busy", nil
		}
		return "hello", nil
	}, hedge.Results[string]{
		Failed: func(v string, err error) bool { return err != nil || v == "busy" },
	})
	defer release() // without KeepContext, a no-op: the context already ended
	fmt.Println(v, err)
	// Output: hello <nil>
}

func ExamplePanicError() {
	defer func() {
		pe := recover().(*hedge.PanicError) // re-panicked on the caller's goroutine
		fmt.Println("recovered:", pe.Value)
	}()
	h := hedge.New(hedge.Delay(time.Second))
	hedge.Do(context.Background(), h, func(context.Context) (int, error) {
		panic("bug in the backend client")
	})
	// Output: recovered: bug in the backend client
}

func ExampleAttempt() {
	h := hedge.New(hedge.Delay(time.Millisecond))
	hedge.Do(context.Background(), h, func(ctx context.Context) (int, error) {
		fmt.Println("attempt", hedge.Attempt(ctx))
		return 0, nil
	})
	// Output: attempt 0
}

func ExampleMaxAttempts() {
	h := hedge.New(hedge.Delay(time.Millisecond), hedge.MaxAttempts(3))
	_, err := hedge.Do(context.Background(), h, func(ctx context.Context) (int, error) {
		return 0, fmt.Errorf("attempt %d failed", hedge.Attempt(ctx))
	})
	fmt.Println(err, h.Stats().Hedges)
	// Output: attempt 0 failed 2
}

func ExampleNew() {
	// Hedge after the observed p95, never more than 5% extra attempts.
	h := hedge.New(hedge.Percentile(0.95), hedge.Budget(0.05))
	for range 3 {
		hedge.Do(context.Background(), h, func(context.Context) (int, error) { return 1, nil })
	}
	st := h.Stats()
	fmt.Println("calls:", st.Calls, "hedges:", st.Hedges)
	// Output: calls: 3 hedges: 0
}

func ExampleDoDiscard() {
	h := hedge.New(hedge.Delay(time.Millisecond))
	discarded := make(chan string, 1)
	v, err := hedge.DoDiscard(context.Background(), h, func(ctx context.Context) (string, error) {
		if hedge.Attempt(ctx) == 0 {
			<-ctx.Done()       // slow: cancelled once the hedge has won,
			return "slow", nil // yet it succeeds...
		}
		return "fast", nil
	}, func(loser string) { discarded <- loser }) // ...so its result is discarded
	fmt.Println(v, err)
	fmt.Println("discarded:", <-discarded) // Do returns without waiting for the loser
	// Output:
	// fast <nil>
	// discarded: slow
}

func ExampleDelay() {
	// Hedge any call still unanswered after 20ms: simple, but the delay does
	// not follow the backend (see Percentile).
	h := hedge.New(hedge.Delay(20 * time.Millisecond))
	fmt.Println(h.Stats().Delay)
	// Output: 20ms
}

func ExampleMinWins() {
	// The slowness follows the request: a slow query is as slow on every
	// replica, so its hedge never answers first. Once that is clear, most
	// calls that outlive the delay are not hedged; a few still are, as
	// probes, so that hedging resumes if hedges start to win.
	h := hedge.New(hedge.Delay(time.Millisecond), hedge.Budget(1))
	for range 50 {
		hedge.Do(context.Background(), h, func(ctx context.Context) (int, error) {
			slow := 10 * time.Millisecond
			if hedge.Attempt(ctx) > 0 {
				slow = time.Hour // started later, and no faster: it never answers first
			}
			select {
			case <-time.After(slow):
				return 0, nil
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		})
	}
	st := h.Stats()
	fmt.Println("calls:", st.Calls, "hedges:", st.Hedges, "won:", st.HedgeWins, "withheld:", st.Withheld)
	// Output: calls: 50 hedges: 33 won: 0 withheld: 17
}

func ExampleHedger_Stats() {
	h := hedge.New(hedge.Delay(time.Millisecond))
	hedge.Do(context.Background(), h, func(ctx context.Context) (int, error) {
		if hedge.Attempt(ctx) == 0 {
			<-ctx.Done() // stalls until the hedge has won
			return 0, ctx.Err()
		}
		return 1, nil
	})
	st := h.Stats()
	fmt.Println("calls:", st.Calls, "hedges:", st.Hedges, "won by a hedge:", st.HedgeWins)
	// Output: calls: 1 hedges: 1 won by a hedge: 1
}

func ExampleResults() {
	// A result that keeps reading from its attempt's context after the call
	// (here the context itself; in practice a stream) needs KeepContext,
	// and release once done with it.
	h := hedge.New(hedge.Delay(time.Second))
	stream, release, err := hedge.DoWith(context.Background(), h, func(ctx context.Context) (context.Context, error) {
		return ctx, nil
	}, hedge.Results[context.Context]{KeepContext: true})
	fmt.Println("while reading:", stream.Err(), err)
	release()
	fmt.Println("after release:", stream.Err())
	// Output:
	// while reading: <nil> <nil>
	// after release: context canceled
}
