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

func TestLimitIsPerClient(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`greedy: 20 requests at once: (\d+) allowed, (\d+) limited \(Retry-After: \d+s\)\npolite: 3 requests at once: 3 allowed, 0 limited\n$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("output:\n%s", out.String())
	}
	if limited, _ := strconv.Atoi(m[2]); limited < 10 {
		t.Fatalf("greedy client: only %d of 20 limited at 5/s burst 5", limited)
	}
}
