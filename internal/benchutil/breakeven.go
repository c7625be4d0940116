package benchutil

import (
	"fmt"
	"strings"
)

// Verdict says where a primitive beats its baseline along a goroutine sweep.
type Verdict struct {
	// From is the smallest goroutine count from which the primitive is
	// cheaper than the baseline (by more than Tie) at every larger count
	// measured; 0 when it is not cheaper at the last count.
	From int `json:"from"`
	// Ratios is primitive ns/op over baseline ns/op at each count, in the
	// order of the sweep.
	Ratios []float64 `json:"ratios"`
	// Goroutines is the sweep the ratios belong to.
	Goroutines []int `json:"goroutines"`
}

// Compare pairs the points of the baseline and the primitive by goroutine
// count. Counts missing from either side are skipped.
func Compare(base, prim []Point) Verdict {
	var v Verdict
	byG := map[int]float64{}
	for _, p := range base {
		byG[p.Goroutines] = p.NsPerOp
	}
	for _, p := range prim {
		b, ok := byG[p.Goroutines]
		if !ok || b <= 0 {
			continue
		}
		v.Goroutines = append(v.Goroutines, p.Goroutines)
		v.Ratios = append(v.Ratios, p.NsPerOp/b)
	}
	for i := len(v.Ratios) - 1; i >= 0 && v.Ratios[i] < 1-Tie; i-- {
		v.From = v.Goroutines[i]
	}
	return v
}

// Tie is the margin within which two costs count as the same: a primitive
// "beats" its baseline only below 1-Tie of its cost. Quick runs on a shared
// machine wobble by a few percent; a 0.97x is not a win.
const Tie = 0.05

// OnPar reports whether every ratio is within Tie of 1.
func (v Verdict) OnPar() bool {
	for _, r := range v.Ratios {
		if r < 1-Tie || r > 1+Tie {
			return false
		}
	}
	return true
}

// Sentence says the verdict in one line, e.g. "shard.Counter beats
// atomic.Int64 from 2 goroutines on; alone it costs 1.6x".
func (v Verdict) Sentence(primitive, baseline string) string {
	if len(v.Ratios) == 0 {
		return fmt.Sprintf("%s vs %s: no comparable measurements", primitive, baseline)
	}
	first, last := v.Ratios[0], v.Ratios[len(v.Ratios)-1]
	alone := ""
	if v.Goroutines[0] == 1 {
		alone = "alone"
	} else {
		alone = fmt.Sprintf("at %d goroutines", v.Goroutines[0])
	}
	var b strings.Builder
	if len(v.Ratios) == 1 {
		g := v.Goroutines[0]
		switch {
		case v.OnPar():
			fmt.Fprintf(&b, "%s costs the same as %s (within %.0f%%) at %d goroutine(s)", primitive, baseline, Tie*100, g)
		case first < 1:
			fmt.Fprintf(&b, "%s beats %s at %d goroutine(s): it costs %s", primitive, baseline, g, Ratio(first))
		default:
			fmt.Fprintf(&b, "%s loses to %s at %d goroutine(s): it costs %s", primitive, baseline, g, Ratio(first))
		}
		return b.String()
	}
	switch {
	case v.OnPar():
		fmt.Fprintf(&b, "%s costs the same as %s (within %.0f%%) at every point measured, 1 to %d goroutines",
			primitive, baseline, Tie*100, v.Goroutines[len(v.Goroutines)-1])
	case v.From == 0:
		fmt.Fprintf(&b, "%s does not beat %s up to %d goroutines on this machine; at %d it costs %s",
			primitive, baseline, v.Goroutines[len(v.Goroutines)-1], v.Goroutines[len(v.Goroutines)-1], Ratio(last))
	case v.From == v.Goroutines[0]:
		fmt.Fprintf(&b, "%s beats %s at every point measured; %s it costs %s, at %d goroutines %s",
			primitive, baseline, alone, Ratio(first), v.Goroutines[len(v.Goroutines)-1], Ratio(last))
	default:
		fmt.Fprintf(&b, "%s beats %s from %d goroutines on (%s at %d); %s it costs %s",
			primitive, baseline, v.From, Ratio(last), v.Goroutines[len(v.Goroutines)-1], alone, Ratio(first))
	}
	return b.String()
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
	return fmt.Sprintf("%.2gx", r) // 0.0031x, not 0.00x

}
