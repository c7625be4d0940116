package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestPrintsBothModes(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, 200); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "p99") ||
		!strings.Contains(lines[1], "plain") || !strings.Contains(lines[2], "hedged") {
		t.Fatalf("unexpected output:\n%s", out.String())
	}
}
