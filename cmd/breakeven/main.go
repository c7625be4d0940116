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
//	-full         longer, steadier samples (several minutes)
//	-out DIR      write DIR/index.html: a self-contained report with charts
//	-json         print the results as JSON on stdout instead of tables
//	-benchfmt F   write every sample in Go benchmark format to F, for benchstat
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"syscall"

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
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (flags go before arguments; see -h)", fs.Args())
	}
	re, err := regexp.Compile(*runPattern)
	if err != nil {
		return fmt.Errorf("-run: %w", err)
	}
	cfg, mode := benchutil.Quick, "quick"
	if *full {
		cfg, mode = benchutil.Full, "full"
	}

	selected := selectSuites(suites.All(), re)
	if len(selected) == 0 {
		return fmt.Errorf("-run %q matches no suite; suites are %v", *runPattern, suiteNames(suites.All()))
	}
	rep := Report{Machine: thisMachine(), Mode: mode}
	prog := newProgress(stderr, countPoints(selected))
	fmt.Fprintf(stderr, "breakeven: %s run on %s\n", mode, rep.Machine)
	for _, s := range selected {
		res, err := measureSuite(ctx, s, cfg, prog)
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
		for _, w := range s.Workloads {
			n += len(w.Impls) * len(sweep(s))
		}
	}
	return n
}

func measureSuite(ctx context.Context, s benchutil.Suite, cfg benchutil.Config, prog *progress) (SuiteResult, error) {
	if err := s.Validate(); err != nil {
		return SuiteResult{}, err
	}
	res := SuiteResult{Name: s.Name, Primitive: s.Primitive, Impl: s.Impl, Baseline: s.Baseline, BaselineDesc: s.BaselineDesc,
		Unit: s.Unit(), XLabel: s.XLabel(), HigherIsBetter: s.HigherIsBetter}
	for _, w := range s.Workloads {
		wr := WorkloadResult{Name: w.Name}
		for _, im := range w.Impls {
			ser := Series{Impl: im.Name}
			for _, g := range sweep(s) {
				prog.step(fmt.Sprintf("%s/%s impl=%s %s=%d", s.Name, w.Name, im.Name, s.XLabel(), g))
				p, err := benchutil.Measure(ctx, im, g, cfg)
				if err != nil {
					return res, err
				}
				ser.Points = append(ser.Points, p)
			}
			wr.Series = append(wr.Series, ser)
		}
		wr.Verdict = benchutil.Compare(wr.series(s.Baseline), wr.series(s.Impl), s.HigherIsBetter)
		wr.Sentence = wr.Verdict.Sentence(s.Primitive, s.BaselineDesc, s.XLabel(), s.Metric)
		res.Workloads = append(res.Workloads, wr)
	}
	return res, nil
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
