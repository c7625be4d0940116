package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/breakeven-go/breakeven/internal/benchutil"
)

// alpha is the significance level of -compare: a change counts when the
// Mann-Whitney U test's p-value is below it (benchstat's default) and the
// two runs' 95% intervals do not overlap. A report has a hundred points;
// at p < 0.05 alone, noise would fail a run or two every time, so the exit
// status asks for both.
const alpha = 0.05

// errRegression makes the command exit 1 after -compare has printed its
// table: some ratio got significantly worse by more than the threshold.
var errRegression = errors.New("a ratio got significantly worse")

// change is one point of -compare: the primitive's ratio to its baseline
// at one x in both runs.
type change struct {
	Name           string // Suite/workload
	XLabel         string
	Old, New       benchutil.RatioPoint
	HigherIsBetter bool
}

// worse is how much worse the new ratio is, as a fraction: +0.10 is 10%
// worse, -0.5 twice as good (halved cost, or doubled goodput).
func (c change) worse() float64 {
	if c.Old.Ratio <= 0 || c.New.Ratio <= 0 {
		return 0
	}
	if c.HigherIsBetter {
		return c.Old.Ratio/c.New.Ratio - 1
	}
	return c.New.Ratio/c.Old.Ratio - 1
}

// p is the significance of the change: a Mann-Whitney U test on the ratios
// of the two runs' rounds. A run without rounds (or too few) falls back to
// whether the two intervals are apart: 0 if so, 1 if they overlap.
func (c change) p() float64 {
	if len(c.Old.Rounds) >= 3 && len(c.New.Rounds) >= 3 {
		return benchutil.MannWhitneyP(c.Old.Rounds, c.New.Rounds)
	}
	if c.apart() {
		return 0
	}
	return 1
}

// apart reports whether the two runs' 95% intervals do not overlap.
func (c change) apart() bool { return c.Old.Hi < c.New.Lo || c.New.Hi < c.Old.Lo }

// contradicts reports whether the two runs gave the point definite classes
// that differ (win in one, tie in the other).
func (c change) contradicts() bool {
	return c.Old.Class.Definite() && c.New.Class.Definite() && c.Old.Class != c.New.Class
}

// parseThreshold reads "5%", "5" (percent) or "0.05".
func parseThreshold(s string) (float64, error) {
	t := strings.TrimSpace(s)
	pct := strings.HasSuffix(t, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(t, "%"), 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("-threshold %q: want a percentage such as 5%%", s)
	}
	if pct || v >= 1 {
		v /= 100
	}
	return v, nil
}

func readReport(path string) (Report, error) {
	var rep Report
	data, err := os.ReadFile(path)
	if err != nil {
		return rep, err
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		return rep, fmt.Errorf("%s: not a breakeven -json report: %w", path, err)
	}
	return rep, nil
}

// changes pairs the points of two reports by suite, workload and x, in the
// new report's order; points in only one of them are counted apart.
func changes(old, cur Report) (cs []change, unmatched int) {
	type key struct {
		name string
		x    int
	}
	olds := map[key]benchutil.RatioPoint{}
	for _, s := range old.Suites {
		for _, w := range s.Workloads {
			for _, p := range w.Verdict.Points {
				olds[key{s.Name + "/" + w.Name, p.X}] = p
			}
		}
	}
	matched := 0
	for _, s := range cur.Suites {
		for _, w := range s.Workloads {
			for _, p := range w.Verdict.Points {
				k := key{s.Name + "/" + w.Name, p.X}
				o, ok := olds[k]
				if !ok {
					unmatched++
					continue
				}
				matched++
				cs = append(cs, change{Name: k.name, XLabel: s.XLabel, Old: o, New: p, HigherIsBetter: s.HigherIsBetter})
			}
		}
	}
	return cs, unmatched + len(olds) - matched
}

// compareFiles prints the change of every point from the run in oldPath to
// the run in newPath, and returns errRegression when one got significantly
// worse by more than threshold.
func compareFiles(w io.Writer, oldPath, newPath string, threshold float64) error {
	old, err := readReport(oldPath)
	if err != nil {
		return err
	}
	cur, err := readReport(newPath)
	if err != nil {
		return err
	}
	cs, unmatched := changes(old, cur)
	if len(cs) == 0 {
		return fmt.Errorf("-compare: %s and %s have no point in common (reports need per-point verdicts, from this version's -json)", oldPath, newPath)
	}
	fmt.Fprintf(w, "old: %s (%s run, %s)\nnew: %s (%s run, %s)\n", old.Machine, old.Mode, old.Machine.Date.Format("2006-01-02 15:04"),
		cur.Machine, cur.Mode, cur.Machine.Date.Format("2006-01-02 15:04"))
	if old.Machine.CPU != cur.Machine.CPU || old.Machine.GOMAXPROCS != cur.Machine.GOMAXPROCS {
		fmt.Fprintln(w, "note: the runs are from different machines or GOMAXPROCS; ratios may differ for that reason alone")
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "workload\tat\told ratio [95% CI]\tnew ratio [95% CI]\tchange\tp\t")
	var regressions, contradictions, oldInc, newInc int
	for _, c := range cs {
		p := c.p()
		verdict := "~"
		switch wo := c.worse(); {
		case p >= alpha || !c.apart():
		case wo > threshold:
			verdict = "WORSE"
			regressions++
		case wo > 0:
			verdict = "worse, within threshold"
		default:
			verdict = "better"
		}
		if c.contradicts() {
			contradictions++
			verdict += " (class " + string(c.Old.Class) + " -> " + string(c.New.Class) + ")"
		}
		if c.Old.Class == benchutil.Inconclusive {
			oldInc++
		}
		if c.New.Class == benchutil.Inconclusive {
			newInc++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%+.1f%%\tp=%.3f\t%s\n", c.Name, benchutil.XPoint(c.XLabel, c.New.X),
			interval(c.Old), interval(c.New), 100*c.worse(), p, verdict)
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%d points compared", len(cs))
	if unmatched > 0 {
		fmt.Fprintf(w, " (%d in only one run)", unmatched)
	}
	fmt.Fprintf(w, "; change is how much worse the new ratio is (negative: better); p from a Mann-Whitney U test on the rounds' ratios;\n"+
		"a change counts (worse, better) when p < %.2g and the two intervals do not overlap, else ~\n", alpha)
	fmt.Fprintf(w, "classes: %d contradictions (definite classes that differ); inconclusive: %d old, %d new\n", contradictions, oldInc, newInc)
	fmt.Fprintf(w, "regressions: %d (significantly worse by more than %.4g%%)\n", regressions, threshold*100)
	if regressions > 0 {
		return fmt.Errorf("%w: %d regression(s) beyond %.4g%%", errRegression, regressions, threshold*100)
	}
	return nil
}

func interval(p benchutil.RatioPoint) string {
	return fmt.Sprintf("%s [%s, %s] %s", benchutil.Ratio(p.Ratio), benchutil.Ratio(p.Lo), benchutil.Ratio(p.Hi), p.Class)
}
