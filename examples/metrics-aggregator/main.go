// Command metrics-aggregator counts events by metric name the way a
// metrics pipeline does: 4 goroutines ingest 400,000 events whose names
// follow a Zipf(1.1) law over 10,000 names (a few hot names, a long tail),
// into a shard.Map of per-name shard.Counters plus one shard.Counter for the
// total. The hot names are what breaks a naive sharded map: every event for
// "metric-0" hits the same shard. Here a name's shard is touched only the
// first time the name is seen (LoadOrStore); after that, each event is an
// Add on that name's per-CPU counter, and no lock is taken.
//
//	go run ./examples/metrics-aggregator
package main

import (
	"cmp"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"

	"github.com/breakeven-go/breakeven/shard"
)

func main() {
	if err := run(os.Stdout, 4, 100_000); err != nil {
		log.Fatal(err)
	}
}

// aggregator is the counting state, safe for concurrent use.
type aggregator struct {
	byName *shard.Map[string, *shard.Counter]
	total  *shard.Counter
}

func (a *aggregator) record(name string) {
	c, ok := a.byName.Load(name)
	if !ok { // first sighting: one shard lock, once per name
		c, _ = a.byName.LoadOrStore(name, shard.NewCounter())
	}
	c.Add(1)
	a.total.Add(1)
}

func run(out io.Writer, workers, eventsPerWorker int) error {
	const names = 10_000
	a := &aggregator{byName: shard.NewMap[string, *shard.Counter](), total: shard.NewCounter()}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			// Each worker's stream is seeded, so the counts are the same on
			// every run however the goroutines interleave.
			z := rand.NewZipf(rand.New(rand.NewPCG(uint64(w), 42)), 1.1, 1, names-1)
			for range eventsPerWorker {
				a.record("metric-" + strconv.FormatUint(z.Uint64(), 10))
			}
		})
	}
	wg.Wait()

	type row struct {
		name  string
		count int64
	}
	var rows []row
	for name, c := range a.byName.All() {
		rows = append(rows, row{name, c.Load()})
	}
	slices.SortFunc(rows, func(x, y row) int { return cmp.Or(cmp.Compare(y.count, x.count), cmp.Compare(x.name, y.name)) })
	fmt.Fprintf(out, "%d events, %d distinct names; top 5:\n", a.total.Load(), len(rows))
	for _, r := range rows[:min(5, len(rows))] {
		fmt.Fprintf(out, "  %-12s %7d  (%.1f%%)\n", r.name, r.count, 100*float64(r.count)/float64(a.total.Load()))
	}
	st := a.byName.Stats()
	busiest := slices.MaxFunc(st.Shards, func(x, y shard.ShardStats) int { return cmp.Compare(x.Writes, y.Writes) })
	fmt.Fprintf(out, "map writes: %d (one per name) over %d shards, busiest shard %d\n", st.Writes, len(st.Shards), busiest.Writes)
	return nil
}
