// Command breakeven measures every breakeven primitive against the plain
// baseline it replaces, on this machine, and says where each starts to pay.
//
//	go run github.com/breakeven-go/breakeven/cmd/breakeven@latest
//
// For each suite it sweeps the number of goroutines from 1 to twice
// GOMAXPROCS and prints, per workload, every implementation's ns/op, the
// primitive's ratio to the baseline, and the breakeven point in one sentence.
// Primitives judged by an outcome (hedge: p99 latency; shed: goodput under
// overload) are swept over their own axis (share of slow calls, offered
// load) on the real clock and loopback HTTP.
// Progress goes to stderr; Ctrl-C stops it promptly.
//
// Flags:
//
//	-run REGEXP   run only suites (or Suite/workload pairs) matching REGEXP
//	-full         longer, steadier samples, more rounds (several minutes)
//	-out DIR      write DIR/index.html: a self-contained report with charts
//	-json         print the results as JSON on stdout instead of tables
//	-benchfmt F   write every sample in Go benchmark format to F, for benchstat
//	-compare      compare two -json runs (see below)
//	-threshold P  with -compare, the regression that fails it (default 5%)
//
// Each point is measured in rounds: a round runs every implementation once,
// in a shuffled order, and the primitive's ratio to the baseline is taken
// per round, so drift on a busy machine cancels. The median ratio gets a
// 95% confidence interval from order statistics, and its class: win, lose,
// tie (the interval lies within 5% of 1) or inconclusive (it straddles an
// edge of that band). Rounds continue, up to a cap, only where the class is
// still inconclusive.
//
// To check an upgrade (of Go, of breakeven, of the machine), save a run
// and compare a later one with it:
//
//	breakeven -json > old.json
//	breakeven -json > new.json
//	breakeven -compare old.json new.json -threshold 5%
//
// -compare prints, per workload and x, how the primitive's ratio changed
// and whether the change is significant (Mann-Whitney U over the rounds'
// ratios, p < 0.05); it exits 1 when a ratio got significantly worse by
// more than the threshold.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/breakeven-go/breakeven/internal/benchutil"
	"github.com/breakeven-go/breakeven/internal/suites"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(os.Stderr, "\nbreakeven: interrupted")
			os.Exit(130)
		}
		fmt.Fprintln(os.Stderr, "breakeven:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("breakeven", flag.ContinueOnError)
	fs.SetOutput(stderr)
	runPattern := fs.String("run", "", "run only suites or Suite/workload pairs matching this regular expression")
	full := fs.Bool("full", false, "longer, steadier samples")
	outDir := fs.String("out", "", "write an HTML report to `DIR`/index.html")
	asJSON := fs.Bool("json", false, "print results as JSON on stdout instead of tables")
	benchfmt := fs.String("benchfmt", "", "write samples in Go benchmark format to `FILE` (for benchstat)")
	compare := fs.Bool("compare", false, "compare two -json runs: breakeven -compare OLD.json NEW.json")
	threshold := fs.String("threshold", "5%", "with -compare: exit 1 when a ratio got significantly worse by more than this")
	// Flags may follow the two files of -compare, so parse around them.
	var files []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if rest = fs.Args(); len(rest) == 0 {
			break
		}
		files, rest = append(files, rest[0]), rest[1:]
	}
	if *compare {
		thr, err := parseThreshold(*threshold)
		if err != nil {
			return err
		}
		if len(files) != 2 {
			return fmt.Errorf("-compare needs two files, OLD.json NEW.json; got %q", files)
		}
		return compareFiles(stdout, files[0], files[1], thr)
	}
	if len(files) > 0 {
		return fmt.Errorf("unexpected arguments %q (see -h)", files)
	}
	re, err := regexp.Compile(*runPattern)
	if err != nil {
		return fmt.Errorf("-run: %w", err)
	}
	cfg, mode := benchutil.QuickPaired, "quick"
	if *full {
		cfg, mode = benchutil.FullPaired, "full"
	}

	selected := selectSuites(suites.All(), re)
	if len(selected) == 0 {
		return fmt.Errorf("-run %q matches no suite; suites are %v", *runPattern, suiteNames(suites.All()))
	}
	rep := Report{Machine: thisMachine(), Mode: mode}
	prog := newProgress(stderr, countPoints(selected))
	fmt.Fprintf(stderr, "breakeven: %s run on %s\n", mode, rep.Machine)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x6272656b))
	for _, s := range selected {
		res, err := measureSuite(ctx, s, cfg, *full, rng, prog)
		if err != nil {
			prog.clear()
			return err
		}
		rep.Suites = append(rep.Suites, res)
		if !*asJSON {
			prog.clear()
			printSuite(stdout, res)
		}
	}
	prog.clear()
	fmt.Fprintln(stderr, "breakeven:", classCounts(rep.Suites, *full))

	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	}
	if *outDir != "" {
		if err := os.MkdirAll(*outDir, 0o755); err != nil {
			return err
		}
		path := filepath.Join(*outDir, "index.html")
		if err := writeFile(path, func(w io.Writer) error { return writeHTML(w, rep) }); err != nil {
			return err
		}
		fmt.Fprintln(stderr, "breakeven: wrote", path)
	}
	if *benchfmt != "" {
		if err := writeFile(*benchfmt, func(w io.Writer) error { return writeBenchfmt(w, rep) }); err != nil {
			return err
		}
	}
	return nil
}

