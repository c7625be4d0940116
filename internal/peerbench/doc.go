// Package peerbench runs the breakeven suites against the libraries an
// adopter would pick instead (puzpuzpuz/xsync, and more as families land).
// It is a nested module so that the root module never depends on a peer:
// each peer implementation is appended to the root suite's workloads, and
// the benchmarks run primitive, baseline and peers side by side in one run:
//
//	cd internal/peerbench && go test -run '^$' -bench . -cpu 1,2 -count 6 | benchstat -col /impl -
package peerbench
