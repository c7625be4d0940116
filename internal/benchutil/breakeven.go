package benchutil

import (
	"fmt"
	"math"
	"strings"
)

// Verdict says where a primitive beats its baseline along a sweep: of
// goroutine counts (ns/op suites) or of a Metric suite's Xs.
type Verdict struct {
	// From is the smallest x from which the primitive is better than the
	// baseline (by more than Tie) at every larger x measured; 0 when it is
	// not better at the last x.
	From int `json:"from"`
	// Ratios is the primitive's value over the baseline's at each x, in the
	// order of the sweep.
	Ratios []float64 `json:"ratios"`
	// Xs is the sweep the ratios belong to.
	Xs []int `json:"xs"`
	// HigherIsBetter is set for metrics such as goodput, where a ratio
	// above 1 is a win; for costs (ns/op, latency) below 1 is.
	HigherIsBetter bool `json:"higher_is_better,omitempty"`
}

// Compare pairs the points of the baseline and the primitive by x. Xs
// missing from either side are skipped. higherIsBetter says which way the
// values improve.
func Compare(base, prim []Point, higherIsBetter bool) Verdict {
	v := Verdict{HigherIsBetter: higherIsBetter}
	byX := map[int]float64{}
	for _, p := range base {
		byX[p.X] = p.Value
	}
	for _, p := range prim {
		b, ok := byX[p.X]
		if !ok || b <= 0 {
			continue
		}
		v.Xs = append(v.Xs, p.X)
		v.Ratios = append(v.Ratios, p.Value/b)
	}
	for i := len(v.Ratios) - 1; i >= 0 && v.Better(v.Ratios[i]); i-- {
		v.From = v.Xs[i]
	}
	return v
}

// Tie is the margin within which two values count as the same: a primitive
// "beats" its baseline only past 1±Tie of its value. Quick runs on a shared
// machine wobble by a few percent; a 0.97x is not a win.
const Tie = 0.05

// Better reports whether ratio r is a win for the primitive beyond Tie.
func (v Verdict) Better(r float64) bool {
	if v.HigherIsBetter {
		return r > 1+Tie
	}
	return r < 1-Tie
}

// Worse reports whether ratio r is a loss for the primitive beyond Tie.
func (v Verdict) Worse(r float64) bool {
	if v.HigherIsBetter {
		return r < 1-Tie
	}
	return r > 1+Tie
}

// OnPar reports whether every ratio is within Tie of 1.
func (v Verdict) OnPar() bool {
	for _, r := range v.Ratios {
		if v.Better(r) || v.Worse(r) {
			return false
		}
	}
	return true
}

// Sentence says the verdict in one line, e.g. "shard.Counter beats
// atomic.Int64 from 2 goroutines on; alone it costs 1.6x". xname names the
// sweep ("goroutines", "load %") and metric what the ratios compare ("" for
// cost, or e.g. "goodput").
func (v Verdict) Sentence(primitive, baseline, xname, metric string) string {
	if len(v.Ratios) == 0 {
		return fmt.Sprintf("%s vs %s: no comparable measurements", primitive, baseline)
	}
	n := len(v.Ratios)
	first, last := v.Ratios[0], v.Ratios[n-1]
	lastX := v.Xs[n-1]
	at := func(x int) string { return XPoint(xname, x) }
	if metric != "" {
		return v.metricSentence(primitive, baseline, metric, at)
	}
	has := func(r float64) string { return "costs " + Ratio(r) }
	alone := "at " + at(v.Xs[0])
	if xname == "goroutines" && v.Xs[0] == 1 {
		alone = "alone"
	}
	var b strings.Builder
	if n == 1 {
		switch {
		case v.OnPar():
			fmt.Fprintf(&b, "%s matches %s (within %.0f%%) at %s", primitive, baseline, Tie*100, at(lastX))
		case v.Better(first):
			fmt.Fprintf(&b, "%s beats %s at %s: it %s", primitive, baseline, at(lastX), has(first))
		default:
			fmt.Fprintf(&b, "%s loses to %s at %s: it %s", primitive, baseline, at(lastX), has(first))
		}
		return b.String()
	}
	switch {
	case v.OnPar():
		fmt.Fprintf(&b, "%s matches %s (within %.0f%%) at every point measured, up to %s",
			primitive, baseline, Tie*100, at(lastX))
	case v.From == 0:
		fmt.Fprintf(&b, "%s does not beat %s up to %s on this machine; there it %s",
			primitive, baseline, at(lastX), has(last))
	case v.From == v.Xs[0]:
		fmt.Fprintf(&b, "%s beats %s at every point measured; %s it %s, at %s it %s",
			primitive, baseline, alone, has(first), at(lastX), has(last))
	default:
		fmt.Fprintf(&b, "%s beats %s from %s on (it %s at %s); %s it %s",
			primitive, baseline, at(v.From), has(last), at(lastX), alone, has(first))
	}
	return b.String()
}

