package main

import (
	"bytes"
	"context"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestDemoReloadsAndRefusesABadFile(t *testing.T) {
	var out bytes.Buffer
	if err := demo(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	want := `config version 1: greeting="hello" max_items=10
reload refused, keeping version 1: config-reload: ` // then the path and the reason
	got := out.String()
	if len(got) < len(want) || got[:len(want)] != want ||
		!bytes.HasSuffix(out.Bytes(), []byte("greeting must be set and max_items at least 1\nconfig version 2: greeting=\"bonjour\" max_items=20\n")) {
		t.Fatalf("output:\n%s", got)
	}
}
