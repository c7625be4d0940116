package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/breakeven-go/breakeven/internal/benchutil"
	"github.com/breakeven-go/breakeven/internal/suites"
)

func TestMain(m *testing.M) {
	// TestCompareExitCode runs this test binary as the command itself.
	if os.Getenv("BREAKEVEN_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

func TestRunWritesTablesReportAndBenchfmt(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	args := []string{"-run", "Counter/add$", "-out", dir, "-benchfmt", filepath.Join(dir, "bench.txt")}
	if err := run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"Counter/add: shard.Counter vs atomic.Int64", "shard/atomic", "95% CI", "=> shard.Counter"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "load10") {
		t.Errorf("-run Counter/add$ also ran load10:\n%s", out)
	}
	html, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "shard.Counter", "atomic.Int64", "Summary", thisMachine().CPU, "with 95% intervals"} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	bench, err := os.ReadFile(filepath.Join(dir, "bench.txt"))
	if err != nil {
		t.Fatal(err)
	}
	// One line per sample: at least Min rounds of atomic and shard and
	// Others rounds of mutex at every point.
	line := regexp.MustCompile(`(?m)^BenchmarkCounter/add/impl=(atomic|mutex|shard)/goroutines=\d+-\d+\t\d+\t[0-9.]+ ns/op$`)
	q := benchutil.QuickPaired.Cost
	if n, least := len(line.FindAll(bench, -1)), (2*q.Min+q.Others)*len(sweep(suites.Counter())); n < least {
		t.Errorf("bench.txt has %d sample lines, want at least %d:\n%s", n, least, bench)
	}
}

func TestRunJSON(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-run", "Counter/add$", "-json"}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v", err)
	}
	var rep Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout.String())
	}
	if len(rep.Suites) != 1 || len(rep.Suites[0].Workloads) != 1 || len(rep.Suites[0].Workloads[0].Series) != 3 {
		t.Fatalf("JSON report = %+v, want one suite, one workload, three series", rep)
	}
	if rep.Machine.Cores < 1 || rep.Suites[0].Workloads[0].Sentence == "" {
		t.Fatalf("JSON report lacks machine or verdict: %+v", rep)
	}
	// The points as DESIGN.md specifies them, read without the Go types.
	var raw struct {
		Suites []struct {
			Workloads []struct {
				Verdict struct {
					Points []map[string]any `json:"points"`
				} `json:"verdict"`
			} `json:"workloads"`
		} `json:"suites"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	pts := raw.Suites[0].Workloads[0].Verdict.Points
	if len(pts) != len(sweep(suites.Counter())) {
		t.Fatalf("verdict has %d points, want one per x: %v", len(pts), pts)
	}
	for _, p := range pts {
		x, _ := p["x"].(float64)
		r, _ := p["ratio"].(float64)
		lo, _ := p["lo"].(float64)
		hi, _ := p["hi"].(float64)
		class, _ := p["class"].(string)
		if x < 1 || !(lo <= r && r <= hi && lo > 0) || !slices.Contains([]string{"win", "lose", "tie", "inconclusive"}, class) {
			t.Errorf("point %v: want x >= 1, 0 < lo <= ratio <= hi, and a class", p)
		}
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-run", "("}, {"-run", "NoSuchSuite"}, {"extra"}} {
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), args, &stdout, &stderr); err == nil {
			t.Errorf("run(%q) succeeded, want an error", args)
		}
	}
}

// TestRunStopsPromptlyOnCancel stands in for Ctrl-C: main cancels the same
// context on SIGINT.
func TestRunStopsPromptlyOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	var stdout, stderr bytes.Buffer
	start := time.Now()
	err := run(ctx, []string{"-full"}, &stdout, &stderr)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("run after cancel: err = %v, want context.Canceled", err)
	}
	// A -full run of everything takes minutes; stopping within a few
	// samples' time shows the cancel was honoured. This bounds behaviour
	// (it stopped), not speed: the limit is generous on a loaded machine.
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("run took %v to notice the cancel", d)
	}
}

func TestSelectSuites(t *testing.T) {
	all := suites.All()
	if got := selectSuites(all, regexp.MustCompile("")); len(got) != len(all) {
		t.Fatalf("empty -run selected %d of %d suites", len(got), len(all))
	}
	got := selectSuites(all, regexp.MustCompile("Counter/load10"))
	if len(got) != 1 || len(got[0].Workloads) != 1 || got[0].Workloads[0].Name != "load10" {
		t.Fatalf("-run Counter/load10 selected %+v", got)
	}
}
