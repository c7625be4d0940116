package benchutil

import (
	"math"
	"slices"
)

// Confidence is the level of every interval the kit reports, as benchstat's
// default.
const Confidence = 0.95

// MinRounds is the smallest sample whose median has a distribution-free
// interval at Confidence: with 6 values, [min, max] holds the median with
// probability 1 - 2/2⁶ ≈ 0.969; with 5 only 0.9375.
const MinRounds = 6

// MedianCI returns the median of xs and a distribution-free confidence
// interval for it at level conf, from order statistics (as benchstat
// does): the widest-inside pair [x(k), x(n+1-k)] whose coverage
// 1 - 2·P(Binomial(n, ½) < k) is at least conf. ok is false when xs is too
// small for conf; lo and hi are then its min and max.
func MedianCI(xs []float64, conf float64) (med, lo, hi float64, ok bool) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN(), math.NaN(), false
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	med = median(s)
	// k counts order statistics cut from each end; coverage falls as k
	// grows, so take the largest k that still reaches conf.
	k := -1
	tail := 0.0 // P(B <= j) for B ~ Binomial(n, 1/2), j = k
	for j := 0; 2*j < n; j++ {
		tail += binomHalf(n, j)
		if 1-2*tail < conf {
			break
		}
		k = j
	}
	if k < 0 {
		return med, s[0], s[n-1], false
	}
	return med, s[k], s[n-1-k], true
}

// binomHalf is P(B = j) for B ~ Binomial(n, 1/2).
func binomHalf(n, j int) float64 {
	lg := func(x int) float64 { v, _ := math.Lgamma(float64(x + 1)); return v }
	return math.Exp(lg(n) - lg(j) - lg(n-j) - float64(n)*math.Ln2)
}

// MannWhitneyP is the two-sided p-value of a Mann-Whitney U test of
// whether a and b come from the same distribution (benchstat's test for
// "did it change"). It is exact for small samples without ties and uses
// the normal approximation with a tie correction otherwise. It returns 1
// when either sample is empty.
func MannWhitneyP(a, b []float64) float64 {
	n1, n2 := len(a), len(b)
	if n1 == 0 || n2 == 0 {
		return 1
	}
	type obs struct {
		v    float64
		inA  bool
		rank float64
	}
	all := make([]obs, 0, n1+n2)
	for _, v := range a {
		all = append(all, obs{v: v, inA: true})
	}
	for _, v := range b {
		all = append(all, obs{v: v})
	}
	slices.SortFunc(all, func(x, y obs) int {
		switch {
		case x.v < y.v:
			return -1
		case x.v > y.v:
			return 1
		}
		return 0
	})
	ties := false
	tieTerm := 0.0 // Σ (t³ - t) over groups of tied values
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		r := float64(i+j+1) / 2 // mean of ranks i+1 .. j
		for k := i; k < j; k++ {
			all[k].rank = r
		}
		if t := float64(j - i); t > 1 {
			ties = true
			tieTerm += t*t*t - t
		}
		i = j
	}
	ra := 0.0
	for _, o := range all {
		if o.inA {
			ra += o.rank
		}
	}
	u := ra - float64(n1*(n1+1))/2
	mean := float64(n1*n2) / 2
	if !ties && n1 <= 50 && n2 <= 50 {
		return exactUP(n1, n2, u)
	}
	n := float64(n1 + n2)
	sd := math.Sqrt(float64(n1*n2) / 12 * ((n + 1) - tieTerm/(n*(n-1))))
	if sd == 0 {
		return 1
	}
	z := (math.Abs(u-mean) - 0.5) / sd // continuity correction
	if z < 0 {
		z = 0
	}
	return math.Min(1, math.Erfc(z/math.Sqrt2))
}

// exactUP is the two-sided p-value of U under the null hypothesis, from the
// exact distribution of U (counts of rank arrangements by U value).
func exactUP(n1, n2 int, u float64) float64 {
	// cnt[i][j][v]: arrangements of i values of a and j of b with U = v,
	// built one row at a time.
	maxU := n1 * n2
	prev := make([][]float64, n2+1) // i-1
	for j := range prev {
		prev[j] = make([]float64, maxU+1)
		prev[j][0] = 1 // no value of a: U = 0
	}
	for i := 1; i <= n1; i++ {
		cur := make([][]float64, n2+1)
		for j := range cur {
			cur[j] = make([]float64, maxU+1)
			for v := 0; v <= i*j; v++ {
				// The largest value is from a (it beats all j of b) or from b.
				if v >= j {
					cur[j][v] += prev[j][v-j]
				}
				if j > 0 {
					cur[j][v] += cur[j-1][v]
				}
			}
		}
		prev = cur
	}
	dist := prev[n2]
	total := 0.0
	for _, c := range dist {
		total += c
	}
	mean := float64(maxU) / 2
	dev := math.Abs(u - mean)
	tail := 0.0
	for v, c := range dist {
		if math.Abs(float64(v)-mean) >= dev-1e-9 {
			tail += c
		}
	}
	return math.Min(1, tail/total)
}
