package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// testdata/old.json and new.json are two quick runs of Counter and
// RateLimit (scripts/stability.sh 'Counter|RateLimit') saved on a busy
// 2-core machine, one after the other; regressed.json is new.json with
// RateLimit/allow doctored: old.json's points for it at twice the ratio
// (every round's ratio, the median and the interval), a regression that
// is significant at 1 and 4 goroutines and lost in the noise at 2.

func TestCompareSameMachine(t *testing.T) {
	var out bytes.Buffer
	err := compareFiles(&out, "testdata/old.json", "testdata/new.json", 0.05)
	if err != nil {
		t.Fatalf("compare of two honest runs: %v\n%s", err, out.String())
	}
	for _, want := range []string{"Counter/add", "RateLimit/allow", "p=", "regressions: 0", "contradictions"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestCompareFindsDoctoredRegression(t *testing.T) {
	var out bytes.Buffer
	err := compareFiles(&out, "testdata/old.json", "testdata/regressed.json", 0.05)
	if !errors.Is(err, errRegression) {
		t.Fatalf("compare with a doubled ratio: err = %v, want errRegression\n%s", err, out.String())
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.Contains(line, "WORSE") && !strings.HasPrefix(line, "RateLimit/allow") {
			t.Errorf("only RateLimit/allow should be WORSE: %q", line)
		}
	}
	if !strings.Contains(out.String(), "regressions: 2 ") {
		t.Errorf("want 2 regressions (RateLimit/allow at 1 and 4 goroutines):\n%s", out.String())
	}
	// A threshold above the doctored change lets it through.
	out.Reset()
	if err := compareFiles(&out, "testdata/old.json", "testdata/regressed.json", 1.5); err != nil {
		t.Fatalf("-threshold 150%%: %v\n%s", err, out.String())
	}
}

// TestCompareExitCode runs the command as an adopter's CI would and checks
// its exit status: 0 for two honest runs, 1 for the doctored regression.
func TestCompareExitCode(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"-compare", "testdata/old.json", "testdata/new.json"}, 0},
		{[]string{"-compare", "testdata/old.json", "testdata/regressed.json", "-threshold", "5%"}, 1},
		{[]string{"-compare", "-threshold", "150%", "testdata/old.json", "testdata/regressed.json"}, 0},
		{[]string{"-compare", "testdata/old.json"}, 1},
	} {
		cmd := exec.Command(os.Args[0], tc.args...)
		cmd.Env = append(os.Environ(), "BREAKEVEN_RUN_MAIN=1")
		out, _ := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != tc.code {
			t.Errorf("breakeven %s: exit %d, want %d\n%s", strings.Join(tc.args, " "), code, tc.code, out)
		}
	}
}

func TestCompareRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "x.json")
	os.WriteFile(notJSON, []byte("BenchmarkX 1 2 ns/op"), 0o644)
	empty := filepath.Join(dir, "empty.json")
	os.WriteFile(empty, []byte(`{"suites":[]}`), 0o644)
	var out bytes.Buffer
	for _, pair := range [][2]string{{notJSON, "testdata/new.json"}, {empty, "testdata/new.json"}, {"testdata/none.json", "testdata/new.json"}} {
		if err := compareFiles(&out, pair[0], pair[1], 0.05); err == nil || errors.Is(err, errRegression) {
			t.Errorf("compare %s %s: err = %v, want a usage error", pair[0], pair[1], err)
		}
	}
	for _, s := range []string{"x", "-1%"} {
		if _, err := parseThreshold(s); err == nil {
			t.Errorf("parseThreshold(%q) accepted it", s)
		}
	}
	for s, want := range map[string]float64{"5%": 0.05, "5": 0.05, "0.05": 0.05, "12.5%": 0.125} {
		if got, err := parseThreshold(s); err != nil || got != want {
			t.Errorf("parseThreshold(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
}
