package main

import (
	"bytes"
	"regexp"
	"strconv"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBytesKeepsAtMostMaxRetained(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out, 32, 1<<20); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`pool.Bytes: +\d+ MiB still live after the burst and a GC \(Stats: retained (\d+) MiB, (\d+) puts dropped\)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("output:\n%s", out.String())
	}
	if retained, _ := strconv.Atoi(m[1]); retained > 8 {
		t.Fatalf("retained %d MiB, MaxRetained is 8", retained)
	}
	if dropped, _ := strconv.Atoi(m[2]); dropped == 0 {
		t.Fatal("a 32 MiB burst into an 8 MiB pool dropped nothing")
	}
}