// selectSuites keeps the suites, and within them the workloads, whose
// "Suite/workload" name matches re (a match on the suite name alone keeps
// all its workloads).
func selectSuites(all []benchutil.Suite, re *regexp.Regexp) []benchutil.Suite {
	var out []benchutil.Suite
	for _, s := range all {
		if re.MatchString(s.Name) {
			out = append(out, s)
			continue
		}
		var ws []benchutil.Workload
		for _, w := range s.Workloads {
			if re.MatchString(s.Name + "/" + w.Name) {
				ws = append(ws, w)
			}
		}
		if len(ws) > 0 {
			s.Workloads = ws
			out = append(out, s)
		}
	}
	return out
}

func suiteNames(ss []benchutil.Suite) []string {
	var names []string
	for _, s := range ss {
		names = append(names, s.Name)
	}
	return names
}

// sweep is the xs a suite is measured at: a Metric suite's own Xs, else
// goroutine counts from 1 to twice GOMAXPROCS, or the one count a suite
// fixes (fanout: one caller, whose question is how one call uses the cores).
func sweep(s benchutil.Suite) []int {
	if s.Metric != "" {
		return s.Xs
	}
	if s.Goroutines > 0 {
		return []int{s.Goroutines}
	}
	return benchutil.GoroutineCounts(runtime.GOMAXPROCS(0))
}

func countPoints(ss []benchutil.Suite) int {
	n := 0
	for _, s := range ss {
		n += len(s.Workloads) * len(sweep(s))
	}
	return n
}

// measureSuite measures each workload of s point by point, every
// implementation in the same rounds, and builds its verdict.
func measureSuite(ctx context.Context, s benchutil.Suite, cfg benchutil.Paired, full bool, rng *rand.Rand, prog *progress) (SuiteResult, error) {
	if err := s.Validate(); err != nil {
		return SuiteResult{}, err
	}
	res := SuiteResult{Name: s.Name, Primitive: s.Primitive, Impl: s.Impl, Baseline: s.Baseline, BaselineDesc: s.BaselineDesc,
		Unit: s.Unit(), XLabel: s.XLabel(), HigherIsBetter: s.HigherIsBetter}
	names := benchutil.Names{Primitive: s.Primitive, Baseline: s.BaselineDesc, XName: s.XLabel(), Metric: s.Metric, Full: full}
	for _, w := range s.Workloads {
		wr := WorkloadResult{Name: w.Name}
		for _, im := range w.Impls {
			wr.Series = append(wr.Series, Series{Impl: im.Name})
		}
		var rps []benchutil.RatioPoint
		for _, x := range sweep(s) {
			prog.step(fmt.Sprintf("%s/%s %s=%d", s.Name, w.Name, benchutil.XKey(s.XLabel()), x))
			pts, rp, err := benchutil.MeasurePaired(ctx, s, w, x, cfg, rng)
			if err != nil {
				return res, err
			}
			for i, p := range pts {
				if len(p.Samples) > 0 {
					wr.Series[i].Points = append(wr.Series[i].Points, p)
				}
			}
			rps = append(rps, rp)
		}
		wr.Verdict = benchutil.NewVerdict(rps, s.HigherIsBetter)
		wr.Sentence = wr.Verdict.Sentence(names)
		res.Workloads = append(res.Workloads, wr)
	}
	return res, nil
}

// classCounts sums up a run's points by class, for the last line of its
// progress.
func classCounts(ss []SuiteResult, full bool) string {
	counts := map[benchutil.Class]int{}
	n := 0
	for _, s := range ss {
		for _, w := range s.Workloads {
			for _, p := range w.Verdict.Points {
				counts[p.Class]++
				n++
			}
		}
	}
	line := fmt.Sprintf("%d points: %d win, %d lose, %d tie, %d inconclusive", n,
		counts[benchutil.Win], counts[benchutil.Lose], counts[benchutil.Tie], counts[benchutil.Inconclusive])
	if counts[benchutil.Inconclusive] > 0 && !full {
		line += " (rerun with -full)"
	}
	return line
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

func itoa(n int) string { return strconv.Itoa(n) }
