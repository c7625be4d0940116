// Package figures keeps measured figures out of hand-typed text: it finds
// ratio and ns figures ("1.3x", "35 ns") typed into Go doc comments, and
// it writes and checks the generated blocks that quote BENCHMARKS.md.
//
// A doc comment or a README opts in to a figure by naming a BENCHMARKS.md
// row, optionally with some of its columns (impl names or ratio columns,
// spaces removed):
//
//	// breakeven:figures begin Counter/add-2 shard/atomic shard
//	// breakeven:figures end
//
// (in Markdown, each marker line inside <!-- and -->). scripts/benchmarks.sh
// runs `go run ./internal/figures/cmd/docfigures -w` after writing
// BENCHMARKS.md, which fills every block from that same run; the test of
// this package fails on a figure typed outside a block and on a block that
// disagrees with BENCHMARKS.md.
package figures

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// figure matches a ratio ("0.06x", "1.3x", "23,000x") or a time in ns
// ("35 ns", "1.2ns/op"): the figures a run measures. A hex literal (0x5eed)
// does not match, nor "x/time/rate", nor a product written "2 x n".
var figure = regexp.MustCompile(`\b\d+(?:[.,]\d+)*(?:x|×|\s?ns(?:/op)?)(?:\b|$|[^\w/])`)

// markerRE matches a block marker in a comment or Markdown line.
var markerRE = regexp.MustCompile(`^\s*(?://|<!--)\s*breakeven:figures\s+(begin|end)\b\s*(.*?)\s*(?:-->)?\s*$`)

// Offender is a figure typed by hand where only a generated block may
// hold one.
type Offender struct {
	File   string // relative to the root checked
	Line   int
	Figure string // "0.06x"
	Text   string // the comment line
}

func (o Offender) String() string {
	return fmt.Sprintf("%s:%d: %q typed in a doc comment: %s", o.File, o.Line, o.Figure, strings.TrimSpace(o.Text))
}

// Block is one generated block: its location, the row and columns it
// names, and the lines between its markers.
type Block struct {
	File     string
	Line     int // of the begin marker
	Row      string
	Columns  []string
	Markdown bool
	Body     []string // lines between the markers, as in the file
}

// walk calls fn for every file under root that the checks read: Go files
// that are not tests, and README.md files; it skips hidden directories,
// testdata, and this package, whose docs quote figures as examples of what
// it looks for.
func walk(root string, fn func(rel string, isGo bool) error) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			rel, _ := filepath.Rel(root, path)
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor" || filepath.ToSlash(rel) == "internal/figures") {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		switch {
		case strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go"):
			return fn(filepath.ToSlash(rel), true)
		case name == "README.md":
			return fn(filepath.ToSlash(rel), false)
		}
		return nil
	})
}

// Typed returns every figure typed into a Go doc comment (of a package,
// declaration, spec or field) under root outside a generated block.
// Indented code lines of a doc comment ("//\t…": commands, flags) are not
// prose and are skipped. Test files are not documentation and are not
// read.
func Typed(root string) ([]Offender, error) {
	var out []Offender
	err := walk(root, func(rel string, isGo bool) error {
		if !isGo {
			return nil
		}
		os, err := typedInFile(root, rel)
		out = append(out, os...)
		return err
	})
	return out, err
}

func typedInFile(root, rel string) ([]Offender, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(root, rel), nil, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	var docs []*ast.CommentGroup
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.File:
			docs = append(docs, n.Doc)
		case *ast.GenDecl:
			docs = append(docs, n.Doc)
		case *ast.FuncDecl:
			docs = append(docs, n.Doc)
		case *ast.TypeSpec:
			docs = append(docs, n.Doc, n.Comment)
		case *ast.ValueSpec:
			docs = append(docs, n.Doc, n.Comment)
		case *ast.Field:
			docs = append(docs, n.Doc, n.Comment)
		case *ast.ImportSpec:
			docs = append(docs, n.Doc)
		}
		return true
	})
	var out []Offender
	seen := map[*ast.CommentGroup]bool{}
	for _, g := range docs {
		if g == nil || seen[g] {
			continue
		}
		seen[g] = true
		inBlock := false
		for _, c := range g.List {
			line := fset.Position(c.Slash).Line
			for i, text := range strings.Split(c.Text, "\n") {
				if m := markerRE.FindStringSubmatch(text); m != nil {
					inBlock = m[1] == "begin"
					continue
				}
				if inBlock || strings.HasPrefix(text, "//\t") {
					continue
				}
				for _, fig := range figure.FindAllString(text, -1) {
					out = append(out, Offender{File: rel, Line: line + i, Figure: strings.TrimRight(fig, " .,;:)]"), Text: text})
				}
			}
		}
	}
	return out, nil
}

