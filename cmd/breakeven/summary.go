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
	Wins, Losses              string
}

// summarize condenses each suite to one row. Wins lists the workloads the
// primitive wins at the largest x measured (every core busy, or the
// heaviest load), with that ratio; Losses the workloads where some x is
// worse than the baseline beyond the tie band, with the worst ratio and
// its x. A reader sees at a glance what to use it for and what to avoid.
func summarize(suites []SuiteResult) []familySummary {
	var rows []familySummary
	for _, s := range suites {
		row := familySummary{Name: s.Name, Primitive: s.Primitive, Baseline: s.BaselineDesc}
		var wins, losses []string
		for _, w := range s.Workloads {
			v := w.Verdict
			if len(v.Ratios) == 0 {
				continue
			}
			if last := v.Ratios[len(v.Ratios)-1]; v.Better(last) {
				wins = append(wins, fmt.Sprintf("%s %s", w.Name, benchutil.Ratio(last)))
			}
			worst := -1
			for i, r := range v.Ratios {
				if v.Worse(r) && (worst < 0 || (r > v.Ratios[worst]) != v.HigherIsBetter) {
					worst = i
				}
			}
			if worst >= 0 {
				losses = append(losses, fmt.Sprintf("%s %s at %s", w.Name, benchutil.Ratio(v.Ratios[worst]), xAt(s, v.Xs[worst])))
			}
		}
		row.Wins, row.Losses = orNone(wins), orNone(losses)
		rows = append(rows, row)
	}
	return rows
}

// xAt names one point of a suite's sweep: "1 goroutine", "load 50%".
func xAt(s SuiteResult, x int) string {
	if s.XLabel == "goroutines" {
		if x == 1 {
			return "1 goroutine"
		}
		return fmt.Sprintf("%d goroutines", x)
	}
	if name, ok := strings.CutSuffix(s.XLabel, " %"); ok {
		return fmt.Sprintf("%s %d%%", name, x)
	}
	return fmt.Sprintf("%s %d", s.XLabel, x)
}

func orNone(items []string) string {
	if len(items) == 0 {
		return "none measured"
	}
	return strings.Join(items, "; ")
}
