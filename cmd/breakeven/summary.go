package main

import (
	"fmt"
	"math"
	"strings"

	"github.com/breakeven-go/breakeven/internal/benchutil"
)

// familySummary is one row of the report's first table: a primitive, its
// baseline, and in a few words where it wins, where it loses, and where the
// run could not tell.
type familySummary struct {
	Name, Primitive, Baseline string
	Wins, Losses, Undecided   string // "" when there is none
}

// summarize condenses each suite to one row: for each workload, the best
// ratio among its wins and the worst among its losses (by class, from the
// intervals), each with its x, and the points left inconclusive. A reader
// sees at a glance what to use it for, what to avoid, and what to rerun.
func summarize(suites []SuiteResult) []familySummary {
	var rows []familySummary
	for _, s := range suites {
		row := familySummary{Name: s.Name, Primitive: s.Primitive, Baseline: s.BaselineDesc}
		var wins, losses, undecided []string
		for _, w := range s.Workloads {
			best, worst := -1, -1
			ps := w.Verdict.Points
			// further reports whether point i is further from 1 than j.
			further := func(i, j int) bool { return math.Abs(math.Log(ps[i].Ratio)) > math.Abs(math.Log(ps[j].Ratio)) }
			for i, p := range ps {
				switch p.Class {
				case benchutil.Win:
					if best < 0 || further(i, best) {
						best = i
					}
				case benchutil.Lose:
					if worst < 0 || further(i, worst) {
						worst = i
					}
				case benchutil.Inconclusive:
					undecided = append(undecided, w.Name+" at "+benchutil.XPoint(s.XLabel, p.X))
				}
			}
			if best >= 0 {
				wins = append(wins, fmt.Sprintf("%s %s at %s", w.Name, benchutil.Ratio(ps[best].Ratio), benchutil.XPoint(s.XLabel, ps[best].X)))
			}
			if worst >= 0 {
				losses = append(losses, fmt.Sprintf("%s %s at %s", w.Name, benchutil.Ratio(ps[worst].Ratio), benchutil.XPoint(s.XLabel, ps[worst].X)))
			}
		}
		row.Wins, row.Losses, row.Undecided = strings.Join(wins, "; "), strings.Join(losses, "; "), strings.Join(undecided, "; ")
		rows = append(rows, row)
	}
	return rows
}

// verdictClass colours a verdict: win if the primitive wins somewhere and
// loses nowhere, lose for the reverse, mixed for both; otherwise par when
// every point is a tie, undecided when some point is inconclusive.
func verdictClass(v benchutil.Verdict) string {
	won, lost, undecided := v.Count(benchutil.Win) > 0, v.Count(benchutil.Lose) > 0, v.Count(benchutil.Inconclusive) > 0
	switch {
	case won && lost:
		return "mixed"
	case won:
		return "win"
	case lost:
		return "lose"
	case undecided:
		return "undecided"
	}
	return "par"
}
