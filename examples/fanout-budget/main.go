// Command fanout-budget shows why a fan-out limit belongs to the
// downstream, not to the request: 20 concurrent requests that each fan out
// to 50 backend calls with fanout.Limit(8) put up to 160 calls on the
// backend at once (the limit multiplies with the request rate), while one
// fanout.NewBudget(16) shared by every request keeps the backend at 16,
// however many requests arrive.
//
//	go run ./examples/fanout-budget
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/breakeven-go/breakeven/fanout"
)

func main() {
	if err := run(context.Background(), os.Stdout, 20, 50); err != nil {
		log.Fatal(err)
	}
}

// backend counts the calls in flight and remembers the peak.
type backend struct{ inFlight, peak atomic.Int64 }

func (b *backend) call(ctx context.Context, _ int) error {
	n := b.inFlight.Add(1)
	defer b.inFlight.Add(-1)
	for p := b.peak.Load(); n > p && !b.peak.CompareAndSwap(p, n); p = b.peak.Load() {
	}
	select {
	case <-time.After(2 * time.Millisecond): // the backend's work
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run sends requests concurrent requests of items backend calls each, first
// with a per-request limit, then under a shared budget, and prints the
// backend's peak concurrency for each.
func run(ctx context.Context, out io.Writer, requests, items int) error {
	ids := make([]int, items)
	for i := range ids {
		ids[i] = i
	}
	burst := func(b *backend, opts ...fanout.Option) error {
		var wg sync.WaitGroup
		errs := make(chan error, requests)
		for range requests {
			wg.Go(func() { errs <- fanout.ForEach(ctx, ids, b.call, opts...) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				return err
			}
		}
		return nil
	}

	perRequest := &backend{}
	if err := burst(perRequest, fanout.Limit(8)); err != nil {
		return err
	}
	fmt.Fprintf(out, "fanout.Limit(8) per request, %d requests: backend peak %d calls at once\n", requests, perRequest.peak.Load())

	shared := &backend{}
	budget := fanout.NewBudget(16) // one per downstream, for the whole service
	if err := burst(shared, fanout.WithBudget(budget), fanout.Limit(8)); err != nil {
		return err
	}
	fmt.Fprintf(out, "fanout.NewBudget(16) shared, %d requests: backend peak %d calls at once (budget peak %d)\n",
		requests, shared.peak.Load(), budget.Stats().Peak)
	return nil
}
