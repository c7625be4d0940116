package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBudgetCapsTheBackend(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, 10, 20); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)per request, 10 requests: backend peak (\d+).*shared, +10 requests: backend peak (\d+) calls at once \(budget peak (\d+)\)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("unexpected output:\n%s", out.String())
	}
	if shared, _ := strconv.Atoi(m[2]); shared > 16 {
		t.Fatalf("backend saw %d calls at once under Budget(16)", shared)
	}
}
