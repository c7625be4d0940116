package shard_test

import (
	"testing"

	"github.com/breakeven-go/breakeven/internal/benchutil"
	"github.com/breakeven-go/breakeven/internal/suites"
)

// BenchmarkCounter runs the Counter suite (see internal/suites): shard vs
// atomic vs mutex, GOMAXPROCS goroutines per run. Compare with
//
//	go test -run '^$' -bench Counter -cpu 1,2 -count 6 ./shard | benchstat -col /impl -
func BenchmarkCounter(b *testing.B) { benchutil.Bench(b, suites.Counter()) }
