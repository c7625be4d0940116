package fanout_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"github.com/breakeven-go/breakeven/fanout"
)

func ExampleMap() {
	urls := []string{"a.example", "b.example", "c.example"}
	lengths, err := fanout.Map(context.Background(), urls, func(ctx context.Context, u string) (int, error) {
		return len(u), nil // e.g. fetch u with ctx
	}, fanout.Limit(8))
	fmt.Println(lengths, err) // results in input order
	// Output: [9 9 9] <nil>
}

func ExampleForEach() {
	words := []string{"alpha", "beta", "gamma"}
	upper := make([]string, len(words))
	err := fanout.ForEach(context.Background(), []int{0, 1, 2}, func(ctx context.Context, i int) error {
		if words[i] == "" {
			return errors.New("empty word")
		}
		upper[i] = strings.ToUpper(words[i]) // each item writes its own slot
		return nil
	})
	fmt.Println(upper, err)
	// Output: [ALPHA BETA GAMMA] <nil>
}

func ExampleLimit() {
	// At most 2 calls at once; the first error cancels the rest.
	_, err := fanout.Map(context.Background(), []int{1, 2, 3, 4}, func(ctx context.Context, n int) (int, error) {
		if n == 3 {
			return 0, fmt.Errorf("item %d failed", n)
		}
		return n * n, nil
	}, fanout.Limit(2))
	fmt.Println(err)
	// Output: item 3 failed
}

func ExampleChunk() {
	// Hand items out 100 at a time (and always fan out).
	squares, _ := fanout.Map(context.Background(), make([]int, 1000), func(ctx context.Context, n int) (int, error) {
		return n * n, nil
	}, fanout.Chunk(100), fanout.Limit(4))
	fmt.Println(len(squares))
	// Output: 1000
}

// One Budget per downstream, shared by every request's fan-out: the
// downstream never sees more than 4 calls from this process, however many
// requests arrive at once.
func ExampleNewBudget() {
	backend := fanout.NewBudget(4)
	handle := func(ctx context.Context, ids []int) ([]string, error) {
		return fanout.Map(ctx, ids, func(ctx context.Context, id int) (string, error) {
			return fmt.Sprintf("item-%d", id), nil // call the backend here
		}, fanout.Limit(16), fanout.WithBudget(backend))
	}
	out, err := handle(context.Background(), []int{1, 2})
	fmt.Println(out, err, backend.Stats().InUse)
	// Output: [item-1 item-2] <nil> 0
}

func ExamplePanicError() {
	defer func() {
		pe := recover().(*fanout.PanicError)
		fmt.Println("recovered:", pe.Value)
	}()
	fanout.ForEach(context.Background(), []int{1, 2, 3}, func(ctx context.Context, n int) error {
		if n == 2 {
			panic("bad item")
		}
		return nil
	})
	// Output: recovered: bad item
}

func ExampleNewGroup() {
	g, ctx := fanout.NewGroup(context.Background(), fanout.Limit(4))
	defer g.Stop() // never leaves a task running on an early return
	_ = ctx
	user := fanout.Spawn(g, func(ctx context.Context) (string, error) { return "ada", nil })
	count := fanout.Spawn(g, func(ctx context.Context) (int, error) { return 3, nil })
	if err := g.Wait(); err != nil {
		fmt.Println(err)
		return
	}
	name, _ := user.Get()
	n, _ := count.Get()
	fmt.Println(name, n)
	// Output: ada 3
}

func ExampleSpawn() {
	g, _ := fanout.NewGroup(context.Background())
	user := fanout.Spawn(g, func(context.Context) (string, error) { return "ada", nil })
	orders := fanout.Spawn(g, func(context.Context) (int, error) { return 3, nil })
	if err := g.Wait(); err != nil {
		fmt.Println(err)
		return
	}
	name, _ := user.Get()
	n, _ := orders.Get()
	fmt.Println(name, n)
	// Output: ada 3
}

func ExampleBudget_Stats() {
	// One budget per downstream, shared by every request's fan-out.
	backend := fanout.NewBudget(4)
	ids := []int{1, 2, 3, 4, 5, 6, 7, 8}
	for range 3 { // three requests
		fanout.ForEach(context.Background(), ids, func(context.Context, int) error { return nil },
			fanout.WithBudget(backend))
	}
	st := backend.Stats()
	fmt.Println("size:", st.Size, "in use:", st.InUse, "peak within size:", st.Peak <= int64(st.Size))
	// Output: size: 4 in use: 0 peak within size: true
}

