// Package doccheck finds exported identifiers without a doc comment in the
// module's importable packages. Its test runs it over the whole module, so
// CI fails when an exported name is left undocumented.
package doccheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Missing is one exported identifier without a doc comment.
type Missing struct {
	Pkg  string // directory relative to the module root, slash-separated
	File string // slash-separated, relative to the module root
	Line int
	Name string // Name, Type.Method or Type.Field
}

// String formats m as "file:line: Name has no doc comment".
func (m Missing) String() string {
	return fmt.Sprintf("%s:%d: %s has no doc comment", m.File, m.Line, m.Name)
}

// Module walks the module rooted at root and returns every undocumented
// exported identifier of its importable packages: it skips internal and
// testdata directories, nested modules, main packages and test files.
// Checked: package clauses (one doc per package), functions, methods of
// exported types, types, constants and variables (a group's doc covers its
// members), exported fields of exported structs and methods of exported
// interfaces (a doc or a line comment).
func Module(root string) ([]Missing, error) {
	var out []Missing
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root {
			if name == "internal" || name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // a nested module
			}
		}
		rel, _ := filepath.Rel(root, path)
		m, err := dir(path, filepath.ToSlash(rel))
		out = append(out, m...)
		return err
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		return out[i].Line < out[j].Line
	})
	return out, err
}

// dir checks the package in one directory. Every non-test .go file counts,
// whatever its build tags: each variant of a name needs its doc.
func dir(path, rel string) ([]Missing, error) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	type pkgFiles struct {
		Name  string
		Files map[string]*ast.File
	}
	pkgs := map[string]*pkgFiles{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(path, name), nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		pk := pkgs[f.Name.Name]
		if pk == nil {
			pk = &pkgFiles{Name: f.Name.Name, Files: map[string]*ast.File{}}
			pkgs[f.Name.Name] = pk
		}
		pk.Files[name] = f
	}
	var out []Missing
	for _, pkg := range pkgs {
		if pkg.Name == "main" {
			continue
		}
		add := func(pos token.Pos, name string) {
			p := fset.Position(pos)
			file := filepath.ToSlash(filepath.Join(rel, filepath.Base(p.Filename)))
			out = append(out, Missing{Pkg: rel, File: file, Line: p.Line, Name: name})
		}
		hasPkgDoc := false
		var first *ast.File
		for _, f := range pkg.Files {
			if f.Doc != nil {
				hasPkgDoc = true
			}
			if first == nil || fset.Position(f.Pos()).Filename < fset.Position(first.Pos()).Filename {
				first = f
			}
			checkFile(f, add)
		}
		if !hasPkgDoc && first != nil {
			add(first.Package, "package "+pkg.Name)
		}
	}
	return out, nil
}

func checkFile(f *ast.File, add func(token.Pos, string)) {
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() {
				continue
			}
			name := d.Name.Name
			if d.Recv != nil {
				recv := receiverType(d.Recv.List[0].Type)
				if !ast.IsExported(recv) {
					continue // a method of an unexported type is not in the docs
				}
				name = recv + "." + name
			}
			if d.Doc == nil {
				add(d.Pos(), name)
			}
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					if !s.Name.IsExported() {
						continue
					}
					if s.Doc == nil && d.Doc == nil {
						add(s.Pos(), s.Name.Name)
					}
					checkMembers(s, add)
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.IsExported() && s.Doc == nil && s.Comment == nil && d.Doc == nil {
							add(n.Pos(), n.Name)
						}
					}
				}
			}
		}
	}
}

// checkMembers checks the exported fields of a struct type and the methods
// of an interface type: each needs a doc or a line comment.
func checkMembers(s *ast.TypeSpec, add func(token.Pos, string)) {
	var fields *ast.FieldList
	switch t := s.Type.(type) {
	case *ast.StructType:
		fields = t.Fields
	case *ast.InterfaceType:
		fields = t.Methods
	default:
		return
	}
	for _, f := range fields.List {
		for _, n := range f.Names {
			if n.IsExported() && f.Doc == nil && f.Comment == nil {
				add(n.Pos(), s.Name.Name+"."+n.Name)
			}
		}
	}
}

// receiverType returns the name of a method's receiver type, without the
// pointer or type parameters.
func receiverType(e ast.Expr) string {
	for {
		switch t := e.(type) {
		case *ast.StarExpr:
			e = t.X
		case *ast.IndexExpr:
			e = t.X
		case *ast.IndexListExpr:
			e = t.X
		case *ast.Ident:
			return t.Name
		default:
			return ""
		}
	}
}
