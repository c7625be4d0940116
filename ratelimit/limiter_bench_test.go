package ratelimit_test

import (
	"testing"

	"github.com/breakeven-go/breakeven/internal/benchutil"
	"github.com/breakeven-go/breakeven/internal/suites"
)

// BenchmarkRateLimit: Limiter.Allow against x/time/rate (the baseline) and
// a mutex GCRA.
//
//	go test -run '^$' -bench RateLimit -cpu 1,2 -count 6 ./ratelimit | benchstat -col /impl -
func BenchmarkRateLimit(b *testing.B) { benchutil.Bench(b, suites.RateLimit()) }

// BenchmarkKeyed: Keyed.Allow over 100k keys against a mutex-guarded map of
// x/time/rate limiters (the baseline).
func BenchmarkKeyed(b *testing.B) { benchutil.Bench(b, suites.Keyed()) }