// metricSentence says a Metric suite's verdict point by point, since its
// axis (share of slow calls, offered load) need not have one crossover:
// "hedge.Do beats unhedged calls at slow 1%, slow 5% (its p99-ms: 0.10x at
// slow 5%); matches it at slow 10%".
func (v Verdict) metricSentence(primitive, baseline, metric string, at func(int) string) string {
	var wins, ties, losses []string
	lastWin := -1
	for i, r := range v.Ratios {
		switch {
		case v.Better(r):
			wins = append(wins, at(v.Xs[i]))
			lastWin = i
		case v.Worse(r):
			losses = append(losses, fmt.Sprintf("%s (%s)", at(v.Xs[i]), Ratio(r)))
		default:
			ties = append(ties, at(v.Xs[i]))
		}
	}
	var parts []string
	if len(wins) > 0 {
		parts = append(parts, fmt.Sprintf("beats %s at %s (its %s: %s at %s)", baseline, strings.Join(wins, ", "),
			metric, Ratio(v.Ratios[lastWin]), at(v.Xs[lastWin])))
	}
	if len(ties) > 0 {
		parts = append(parts, fmt.Sprintf("matches %s (within %.0f%%) at %s", baseline, Tie*100, strings.Join(ties, ", ")))
	}
	if len(losses) > 0 {
		parts = append(parts, fmt.Sprintf("loses to %s at %s", baseline, strings.Join(losses, ", ")))
	}
	return primitive + " " + strings.Join(parts, "; ")
}

// XPoint names one point of a sweep for a reader: "1 goroutine",
// "4 goroutines", "load 200%" (for an XName ending in " %"), "slow 5%".
func XPoint(xname string, x int) string {
	if xname == "goroutines" {
		if x == 1 {
			return "1 goroutine"
		}
		return fmt.Sprintf("%d goroutines", x)
	}
	if name, ok := strings.CutSuffix(xname, " %"); ok {
		return fmt.Sprintf("%s %d%%", name, x)
	}
	return fmt.Sprintf("%s %d", xname, x)
}

// Ratio formats a cost ratio the way the reports quote it: "0.21x", "1.6x".
func Ratio(r float64) string {
	if r >= 10 {
		return fmt.Sprintf("%.0fx", r)
	}
	if r >= 1 {
		return fmt.Sprintf("%.1fx", r)
	}
	if r >= 0.01 {
		return fmt.Sprintf("%.2fx", r)
	}
	// Two significant digits in plain decimals: 0.0031x, 0.000063x (not
	// 0.00x, nor 6.3e-05x).
	decimals := 1 - int(math.Floor(math.Log10(r)))
	if r <= 0 || decimals > 12 {
		return fmt.Sprintf("%.2gx", r)
	}
	return fmt.Sprintf("%.*fx", decimals, r)

}
