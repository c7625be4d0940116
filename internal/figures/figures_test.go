package figures

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, text := range files {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const benchmarksMD = "# breakeven benchmarks\n\n## shard.Counter vs atomic.Int64\n\n" +
	"`BenchmarkCounter` in internal/peerbench; ns/op, lower is better. Baseline: impl=atomic; primitive: impl=shard.\n\n" +
	"| benchmark | atomic | mutex | shard | shard / atomic | shard / mutex |\n" +
	"|---|---:|---:|---:|---:|---:|\n" +
	"| Counter/add | 4.98 | 14.2 | 2.7 | 0.54x | 0.19x |\n" +
	"| Counter/add-2 | 18.9 | 18.4 | 1.34 | 0.07x | 0.07x |\n" +
	"| Counter/load10-2 | 9.01 | 17.8 | 4.94 | 0.55x ~ | 0.28x |\n"

// TestTypedFindsHandTypedFigures is the check that keeps typed figures out:
// a hand-typed ratio or ns figure in a doc comment is reported with its
// file and line; the same figure inside a generated block, in a code line
// of a doc comment, in a comment inside a function, or in a test file is
// not.
func TestTypedFindsHandTypedFigures(t *testing.T) {
	root := writeFiles(t, map[string]string{
		"shard/counter.go": `// Package shard is sharded.
package shard

// Counter is a sharded counter. Add from 2 goroutines costs 0.06x
// atomic.Int64.Add (1.2 ns against 19 ns), and 23,000x nothing.
//
// breakeven:figures begin Counter/add-2
// Counter/add-2 in BENCHMARKS.md: shard / atomic 0.07x; shard 1.34, atomic 18.9 ns/op.
// breakeven:figures end
//
//	go test -bench Counter -benchtime 3000x ./shard
type Counter struct {
	n int // costs 2.5ns, in a field comment
}

// Add adds; seeded with 0x5eed, it reads x/time/rate's docs.
func (c *Counter) Add() {
	// Grow at most 100x a step (not a doc comment).
	c.n++
}
`,
		"shard/counter_test.go": "package shard\n\n// Benchmarks offered 0.5x to 4x their capacity.\nfunc helper() {}\n",
	})
	got, err := Typed(root)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, o := range got {
		lines = append(lines, fmt.Sprintf("%s:%d %s", o.File, o.Line, o.Figure))
	}
	want := []string{
		"shard/counter.go:4 0.06x",
		"shard/counter.go:5 1.2 ns",
		"shard/counter.go:5 19 ns",
		"shard/counter.go:5 23,000x",
		"shard/counter.go:13 2.5ns",
	}
	if !slices.Equal(lines, want) {
		t.Fatalf("Typed found\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if s := got[0].String(); !strings.HasPrefix(s, `shard/counter.go:4: "0.06x" typed in a doc comment`) {
		t.Errorf("Offender.String() = %q", s)
	}
}

// TestWriteFillsBlocksAndStaleFindsDrift runs the generator on a Go file
// and a README, then changes BENCHMARKS.md under them.
func TestWriteFillsBlocksAndStaleFindsDrift(t *testing.T) {
	root := writeFiles(t, map[string]string{
		"BENCHMARKS.md": benchmarksMD,
		"shard/counter.go": "package shard\n\n// Counter counts.\n//\n// breakeven:figures begin Counter/add-2\n// breakeven:figures end\n" +
			"type Counter struct {\n\t// breakeven:figures begin Counter/load10-2 shard/mutex shard/atomic\n\t// stale text\n\t// breakeven:figures end\n\tn int\n}\n",
		"README.md": "# x\n\n<!-- breakeven:figures begin Counter/add shard mutex -->\n<!-- breakeven:figures end -->\n",
	})
	tbl := func() Table {
		md, err := os.ReadFile(filepath.Join(root, "BENCHMARKS.md"))
		if err != nil {
			t.Fatal(err)
		}
		tb, err := ParseBenchmarks(md)
		if err != nil {
			t.Fatal(err)
		}
		return tb
	}
	stale, err := Stale(root, tbl())
	if err != nil || len(stale) != 3 {
		t.Fatalf("before -w: Stale = %q, %v; want all 3 blocks", stale, err)
	}
	written, err := Write(root, tbl())
	if err != nil || len(written) != 2 {
		t.Fatalf("Write = %v, %v", written, err)
	}
	src, _ := os.ReadFile(filepath.Join(root, "shard/counter.go"))
	for _, want := range []string{
		"// breakeven:figures begin Counter/add-2\n// Counter/add-2 in BENCHMARKS.md: shard / atomic 0.07x; shard 1.34, atomic 18.9 ns/op.\n// breakeven:figures end\n",
		"\t// Counter/load10-2 in BENCHMARKS.md: shard / mutex 0.28x, shard / atomic 0.55x (not significant).\n\t// breakeven:figures end\n",
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("counter.go lacks %q:\n%s", want, src)
		}
	}
	readme, _ := os.ReadFile(filepath.Join(root, "README.md"))
	if !strings.Contains(string(readme), "-->\nCounter/add in BENCHMARKS.md: shard 2.7, mutex 14.2 ns/op.\n<!--") {
		t.Errorf("README.md block not filled:\n%s", readme)
	}
	if stale, err := Stale(root, tbl()); err != nil || len(stale) != 0 {
		t.Fatalf("after -w: Stale = %q, %v", stale, err)
	}
	if again, _ := Write(root, tbl()); len(again) != 0 {
		t.Fatalf("a second Write rewrote %v", again)
	}
	// A new run changes a figure: the block now disagrees.
	md := strings.Replace(benchmarksMD, "| 0.07x | 0.07x |", "| 0.09x | 0.07x |", 1)
	os.WriteFile(filepath.Join(root, "BENCHMARKS.md"), []byte(md), 0o644)
	stale, _ = Stale(root, tbl())
	if len(stale) != 1 || !strings.HasPrefix(stale[0], "shard/counter.go:5: block Counter/add-2 says") {
		t.Fatalf("after a new run: Stale = %q, want the Counter/add-2 block at shard/counter.go:5", stale)
	}
	// Unknown rows and columns are reported, not rendered.
	if _, err := tbl().Render("Counter/nope", nil); err == nil {
		t.Error("Render accepted an unknown row")
	}
	if _, err := tbl().Render("Counter/add", []string{"xsync"}); err == nil {
		t.Error("Render accepted an unknown column")
	}
}

func TestBlocksRejectsBrokenMarkers(t *testing.T) {
	for name, src := range map[string]string{
		"unterminated": "package p\n\n// breakeven:figures begin Counter/add\ntype T int\n",
		"end alone":    "package p\n\n// breakeven:figures end\ntype T int\n",
		"no row":       "package p\n\n// breakeven:figures begin\n// breakeven:figures end\ntype T int\n",
	} {
		root := writeFiles(t, map[string]string{"p.go": src})
		if _, err := Blocks(root); err == nil || !strings.Contains(err.Error(), "p.go:") {
			t.Errorf("%s: Blocks err = %v, want one naming p.go", name, err)
		}
	}
}

// TestRepository checks this repository: every block agrees with
// BENCHMARKS.md, and no doc comment has a typed figure, except those in
// testdata/pending.txt, typed before issue 21 and waiting to be turned into
// words or blocks. That list only shrinks: an entry whose figure is gone
// fails too, so that it is deleted.
func TestRepository(t *testing.T) {
	root := filepath.Join("..", "..")
	md, err := os.ReadFile(filepath.Join(root, "BENCHMARKS.md"))
	if err != nil {
		t.Fatal(err)
	}
	tb, err := ParseBenchmarks(md)
	if err != nil {
		t.Fatal(err)
	}
	stale, err := Stale(root, tb)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stale {
		t.Error(s)
	}
	typed, err := Typed(root)
	if err != nil {
		t.Fatal(err)
	}
	pending := readPending(t)
	for _, o := range typed {
		k := o.File + "\t" + o.Figure
		if pending[k] > 0 {
			pending[k]--
			continue
		}
		t.Errorf("%s (say it in words, or quote BENCHMARKS.md in a // breakeven:figures block)", o)
	}
	for k, n := range pending {
		if n > 0 {
			t.Errorf("internal/figures/testdata/pending.txt lists %q %d more time(s) than a doc comment has it: delete the entry", k, n)
		}
	}
}

func readPending(t *testing.T) map[string]int {
	f, err := os.Open(filepath.Join("testdata", "pending.txt"))
	if os.IsNotExist(err) {
		return map[string]int{}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		file, fig, ok := strings.Cut(l, "\t")
		if !ok {
			t.Fatalf("pending.txt: %q: want FILE<TAB>FIGURE", l)
		}
		out[file+"\t"+fig]++
	}
	return out
}
