// Package benchutil is the breakeven kit: the one harness that measures a
// workload against several implementations side by side, for both
// `go test -bench` and cmd/breakeven.
//
// A [Suite] describes one primitive: its workloads, and for each workload the
// implementations to compare (the baseline always among them). The suites
// themselves live in internal/suites; primitive packages never import this
// package, so dependencies point one way.
//
// Benchmark names follow Benchmark<Suite>/<workload>/impl=<name>, with
// GOMAXPROCS goroutines per run, so `go test -bench . -cpu 1,2` and benchstat
// read them as usual. cmd/breakeven instead holds GOMAXPROCS fixed and sweeps
// the number of goroutines with [MeasurePaired]: at each point it runs every
// implementation once per round, in a shuffled order, takes the primitive's
// ratio to the baseline per round, and reports the median ratio with a 95%
// interval from order statistics ([MedianCI]) and its [Class]. Two runs are
// compared with a Mann-Whitney U test ([MannWhitneyP]).
package benchutil
