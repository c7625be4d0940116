// Command mutation summarises go-gremlins results per package for
// scripts/mutation.sh: efficacy after equivalent mutants are set aside, and
// every mutant that lived.
//
//	go run ./scripts/mutation -equivalent scripts/mutants/equivalent.txt shed.json cow.json
//
// Each JSON file is one `gremlins unleash -o` run over one package, named
// after the package. The equivalent file lists mutants that cannot change
// behaviour, one a line: `pkg/file.go:line:col TYPE  # why`.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type gremlinsReport struct {
	Files []struct {
		FileName  string `json:"file_name"`
		Mutations []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
		} `json:"mutations"`
	} `json:"files"`
}

// tally is one package's outcome.
type tally struct {
	killed, lived, timedOut, notCovered, equivalent int
}

func (t tally) efficacy() float64 {
	n := t.killed + t.timedOut + t.lived
	if n == 0 {
		return 100
	}
	return 100 * float64(t.killed+t.timedOut) / float64(n)
}

func main() {
	equivalentPath := flag.String("equivalent", "", "file listing equivalent mutants")
	flag.Parse()
	equivalent, err := readEquivalent(*equivalentPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutation:", err)
		os.Exit(2)
	}
	if err := report(os.Stdout, flag.Args(), equivalent); err != nil {
		fmt.Fprintln(os.Stderr, "mutation:", err)
		os.Exit(2)
	}
}

// readEquivalent returns the set of `pkg/file:line:col TYPE` keys in path.
func readEquivalent(path string) (map[string]bool, error) {
	set := map[string]bool{}
	if path == "" {
		return set, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if fields := strings.Fields(line); len(fields) == 2 {
			set[fields[0]+" "+fields[1]] = true
		}
	}
	return set, sc.Err()
}

func report(w io.Writer, paths []string, equivalent map[string]bool) error {
	sort.Strings(paths)
	fmt.Fprintf(w, "%-10s %7s %6s %6s %6s %6s %9s\n", "package", "killed", "t/out", "lived", "equiv", "uncov", "efficacy")
	var lived []string
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var r gremlinsReport
		if err := json.Unmarshal(data, &r); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		pkg := strings.TrimSuffix(filepath.Base(path), ".json")
		var t tally
		for _, f := range r.Files {
			for _, m := range f.Mutations {
				key := fmt.Sprintf("%s/%s:%d:%d %s", pkg, f.FileName, m.Line, m.Column, m.Type)
				switch {
				case equivalent[key]:
					t.equivalent++
				case m.Status == "KILLED":
					t.killed++
				case m.Status == "TIMED OUT":
					t.timedOut++
				case m.Status == "LIVED":
					t.lived++
					lived = append(lived, key)
				case m.Status == "NOT COVERED":
					t.notCovered++
				}
			}
		}
		fmt.Fprintf(w, "%-10s %7d %6d %6d %6d %6d %8.1f%%\n", pkg, t.killed, t.timedOut, t.lived, t.equivalent, t.notCovered, t.efficacy())
	}
	if len(lived) > 0 {
		fmt.Fprintln(w, "\nmutants that lived (add a test, or list them in the equivalent file with why):")
		for _, k := range lived {
			fmt.Fprintln(w, "  "+k)
		}
	}
	return nil
}
