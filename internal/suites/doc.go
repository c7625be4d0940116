// Package suites registers every primitive's breakeven suite: its workloads,
// its baseline and its implementations. The package benchmarks
// (BenchmarkCounter in shard, …) and cmd/breakeven both read them from
// here, so there is one source of truth for every workload.
package suites

import "github.com/breakeven-go/breakeven/internal/benchutil"

// All returns every registered suite, in the order cmd/breakeven reports
// them.
func All() []benchutil.Suite {
	return []benchutil.Suite{
		Counter(),
		Map(),
		CowValue(),
		CowMap(),
		Fanout(),
		Stream(),
		Hedge(),
		Shed(),
		Bytes(),
		Pool(),
		RateLimit(),
		Keyed(),
	}
}
