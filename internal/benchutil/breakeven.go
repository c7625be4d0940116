package benchutil

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Class is what a RatioPoint's interval says about the primitive against
// its baseline at one x.
type Class string

// The classes, judged on the interval of the median ratio against the tie
// band [1-Tie, 1+Tie]:
const (
	Win          Class = "win"          // the whole interval is better than the band
	Lose         Class = "lose"         // the whole interval is worse than the band
	Tie          Class = "tie"          // the whole interval is inside the band
	Inconclusive Class = "inconclusive" // it straddles an edge of the band: more rounds needed
)

// TieBand is the margin within which two values count as the same: a
// primitive wins or loses only when the interval of its ratio lies wholly
// outside 1±TieBand.
const TieBand = 0.05

// Classify puts an interval [lo, hi] of ratios in its class; higherIsBetter
// says which way the values improve.
func Classify(lo, hi float64, higherIsBetter bool) Class {
	switch {
	case lo >= 1-TieBand && hi <= 1+TieBand:
		return Tie
	case hi < 1-TieBand:
		if higherIsBetter {
			return Lose
		}
		return Win
	case lo > 1+TieBand:
		if higherIsBetter {
			return Win
		}
		return Lose
	}
	return Inconclusive
}

// Definite reports whether c says something: win, lose or tie.
func (c Class) Definite() bool { return c == Win || c == Lose || c == Tie }

// Verdict says where a primitive beats its baseline along a sweep: of
// goroutine counts (ns/op suites) or of a Metric suite's Xs.
type Verdict struct {
	// From is the smallest x from which the primitive wins at every larger
	// x measured; 0 when it does not win at the last x.
	From int `json:"from"`
	// Ratios is the primitive's value over the baseline's at each x, in the
	// order of the sweep (the median over rounds: Points[i].Ratio).
	Ratios []float64 `json:"ratios"`
	// Xs is the sweep the ratios belong to.
	Xs []int `json:"xs"`
	// HigherIsBetter is set for metrics such as goodput, where a ratio
	// above 1 is a win; for costs (ns/op, latency) below 1 is.
	HigherIsBetter bool `json:"higher_is_better,omitempty"`
	// Points is the verdict at each x: ratio, interval and class.
	Points []RatioPoint `json:"points"`
}

// NewVerdict builds a Verdict from its points, in sweep order.
func NewVerdict(points []RatioPoint, higherIsBetter bool) Verdict {
	v := Verdict{HigherIsBetter: higherIsBetter, Points: points}
	for _, p := range points {
		v.Xs = append(v.Xs, p.X)
		v.Ratios = append(v.Ratios, p.Ratio)
	}
	for i := len(points) - 1; i >= 0 && points[i].Class == Win; i-- {
		v.From = points[i].X
	}
	return v
}

// Count returns how many points are in class c.
func (v Verdict) Count(c Class) int {
	n := 0
	for _, p := range v.Points {
		if p.Class == c {
			n++
		}
	}
	return n
}

// Names are what a verdict's sentence talks about.
type Names struct {
	Primitive, Baseline string // "shard.Counter", "atomic.Int64"
	XName               string // the sweep: "goroutines", "load %"
	Metric              string // "" for a cost (ns/op), or "p99-ms", "goodput"
	// Full is set in a -full run, whose undecided points cannot be helped
	// by rerunning with -full.
	Full bool
}

