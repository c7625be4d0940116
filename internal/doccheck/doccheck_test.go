package doccheck

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// notYetDocumented lists packages (directories relative to the module root)
// whose missing docs are reported but do not fail the test, because their
// owners are documenting them on other branches. The lead empties it after
// merging them; then every exported name in the module must have a doc.
var notYetDocumented = map[string]bool{}

// TestEveryExportedNameIsDocumented fails on any exported identifier of
// the module's importable packages, and of the nested module users import
// (ratelimit/redisrate), that has no doc comment.
func TestEveryExportedNameIsDocumented(t *testing.T) {
	root := filepath.Join("..", "..")
	missing, err := Module(root)
	if err != nil {
		t.Fatal(err)
	}
	nested, err := Module(filepath.Join(root, "ratelimit", "redisrate"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range nested {
		m.Pkg = path.Join("ratelimit/redisrate", m.Pkg)
		m.File = path.Join("ratelimit/redisrate", m.File)
		missing = append(missing, m)
	}
	for _, m := range missing {
		if notYetDocumented[m.Pkg] {
			t.Logf("allowed for now (notYetDocumented): %v", m)
			continue
		}
		t.Errorf("%v", m)
	}
}

// TestCheckerFindsWhatIsMissing: the checker itself, on a package with one
// of each kind of undocumented name.
func TestCheckerFindsWhatIsMissing(t *testing.T) {
	root := t.TempDir()
	src := `// Package p is documented.
package p

func F() {}

// G is documented.
func G() {}

type T struct {
	A int
	B int // documented by a line comment
	c int
}

func (T) M() {}

// Documented group.
const (
	X = 1
	Y = 2
)

var V = 3

type hidden struct{ E int }

func (hidden) M() {}

type I interface {
	Do()
}
`
	for name, data := range map[string]string{
		"p/p.go":            src,
		"p/p_test.go":       "package p\n\nfunc Exported() {}\n",
		"p/internal/q/q.go": "package q\n\nfunc Q() {}\n",
		"cmd/c/main.go":     "package main\n\nfunc Exported() {}\n",
		"nested/go.mod":     "module nested\n",
		"nested/n.go":       "package n\n\nfunc N() {}\n",
		"nodoc/nodoc.go":    "package nodoc\n",
	} {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	missing, err := Module(root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range missing {
		got = append(got, m.Name)
	}
	want := "package nodoc F T T.A T.M V I I.Do"
	if strings.Join(got, " ") != want {
		t.Fatalf("missing = %q, want %q", strings.Join(got, " "), want)
	}
}
