package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/breakeven-go/breakeven/internal/benchutil"
)

// printSuite prints one table per workload: the sweep (goroutines) down,
// implementations across (median of their samples), then the primitive's
// median ratio to the baseline over the rounds, its 95% interval and its
// class, and the verdict.
func printSuite(w io.Writer, s SuiteResult) {
	for _, wr := range s.Workloads {
		fmt.Fprintf(w, "\n%s/%s: %s vs %s (%s, %s is better)\n", s.Name, wr.Name, s.Primitive, s.BaselineDesc, s.Unit, s.better())
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "%s\t", s.XLabel)
		for _, ser := range wr.Series {
			fmt.Fprintf(tw, "%s\t", ser.Impl)
		}
		fmt.Fprintf(tw, "%s/%s\t95%% CI\tclass\trounds\t\n", s.Impl, s.Baseline)
		for _, p := range wr.Verdict.Points {
			fmt.Fprintf(tw, "%d\t", p.X)
			for _, ser := range wr.Series {
				fmt.Fprintf(tw, "%s\t", formatNs(pointAt(ser.Points, p.X)))
			}
			fmt.Fprintf(tw, "%s\t%s-%s\t%s\t%d\t\n", benchutil.Ratio(p.Ratio), benchutil.Ratio(p.Lo), benchutil.Ratio(p.Hi), p.Class, len(p.Rounds))
		}
		tw.Flush()
		fmt.Fprintf(w, "=> %s\n", wr.Sentence)
	}
}

func pointAt(ps []benchutil.Point, g int) float64 {
	for _, p := range ps {
		if p.X == g {
			return p.Value
		}
	}
	return 0
}

func pointFor(ps []benchutil.Point, x int) (benchutil.Point, bool) {
	for _, p := range ps {
		if p.X == x {
			return p, true
		}
	}
	return benchutil.Point{}, false
}

func formatNs(ns float64) string {
	switch {
	case ns == 0:
		return "-"
	case ns < 10:
		return fmt.Sprintf("%.2f", ns)
	case ns < 1000:
		return fmt.Sprintf("%.1f", ns)
	default:
		return fmt.Sprintf("%.0f", ns)
	}
}

// writeBenchfmt writes each sample as one Go benchmark result line, so
// benchstat can compare runs: the goroutine count (or a Metric suite's x) is
// a sub-benchmark dimension, the -N suffix is GOMAXPROCS, as in go test,
// and the unit is ns/op or the suite's Metric.
func writeBenchfmt(w io.Writer, rep Report) error {
	fmt.Fprintf(w, "goos: %s\ngoarch: %s\npkg: github.com/breakeven-go/breakeven/cmd/breakeven\ncpu: %s\n",
		rep.Machine.GOOS, rep.Machine.GOARCH, rep.Machine.CPU)
	for _, s := range rep.Suites {
		for _, wr := range s.Workloads {
			for _, ser := range wr.Series {
				for _, p := range ser.Points {
					for _, v := range p.Samples {
						fmt.Fprintf(w, "Benchmark%s/%s/impl=%s/%s=%d-%d\t%d\t%.4g %s\n",
							s.Name, wr.Name, ser.Impl, benchutil.XKey(s.XLabel), p.X,
							rep.Machine.GOMAXPROCS, p.Ops, v, s.Unit)
					}
				}
			}
		}
	}
	_, err := fmt.Fprintln(w, "PASS")
	return err
}

// progress shows "[k/n] what" on one line of stderr, rewritten in place on a
// terminal; elsewhere (CI logs) it prints one line per suite-workload to
// keep logs readable.
type progress struct {
	w        io.Writer
	tty      bool
	n, k     int
	lastHead string
}

func newProgress(w io.Writer, n int) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil {
			tty = fi.Mode()&os.ModeCharDevice != 0
		}
	}
	return &progress{w: w, tty: tty, n: n}
}

func (p *progress) step(what string) {
	p.k++
	if p.tty {
		fmt.Fprintf(p.w, "\r\x1b[K[%d/%d] %s", p.k, p.n, what)
		return
	}
	head, _, _ := strings.Cut(what, " ")
	if head != p.lastHead {
		p.lastHead = head
		fmt.Fprintf(p.w, "[%d/%d] %s\n", p.k, p.n, head)
	}
}

// clear erases the progress line before a table goes to the same terminal.
func (p *progress) clear() {
	if p.tty {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}