// Blocks returns every generated block under root, in Go comments and in
// README.md files.
func Blocks(root string) ([]Block, error) {
	var out []Block
	err := walk(root, func(rel string, isGo bool) error {
		data, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			return err
		}
		bs, err := blocksIn(rel, data, !isGo)
		out = append(out, bs...)
		return err
	})
	return out, err
}

func blocksIn(rel string, data []byte, markdown bool) ([]Block, error) {
	var out []Block
	var cur *Block
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		text := sc.Text()
		m := markerRE.FindStringSubmatch(text)
		switch {
		case m == nil:
			if cur != nil {
				cur.Body = append(cur.Body, text)
			}
		case m[1] == "begin":
			if cur != nil {
				return out, fmt.Errorf("%s:%d: figures block begins inside the block of line %d", rel, n, cur.Line)
			}
			fields := strings.Fields(m[2])
			if len(fields) == 0 {
				return out, fmt.Errorf("%s:%d: figures block names no BENCHMARKS.md row", rel, n)
			}
			cur = &Block{File: rel, Line: n, Row: fields[0], Columns: fields[1:], Markdown: markdown}
		default:
			if cur == nil {
				return out, fmt.Errorf("%s:%d: figures block ends without a begin", rel, n)
			}
			out = append(out, *cur)
			cur = nil
		}
	}
	if cur != nil {
		return out, fmt.Errorf("%s:%d: figures block never ends", rel, cur.Line)
	}
	return out, sc.Err()
}

// Table is what BENCHMARKS.md says: for each row name, its cells by column
// header (spaces removed: "shard", "shard/atomic"), the columns in order,
// and the unit of its section.
type Table struct {
	Rows map[string]Row
}

// Row is one row of a BENCHMARKS.md table.
type Row struct {
	Columns []string          // headers in order, after "benchmark"
	Cells   map[string]string // by header
	Unit    string            // "ns/op", "p99-ms", "goodput"
}

var unitRE = regexp.MustCompile("^`Benchmark\\w+` in [^;]*; ([^,]+),")

