package fanout_test

import (
	"context"
	"errors"
	"fmt"
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
