package hedge_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/breakeven-go/breakeven/hedge"
)

func ExampleDo() {
	h := hedge.New(hedge.Delay(10*time.Millisecond), hedge.Budget(0.05))
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
	h := hedge.New(hedge.Percentile(0.95), hedge.Budget(0.05))
	client := &http.Client{Transport: hedge.Transport(http.DefaultTransport, h)}
	_ = client // GETs through client are hedged; POSTs go once
	fmt.Println(h.Stats().Calls)
	// Output: 0
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
