// Command docfigures fills the generated figure blocks of doc comments and
// READMEs from BENCHMARKS.md (-w), or checks them: it lists every block
// that disagrees with BENCHMARKS.md and every figure typed into a doc
// comment outside a block, as file:line, and exits 1 if there is any.
//
//	go run ./internal/figures/cmd/docfigures -w   # after BENCHMARKS.md is written
//	go run ./internal/figures/cmd/docfigures      # check
//
// scripts/benchmarks.sh runs it with -w; the test of internal/figures
// checks the repository.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/breakeven-go/breakeven/internal/figures"
)

func main() {
	write := flag.Bool("w", false, "rewrite the blocks from BENCHMARKS.md instead of checking them")
	root := flag.String("root", ".", "the repository root")
	flag.Parse()
	if err := run(*root, *write); err != nil {
		fmt.Fprintln(os.Stderr, "docfigures:", err)
		os.Exit(1)
	}
}

func run(root string, write bool) error {
	md, err := os.ReadFile(filepath.Join(root, "BENCHMARKS.md"))
	if err != nil {
		return err
	}
	t, err := figures.ParseBenchmarks(md)
	if err != nil {
		return err
	}
	if write {
		files, err := figures.Write(root, t)
		for _, f := range files {
			fmt.Fprintln(os.Stderr, "docfigures: wrote", f)
		}
		return err
	}
	stale, err := figures.Stale(root, t)
	if err != nil {
		return err
	}
	typed, err := figures.Typed(root)
	if err != nil {
		return err
	}
	for _, s := range stale {
		fmt.Println(s)
	}
	for _, o := range typed {
		fmt.Println(o)
	}
	if n := len(stale) + len(typed); n > 0 {
		return fmt.Errorf("%d stale block(s), %d typed figure(s)", len(stale), len(typed))
	}
	return nil
}
