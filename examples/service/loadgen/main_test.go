package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeService stands in for examples/service's admin and metrics routes
// (the service's own tests cover the service): it records configs and
// answers /work at once.
func fakeService(t *testing.T) (*httptest.Server, *[]string) {
	var mu sync.Mutex
	var configs []string
	cfg := `{"fanout":4,"shed":true,"hedge":true}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/admin/config" && r.Method == "POST":
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			configs = append(configs, string(body))
			mu.Unlock()
		case r.URL.Path == "/admin/config":
			io.WriteString(w, cfg)
		case r.URL.Path == "/metrics":
			io.WriteString(w, "# TYPE hedge_hedges_total counter\nhedge_hedges_total 0\n")
		case r.URL.Path == "/work":
			io.WriteString(w, "4\n")
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &configs
}

func TestRunPrintsTableAndRestoresConfig(t *testing.T) {
	srv, configs := fakeService(t)
	var out bytes.Buffer
	o := options{base: srv.URL, capacity: 200, levels: []float64{0.5, 2}, duration: 100 * time.Millisecond,
		deadline: time.Second, clients: 4, compare: true}
	if err := run(context.Background(), &out, o); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 6 || !strings.Contains(lines[0], "goodput") ||
		!strings.Contains(lines[1], "before") || !strings.Contains(lines[4], "after") {
		t.Fatalf("table:\n%s", out.String())
	}
	if n := len(*configs); n != 3 || !strings.Contains((*configs)[0], `"shed":false`) || (*configs)[2] != `{"fanout":4,"shed":true,"hedge":true}` {
		t.Fatalf("configs posted: %q; want before, after, then the original back", *configs)
	}
}

func TestRunRefusesRemoteTargets(t *testing.T) {
	err := run(context.Background(), io.Discard, options{base: "http://example.com", capacity: 1, duration: time.Second, clients: 1})
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("err = %v, want a loopback-only refusal", err)
	}
}

func TestMergeJSON(t *testing.T) {
	got := string(mergeJSON([]byte(`{"fanout":4,"shed":true}`+"\n"), `{"shed":false}`))
	if got != `{"fanout":4,"shed":true,"shed":false}` {
		t.Fatalf("mergeJSON = %s", got)
	}
}

// TestRunMeasuresCapacity: with -capacity 0, run measures it closed-loop
// (protection on) before the levels and prints it.
func TestRunMeasuresCapacity(t *testing.T) {
	srv, configs := fakeService(t)
	var out bytes.Buffer
	o := options{base: srv.URL, levels: []float64{1}, duration: 100 * time.Millisecond,
		deadline: time.Second, clients: 2}
	if err := run(context.Background(), &out, o); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "capacity: ") || strings.HasPrefix(out.String(), "capacity: 0 ") {
		t.Fatalf("output:\n%s", out.String())
	}
	if len(*configs) == 0 || !strings.Contains((*configs)[0], `"shed":true`) {
		t.Fatalf("capacity measured without protection on: configs %q", *configs)
	}
}