// ParseBenchmarks reads the tables of BENCHMARKS.md.
func ParseBenchmarks(md []byte) (Table, error) {
	t := Table{Rows: map[string]Row{}}
	var header []string
	unit := ""
	for _, line := range strings.Split(string(md), "\n") {
		if m := unitRE.FindStringSubmatch(line); m != nil {
			unit = m[1]
		}
		if !strings.HasPrefix(line, "|") {
			header = nil
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		switch {
		case cells[0] == "benchmark":
			header = nil
			for _, h := range cells[1:] {
				header = append(header, strings.ReplaceAll(h, " ", ""))
			}
		case strings.HasPrefix(cells[0], "-") || len(header) == 0:
		default:
			r := Row{Columns: header, Cells: map[string]string{}, Unit: unit}
			for i, h := range header {
				if i+1 < len(cells) {
					r.Cells[h] = cells[i+1]
				}
			}
			t.Rows[cells[0]] = r
		}
	}
	if len(t.Rows) == 0 {
		return t, fmt.Errorf("figures: BENCHMARKS.md has no table rows")
	}
	return t, nil
}

// Render returns the text a block holds for its row and columns: one line
// quoting BENCHMARKS.md. Without columns it quotes the primitive over its
// baseline (the first ratio column) and the two values.
func (t Table) Render(row string, columns []string) (string, error) {
	r, ok := t.Rows[row]
	if !ok {
		return "", fmt.Errorf("figures: BENCHMARKS.md has no row %q", row)
	}
	if len(columns) == 0 {
		for _, h := range r.Columns {
			if prim, base, ok := strings.Cut(h, "/"); ok {
				columns = []string{h, prim, base}
				break
			}
		}
	}
	var ratios, values []string
	for _, c := range columns {
		cell, ok := r.Cells[c]
		if !ok {
			return "", fmt.Errorf("figures: BENCHMARKS.md row %q has no column %q (columns: %s)", row, c, strings.Join(r.Columns, ", "))
		}
		if prim, base, ok := strings.Cut(c, "/"); ok {
			note := ""
			if v, same := strings.CutSuffix(cell, " ~"); same {
				cell, note = v, " (not significant)"
			}
			ratios = append(ratios, fmt.Sprintf("%s / %s %s%s", prim, base, cell, note))
		} else {
			values = append(values, fmt.Sprintf("%s %s", c, cell))
		}
	}
	s := row + " in BENCHMARKS.md:"
	if len(ratios) > 0 {
		s += " " + strings.Join(ratios, ", ")
	}
	if len(values) > 0 {
		sep := " "
		if len(ratios) > 0 {
			sep = "; "
		}
		s += sep + strings.Join(values, ", ") + " " + r.Unit
	}
	return s + ".", nil
}

// body is the lines a block should hold in its file.
func (b Block) body(text string) []string {
	if b.Markdown {
		return []string{text}
	}
	indent := ""
	if len(b.Body) > 0 {
		indent = b.Body[0][:strings.Index(b.Body[0], "//")]
	}
	return []string{indent + "// " + text}
}

// Stale returns a message for every block under root whose body differs
// from what BENCHMARKS.md says, or that names a row or column it lacks.
func Stale(root string, t Table) ([]string, error) {
	bs, err := Blocks(root)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, b := range bs {
		text, err := t.Render(b.Row, b.Columns)
		if err != nil {
			out = append(out, fmt.Sprintf("%s:%d: %v", b.File, b.Line, err))
			continue
		}
		if want := b.body(text); !slices.Equal(trimAll(b.Body), trimAll(want)) {
			out = append(out, fmt.Sprintf("%s:%d: block %s says %q, BENCHMARKS.md %q; run scripts/benchmarks.sh or go run ./internal/figures/cmd/docfigures -w",
				b.File, b.Line, b.Row, strings.Join(trimAll(b.Body), " "), text))
		}
	}
	return out, nil
}

func trimAll(ss []string) []string {
	var out []string
	for _, s := range ss {
		out = append(out, strings.TrimSpace(s))
	}
	return out
}

// Write fills every block under root from t, rewriting only files whose
// blocks changed, and returns the files it rewrote.
func Write(root string, t Table) ([]string, error) {
	bs, err := Blocks(root)
	if err != nil {
		return nil, err
	}
	byFile := map[string][]Block{}
	var files []string
	for _, b := range bs {
		if byFile[b.File] == nil {
			files = append(files, b.File)
		}
		byFile[b.File] = append(byFile[b.File], b)
	}
	var written []string
	for _, f := range files {
		path := filepath.Join(root, f)
		data, err := os.ReadFile(path)
		if err != nil {
			return written, err
		}
		lines := strings.Split(string(data), "\n")
		// Replace from the last block up, so earlier line numbers hold.
		blocks := byFile[f]
		for i := len(blocks) - 1; i >= 0; i-- {
			b := blocks[i]
			text, err := t.Render(b.Row, b.Columns)
			if err != nil {
				return written, fmt.Errorf("%s:%d: %w", f, b.Line, err)
			}
			if len(b.Body) == 0 && !b.Markdown {
				// An empty block takes the marker's indentation.
				marker := lines[b.Line-1]
				b.Body = []string{marker[:strings.Index(marker, "//")] + "//"}
			}
			body := b.body(text)
			lines = slices.Replace(lines, b.Line, b.Line+len(blocks[i].Body), body...)
		}
		out := strings.Join(lines, "\n")
		if out != string(data) {
			if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
				return written, err
			}
			written = append(written, f)
		}
	}
	return written, nil
}
