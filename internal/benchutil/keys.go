package benchutil

import (
	"fmt"
	"math/rand/v2"
)

// StringKeys returns n distinct keys "key-0", "key-1", … in that order.
func StringKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%d", i)
	}
	return keys
}

// Dist is a distribution of key popularity.
type Dist struct {
	Name string  // "uniform", "zipf1.1": used in workload names
	S    float64 // Zipf exponent (> 1); 0 means uniform
}

// Uniform picks every key equally often.
var Uniform = Dist{Name: "uniform"}

// Zipf picks key i with probability proportional to 1/(i+1)^s, the skew of
// real traffic (a few hot keys); s must be > 1.
func Zipf(s float64) Dist {
	if s <= 1 {
		panic(fmt.Sprintf("benchutil: Zipf(%v): exponent must be > 1", s))
	}
	return Dist{Name: fmt.Sprintf("zipf%g", s), S: s}
}

// Indexes returns length draws from [0, keys) under d, repeatable for a seed.
// Workloads precompute them so the timed loop pays only a slice read.
func (d Dist) Indexes(seed uint64, keys, length int) []int32 {
	r := rand.New(rand.NewPCG(seed, 0x9E3779B97F4A7C15))
	out := make([]int32, length)
	if d.S == 0 {
		for i := range out {
			out[i] = int32(r.IntN(keys))
		}
		return out
	}
	z := rand.NewZipf(r, d.S, 1, uint64(keys-1))
	for i := range out {
		out[i] = int32(z.Uint64())
	}
	return out
}
