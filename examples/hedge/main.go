// Command hedge calls a backend with a slow tail (95% of calls take 2 ms,
// 5% take 50 ms) from 20 goroutines, first plainly and then through a
// hedge.Hedger that sends a second attempt once a call outlives the p95 of
// recent calls, within the default budget (a tenth of calls). It prints p50, p99
// and the extra load for both.
//
//	go run ./examples/hedge
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/breakeven-go/breakeven/hedge"
)

func main() {
	if err := run(context.Background(), os.Stdout, 2000); err != nil {
		log.Fatal(err)
	}
}

// backend answers in 2 ms, or 50 ms for one call in 20; it counts every
// attempt and stops early when the caller cancels (the hedge won).
type backend struct{ attempts atomic.Int64 }

func (b *backend) call(ctx context.Context) (string, error) {
	b.attempts.Add(1)
	d := 2 * time.Millisecond
	if rand.IntN(20) == 0 {
		d = 50 * time.Millisecond
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return "ok", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func run(ctx context.Context, out io.Writer, calls int) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tp50\tp99\textra attempts\t")
	for _, mode := range []string{"plain", "hedged"} {
		b := &backend{}
		call := b.call
		if mode == "hedged" {
			h := hedge.New(hedge.Percentile(0.95)) // one hedge, within the default 10% budget
			call = func(ctx context.Context) (string, error) { return hedge.Do(ctx, h, b.call) }
		}
		lat, err := measure(ctx, call, calls, 20)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%v\t%v\t%.1f%%\t\n", mode, lat[len(lat)/2].Round(100*time.Microsecond),
			lat[len(lat)*99/100].Round(100*time.Microsecond), 100*float64(b.attempts.Load()-int64(calls))/float64(calls))
	}
	return tw.Flush()
}

// measure makes calls calls from callers goroutines and returns their
// latencies, sorted.
func measure(ctx context.Context, call func(context.Context) (string, error), calls, callers int) ([]time.Duration, error) {
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	var next atomic.Int64
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for next.Add(1) <= int64(calls) {
				start := time.Now()
				_, err := call(ctx)
				mu.Lock()
				lat = append(lat, time.Since(start))
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(lat)
	return lat, firstErr
}
