package benchutil

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Body runs n operations of a workload on one goroutine. worker numbers the
// goroutines of a run from 0, for per-goroutine state such as a key stream.
// A Body is called from several goroutines at once.
type Body func(worker, n int)

// Trial measures one point of a Metric suite: it runs an implementation at
// x (the suite's XName: offered load, share of slow calls) and returns the
// metric. It stops early, with ctx's error, when ctx is done.
type Trial func(ctx context.Context, x int) (float64, error)

// Impl is one implementation of a workload: a Setup in ns/op suites, a
// Trial in Metric suites.
type Impl struct {
	Name  string      // as in impl=<name>: "atomic", "mutex", "shard"
	Setup func() Body // builds fresh state for one measurement
	Trial Trial
}

// Workload is one way of exercising a primitive, run against every Impl.
type Workload struct {
	Name  string // as in Benchmark<Suite>/<name>/impl=…
	Impls []Impl
}

// Suite is a primitive's set of workloads with its baseline.
type Suite struct {
	Name      string // Benchmark<Name>; also what cmd/breakeven -run matches
	Primitive string // what the report is about, e.g. "shard.Counter"
	Impl      string // impl name of the primitive, e.g. "shard"
	Baseline  string // impl name of the baseline, e.g. "atomic"
	// BaselineDesc names the baseline for a reader, e.g. "atomic.Int64".
	BaselineDesc string
	Workloads    []Workload
	// Goroutines, if positive, is the number of goroutines Bench runs
	// instead of GOMAXPROCS: 1 for primitives that bring their own
	// parallelism (fanout), whose -cpu 2 question is "one call on two
	// cores", not "two calls".
	Goroutines int

	// Metric, if set, is what the suite measures instead of ns/op, for
	// primitives judged by an outcome rather than a cost (p99 latency,
	// goodput): each Impl has a Trial, run at each of Xs. Metric is one
	// word, as in a benchmark unit ("p99-ms", "goodput").
	Metric         string
	HigherIsBetter bool   // the Metric improves upwards (goodput)
	XName          string // what Xs are, as axis label: "load %"
	Xs             []int
}

// Unit is what the suite's values measure: its Metric, or ns/op.
func (s Suite) Unit() string {
	if s.Metric != "" {
		return s.Metric
	}
	return "ns/op"
}

// XLabel names the suite's x axis: its XName, or goroutines.
func (s Suite) XLabel() string {
	if s.Metric != "" {
		return s.XName
	}
	return "goroutines"
}

// XKey turns an axis label into a benchmark name key: "load %" → "load%",
// as in BenchmarkShed/overload/load%=200. go test and cmd/breakeven's
// -benchfmt output use the same keys.
func XKey(label string) string { return strings.ReplaceAll(label, " ", "") }

// Validate reports a suite whose workloads lack its primitive or baseline,
// or repeat a name, so a broken registration fails a test, not a report.
func (s Suite) Validate() error {
	if s.Name == "" || s.Impl == "" || s.Baseline == "" || len(s.Workloads) == 0 {
		return fmt.Errorf("benchutil: suite %q: Name, Impl, Baseline and Workloads are required", s.Name)
	}
	if s.Metric != "" && (s.XName == "" || len(s.Xs) == 0) {
		return fmt.Errorf("benchutil: suite %q: a Metric suite needs XName and Xs", s.Name)
	}
	seen := map[string]bool{}
	for _, w := range s.Workloads {
		if seen[w.Name] {
			return fmt.Errorf("benchutil: suite %q: workload %q registered twice", s.Name, w.Name)
		}
		seen[w.Name] = true
		if w.Impl(s.Impl) == nil || w.Impl(s.Baseline) == nil {
			return fmt.Errorf("benchutil: suite %q: workload %q lacks impl %q or baseline %q",
				s.Name, w.Name, s.Impl, s.Baseline)
		}
		names := map[string]bool{}
		for _, im := range w.Impls {
			if names[im.Name] {
				return fmt.Errorf("benchutil: suite %q: workload %q: impl %q repeated", s.Name, w.Name, im.Name)
			}
			if (s.Metric == "" && im.Setup == nil) || (s.Metric != "" && im.Trial == nil) {
				return fmt.Errorf("benchutil: suite %q: workload %q: impl %q needs a Setup (ns/op suites) or a Trial (Metric suites)",
					s.Name, w.Name, im.Name)
			}
			names[im.Name] = true
		}
	}
	return nil
}

// Impl returns the implementation named name, or nil.
func (w Workload) Impl(name string) *Impl {
	for i := range w.Impls {
		if w.Impls[i].Name == name {
			return &w.Impls[i]
		}
	}
	return nil
}

// Bench runs every workload of s against every implementation as
// sub-benchmarks Benchmark<Suite>/<workload>/impl=<name>. Each run spreads
// b.N operations over GOMAXPROCS goroutines (or s.Goroutines), as
// b.RunParallel does, so -cpu sets the parallelism. A Metric suite runs
// Benchmark<Suite>/<workload>/<x>/impl=<name> instead: b.N Trials, their
// mean reported in the Metric's unit.
func Bench(b *testing.B, s Suite) {
	if err := s.Validate(); err != nil {
		b.Fatal(err)
	}
	if s.Metric != "" {
		benchTrials(b, s)
		return
	}
	for _, w := range s.Workloads {
		b.Run(w.Name, func(b *testing.B) {
			for _, im := range w.Impls {
				b.Run("impl="+im.Name, func(b *testing.B) {
					b.ReportAllocs()
					g := runtime.GOMAXPROCS(0)
					if s.Goroutines > 0 {
						g = s.Goroutines
					}
					body := im.Setup()
					// Collect now, so the timed loop does not pay for the garbage
					// the previous implementation's setup and run left.
					runtime.GC()
					b.ResetTimer()
					RunOps(body, g, b.N)
				})
			}
		})
	}
}

func benchTrials(b *testing.B, s Suite) {
	for _, w := range s.Workloads {
		b.Run(w.Name, func(b *testing.B) {
			for _, x := range s.Xs {
				b.Run(fmt.Sprintf("%s=%d", XKey(s.XName), x), func(b *testing.B) {
					for _, im := range w.Impls {
						b.Run("impl="+im.Name, func(b *testing.B) {
							sum := 0.0
							for range b.N {
								v, err := im.Trial(b.Context(), x)
								if err != nil {
									b.Fatal(err)
								}
								sum += v
							}
							b.ReportMetric(sum/float64(b.N), s.Metric)
						})
					}
				})
			}
		})
	}
}

// RunOps runs total operations of body spread evenly over g goroutines and
// returns when all are done. The goroutines start together, so the first
// does not run alone while the others are being created.
func RunOps(body Body, g, total int) {
	if g == 1 {
		body(0, total)
		return
	}
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(g)
	done.Add(g)
	for w := range g {
		n := total / g
		if w < total%g {
			n++
		}
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			body(w, n)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
}
