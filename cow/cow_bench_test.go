package cow_test

import (
	"testing"

	"github.com/breakeven-go/breakeven/internal/benchutil"
	"github.com/breakeven-go/breakeven/internal/suites"
)

// BenchmarkCowValue: cow.Value.Load against a hand-rolled atomic.Pointer
// (the baseline) and an RWMutex-guarded value.
//
//	go test -run '^$' -bench Cow -cpu 1,2 -count 6 ./cow | benchstat -col /impl -
func BenchmarkCowValue(b *testing.B) { benchutil.Bench(b, suites.CowValue()) }

// BenchmarkCowMap: cow.Map against a map under an RWMutex (the baseline)
// and sync.Map, reading with a writer at 0, 1/ms and 1/us, and writing, at
// 16, 1k and 100k keys.
func BenchmarkCowMap(b *testing.B) { benchutil.Bench(b, suites.CowMap()) }
