package main

import (
	"fmt"
	"strings"

	"github.com/breakeven-go/breakeven/internal/benchutil"
)

// familySummary is one row of the report's first table: a primitive, its
// baseline, and in a few words where it wins and where it loses.
type familySummary struct {
	Name, Primitive, Baseline string
	Wins, Losses              string // "" when there is none
}

// summarize condenses each suite to one row: for each workload, the best
// ratio where the primitive wins (beyond the tie band) and the worst where
// it loses, each with its x. A reader sees at a glance what to use it for
// and what to avoid.
func summarize(suites []SuiteResult) []familySummary {
	var rows []familySummary
	for _, s := range suites {
		row := familySummary{Name: s.Name, Primitive: s.Primitive, Baseline: s.BaselineDesc}
		var wins, losses []string
		for _, w := range s.Workloads {
			v := w.Verdict
			best, worst := -1, -1
			for i, r := range v.Ratios {
				// For costs a lower ratio is better; for goodput a higher.
				lower := func(j int) bool { return (r < v.Ratios[j]) != v.HigherIsBetter }
				if v.Better(r) && (best < 0 || lower(best)) {
					best = i
				}
				if v.Worse(r) && (worst < 0 || !lower(worst)) {
					worst = i
				}
			}
			if best >= 0 {
				wins = append(wins, fmt.Sprintf("%s %s at %s", w.Name, benchutil.Ratio(v.Ratios[best]), benchutil.XPoint(s.XLabel, v.Xs[best])))
			}
			if worst >= 0 {
				losses = append(losses, fmt.Sprintf("%s %s at %s", w.Name, benchutil.Ratio(v.Ratios[worst]), benchutil.XPoint(s.XLabel, v.Xs[worst])))
			}
		}
		row.Wins, row.Losses = strings.Join(wins, "; "), strings.Join(losses, "; ")
		rows = append(rows, row)
	}
	return rows
}

// verdictClass colours a verdict: win if the primitive wins somewhere and
// loses nowhere, lose for the reverse, mixed for both, par for neither.
func verdictClass(v benchutil.Verdict) string {
	var won, lost bool
	for _, r := range v.Ratios {
		won = won || v.Better(r)
		lost = lost || v.Worse(r)
	}
	switch {
	case won && lost:
		return "mixed"
	case won:
		return "win"
	case lost:
		return "lose"
	}
	return "par"
}
