package fanout_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/breakeven-go/breakeven/fanout"
)

func ExampleStream() {
	lines := slices.Values([]string{"a,1", "b,2", "c,3", "d,4"})
	parse := func(ctx context.Context, line string) (string, error) {
		name, _, _ := strings.Cut(line, ",")
		return strings.ToUpper(name), nil // e.g. parse and validate a row
	}
	for name, err := range fanout.Stream(context.Background(), lines, parse, fanout.Limit(4)) {
		if err != nil {
			fmt.Println("error:", err)
			break
		}
		fmt.Print(name, " ") // in the order of lines
	}
	fmt.Println()
	// Output: A B C D
}

// The first error ends the stream: it is yielded once, and nothing after it.
func ExampleStream_error() {
	for n, err := range fanout.Stream(context.Background(), slices.Values([]int{1, 2, 3, 4, 5}), func(ctx context.Context, n int) (int, error) {
		if n == 3 {
			return 0, errors.New("item 3 is bad")
		}
		return n * 10, nil
	}, fanout.Limit(1)) {
		fmt.Println(n, err)
	}
	// Output:
	// 10 <nil>
	// 20 <nil>
	// 0 item 3 is bad
}

func ExampleUnordered() {
	sum := 0
	for n, err := range fanout.Stream(context.Background(), slices.Values([]int{1, 2, 3, 4}), func(ctx context.Context, n int) (int, error) {
		return n * n, nil
	}, fanout.Unordered()) {
		if err != nil {
			break
		}
		sum += n // results come as they complete
	}
	fmt.Println(sum)
	// Output: 30
}

func ExampleMeter() {
	var m fanout.StreamMeter // one per stream kind, read by a /metrics handler
	for range fanout.Stream(context.Background(), slices.Values([]int{1, 2, 3}), func(ctx context.Context, n int) (int, error) {
		return n, nil
	}, fanout.Meter(&m)) {
	}
	fmt.Printf("%+v\n", m.Stats())
	// Output: {InFlight:0 Held:0 Yielded:3}
}

func ExampleBatch() {
	ids := slices.Values([]int{1, 2, 3, 4, 5, 6, 7})
	// Insert at most 3 rows at a time, and never let a row wait more than
	// 100ms for its batch to fill.
	for batch := range fanout.Batch(context.Background(), ids, 3, 100*time.Millisecond) {
		fmt.Println(batch) // e.g. one INSERT … VALUES per batch
	}
	// Output:
	// [1 2 3]
	// [4 5 6]
	// [7]
}

// A Stream nested in an fn that holds a unit of the same Budget runs on
// that unit, so even a Budget of one unit does not deadlock; the fn calls
// of the Stream lend their unit to a fan-out nested in them in turn.
func ExampleStream_budget() {
	b := fanout.NewBudget(1) // one call at a time to the downstream, service-wide
	files := []string{"a.csv", "b.csv"}
	counts, err := fanout.Map(context.Background(), files, func(ctx context.Context, file string) (int, error) {
		rows := slices.Values([]string{file + ":1", file + ":2", file + ":3"})
		n := 0
		for _, err := range fanout.Stream(ctx, rows, func(ctx context.Context, row string) (string, error) {
			return row, nil // e.g. one call to the downstream per row
		}, fanout.WithBudget(b), fanout.Limit(4)) {
			if err != nil {
				return 0, err
			}
			n++
		}
		return n, nil
	}, fanout.WithBudget(b))
	fmt.Println(counts, err, b.Stats().InUse)
	// Output: [3 3] <nil> 0
}

// A consumer that breaks out waits for the source to return. A source that
// can block (a feed, a socket) should watch a ctx that the consumer cancels
// before it breaks out, so that the loop ends at once.
func ExampleStream_stopBlockingSource() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	feed := make(chan int)
	go func() { // three values, then nothing for a long time
		for i := 1; i <= 3; i++ {
			feed <- i
		}
	}()
	source := func(yield func(int) bool) {
		for {
			select {
			case <-ctx.Done():
				return
			case v := <-feed:
				if !yield(v) {
					return
				}
			}
		}
	}
	for v, err := range fanout.Stream(ctx, source, func(ctx context.Context, v int) (int, error) {
		return v * 2, nil
	}, fanout.Limit(2)) {
		fmt.Println(v, err)
		if v == 6 {
			cancel() // unblocks the source
			break
		}
	}
	// Output:
	// 2 <nil>
	// 4 <nil>
	// 6 <nil>
}
