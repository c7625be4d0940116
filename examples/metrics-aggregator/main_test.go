package main

import (
	"bytes"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestCountsAreExact: the event streams are seeded, so the top of the
// table is the same on every run, whatever the interleaving.
func TestCountsAreExact(t *testing.T) {
	var a, b bytes.Buffer
	if err := run(&a, 4, 20_000); err != nil {
		t.Fatal(err)
	}
	if err := run(&b, 4, 20_000); err != nil {
		t.Fatal(err)
	}
	top := func(s string) string { return s[:strings.Index(s, "map writes")] }
	if top(a.String()) != top(b.String()) {
		t.Fatalf("two runs disagree:\n%s\n%s", a.String(), b.String())
	}
	if !strings.HasPrefix(a.String(), "80000 events") || !strings.Contains(a.String(), "metric-0 ") {
		t.Fatalf("output:\n%s", a.String())
	}
}