// A fan-out nested in an fn that runs under a Budget runs on that fn's
// unit: with a Budget of 1 it neither deadlocks nor exceeds the Budget.
func ExampleWithBudget() {
	backend := fanout.NewBudget(1)
	sums, err := fanout.Map(context.Background(), []int{1, 2, 3}, func(ctx context.Context, n int) (int, error) {
		parts, err := fanout.Map(ctx, []int{n, n * 10}, func(ctx context.Context, p int) (int, error) {
			return p, nil // a backend call
		}, fanout.WithBudget(backend))
		if err != nil {
			return 0, err
		}
		return parts[0] + parts[1], nil
	}, fanout.WithBudget(backend))
	fmt.Println(sums, err, "peak units:", backend.Stats().Peak)
	// Output: [11 22 33] <nil> peak units: 1
}

// CollectErrors runs every item and returns every error, in item order,
// with the results of the items that succeeded.
func ExampleCollectErrors() {
	ids := []int{1, 2, 3, 4}
	names, err := fanout.Map(context.Background(), ids, func(ctx context.Context, id int) (string, error) {
		if id%2 == 0 {
			return "", fmt.Errorf("user %d: not found", id)
		}
		return fmt.Sprintf("user-%d", id), nil
	}, fanout.CollectErrors())
	fmt.Printf("%q\n%v\n", names, err)
	// Output:
	// ["user-1" "" "user-3" ""]
	// user 2: not found
	// user 4: not found
}

func ExampleGroup_Go() {
	g, _ := fanout.NewGroup(context.Background(), fanout.Limit(2))
	g.Go(func(ctx context.Context) error { return nil })
	g.Go(func(ctx context.Context) error { return errors.New("inventory: timeout") })
	fmt.Println(g.Wait()) // the first error; it cancelled the group's ctx
	// Output: inventory: timeout
}

// TryGo starts a task only if it can start now: here the only slot is
// taken, so the caller does the work itself.
func ExampleGroup_TryGo() {
	g, _ := fanout.NewGroup(context.Background(), fanout.Limit(1))
	release := make(chan struct{})
	g.Go(func(ctx context.Context) error { <-release; return nil })
	started := g.TryGo(func(ctx context.Context) error { return nil })
	fmt.Println("second task started:", started)
	close(release)
	fmt.Println(g.Wait())
	// Output:
	// second task started: false
	// <nil>
}

// A task that never started is reported: Wait returns the cause.
func ExampleGroup_Wait() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // e.g. the client went away
	g, _ := fanout.NewGroup(ctx)
	g.Go(func(ctx context.Context) error { return nil })
	fmt.Println(g.Wait())
	// Output: context canceled
}

func ExampleGroup_Stop() {
	lookup := func(ctx context.Context) (string, error) {
		g, _ := fanout.NewGroup(ctx)
		defer g.Stop() // an early return cancels and waits for the tasks
		name := fanout.Spawn(g, func(ctx context.Context) (string, error) { return "ada", nil })
		if err := g.Wait(); err != nil {
			return "", err
		}
		return name.Get()
	}
	fmt.Println(lookup(context.Background()))
	// Output: ada <nil>
}

// Get on a task that did not run returns an error, never a zero result
// with a nil error.
func ExampleFuture_Get() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	g, _ := fanout.NewGroup(ctx)
	n := fanout.Spawn(g, func(ctx context.Context) (int, error) { return 42, nil })
	g.Wait()
	fmt.Println(n.Get())
	// Output: 0 fanout: task not started: context canceled
}

// A task that calls runtime.Goexit (t.FailNow on the wrong goroutine) is
// reported, not counted as a success.
func ExampleErrGoexit() {
	g, _ := fanout.NewGroup(context.Background())
	g.Go(func(ctx context.Context) error {
		runtime.Goexit()
		return nil
	})
	fmt.Println(errors.Is(g.Wait(), fanout.ErrGoexit))
	// Output: true
}
