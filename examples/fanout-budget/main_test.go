package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"testing"
	"testing/synctest"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// On synctest's clock every request's calls overlap, so the per-request
// limit's multiplication shows every run, and the budget's cap must hold.
func TestBudgetCapsTheBackend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		if err := run(context.Background(), &out, 10, 20); err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?s)per request, 10 requests: backend peak (\d+).*shared, +10 requests: backend peak (\d+) calls at once \(budget peak (\d+)\)`).FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("unexpected output:\n%s", out.String())
		}
		perRequest, _ := strconv.Atoi(m[1])
		shared, _ := strconv.Atoi(m[2])
		budgetPeak, _ := strconv.Atoi(m[3])
		if perRequest <= 16 {
			t.Errorf("with Limit(8) per request, 10 requests put only %d calls on the backend at once; the example shows nothing", perRequest)
		}
		if shared > 16 || budgetPeak > 16 || shared < 2 {
			t.Errorf("under NewBudget(16) the backend saw %d calls at once (budget peak %d)", shared, budgetPeak)
		}
	})
}
