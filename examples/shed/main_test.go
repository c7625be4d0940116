package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestPrintsEverySetup(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"goodput", "no shedding", "InFlight(8)", "NewAdaptive()"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, out.String())
		}
	}
}