// Sentence says the verdict in one short line from the classes of its
// points, e.g. "shard.Counter beats atomic.Int64 from 2 goroutines on
// (R at 4 goroutines); at 1 goroutine it costs R", R a Ratio. A point whose
// interval straddles a band edge is called undecided, with its interval,
// never folded into a crossover.
func (v Verdict) Sentence(n Names) string {
	ps := v.Points
	if len(ps) == 0 {
		return fmt.Sprintf("%s vs %s: no comparable measurements", n.Primitive, n.Baseline)
	}
	at := func(i int) string { return XPoint(n.XName, ps[i].X) }
	fig := func(i int) string {
		if n.Metric != "" {
			return n.Metric + " " + Ratio(ps[i].Ratio)
		}
		return Ratio(ps[i].Ratio)
	}
	var wins, losses, ties, undecided []int
	for i, p := range ps {
		switch p.Class {
		case Win:
			wins = append(wins, i)
		case Lose:
			losses = append(losses, i)
		case Tie:
			ties = append(ties, i)
		default:
			undecided = append(undecided, i)
		}
	}
	last := len(ps) - 1
	list := func(is []int, withFig bool) string {
		var parts []string
		for _, i := range is {
			if withFig {
				parts = append(parts, fmt.Sprintf("%s (%s)", at(i), fig(i)))
			} else {
				parts = append(parts, at(i))
			}
		}
		return strings.Join(parts, ", ")
	}
	costs := func(i int) string {
		if n.Metric != "" {
			return "its " + fig(i)
		}
		return "it costs " + fig(i)
	}
	// extreme returns the point of is furthest from 1 (the best win, the
	// worst loss).
	extreme := func(is []int) int {
		best := is[0]
		for _, i := range is {
			if math.Abs(math.Log(ps[i].Ratio)) > math.Abs(math.Log(ps[best].Ratio)) {
				best = i
			}
		}
		return best
	}
	var s string
	switch {
	case len(ties) == len(ps) && len(ps) == 1:
		s = fmt.Sprintf("%s matches %s (within %.0f%%) at %s", n.Primitive, n.Baseline, TieBand*100, at(0))
	case len(ties) == len(ps):
		s = fmt.Sprintf("%s matches %s (within %.0f%%) at every point up to %s", n.Primitive, n.Baseline, TieBand*100, at(last))
	case len(wins) == len(ps) && len(ps) == 1, len(losses) == len(ps) && len(ps) == 1:
		verb := "beats"
		if len(losses) == 1 {
			verb = "loses to"
		}
		s = fmt.Sprintf("%s %s %s at %s: %s", n.Primitive, verb, n.Baseline, at(0), costs(0))
	case len(wins) == len(ps), len(losses) == len(ps):
		verb := "beats"
		if len(losses) == len(ps) {
			verb = "loses to"
		}
		s = fmt.Sprintf("%s %s %s at every point: %s at %s, %s at %s", n.Primitive, verb, n.Baseline,
			fig(0), at(0), fig(last), at(last))
	case len(undecided) == 0 && v.From > ps[0].X && n.Metric == "":
		// A crossover: wins from some x on, and before it only definite
		// losses or ties.
		k := slices.IndexFunc(ps, func(p RatioPoint) bool { return p.X == v.From })
		s = fmt.Sprintf("%s beats %s from %s on (%s at %s)", n.Primitive, n.Baseline, at(k), fig(last), at(last))
		var before []int
		for i := range k {
			if ps[i].Class == Lose {
				before = append(before, i)
			}
		}
		if len(before) > 0 {
			w := extreme(before)
			s += fmt.Sprintf("; at %s %s", at(w), costs(w))
		} else {
			s += "; below that it matches it"
		}
	default:
		var parts []string
		switch {
		case len(wins) == 1:
			parts = append(parts, fmt.Sprintf("beats %s at %s (%s)", n.Baseline, at(wins[0]), fig(wins[0])))
		case len(wins) > 1:
			b := extreme(wins)
			parts = append(parts, fmt.Sprintf("beats %s at %s (%s at %s)", n.Baseline, list(wins, false), fig(b), at(b)))
		}
		if len(ties) > 0 {
			parts = append(parts, fmt.Sprintf("matches it at %s", list(ties, false)))
		}
		if len(losses) > 0 {
			parts = append(parts, fmt.Sprintf("loses at %s", list(losses, true)))
		}
		s = n.Primitive + " " + strings.Join(parts, "; ")
		if len(wins) == 0 && len(ties) == 0 && len(losses) == 0 {
			s = n.Primitive + " vs " + n.Baseline + ":"
		}
	}
	if len(undecided) > 0 {
		var parts []string
		for _, i := range undecided {
			parts = append(parts, fmt.Sprintf("%s (%s to %s)", at(i), Ratio(ps[i].Lo), Ratio(ps[i].Hi)))
		}
		sep := "; "
		if strings.HasSuffix(s, ":") {
			sep = " "
		}
		s += sep + "undecided at " + strings.Join(parts, ", ")
		if n.Full {
			s += " (too noisy on this machine)"
		} else {
			s += ": rerun with -full"
		}
	}
	return s
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

// Ratio formats a cost ratio the way the reports quote it: two significant
// digits (three from 10 on) and an "x".
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
