package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startService serves a fresh service on a loopback port until the test
// ends, then checks that it shut down cleanly.
func startService(t *testing.T) (base string, svc *service) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	svc = newService(defaultConfig())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, svc, log.New(io.Discard, "", 0)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String(), svc
}

func get(t *testing.T, url string, header ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Error(err) // not Fatal: get also runs on other goroutines
		return 0, ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestWorkAndMetrics(t *testing.T) {
	base, _ := startService(t)
	for range 5 {
		if code, body := get(t, base+"/work", "X-Client-Id", "a"); code != 200 || body != "4\n" {
			t.Fatalf("GET /work = %d %q, want 200 \"4\\n\" (4 backend calls)", code, body)
		}
	}
	_, metrics := get(t, base+"/metrics")
	for _, want := range []string{
		"service_requests_total 5", "service_served_total 5", "service_clients 1",
		"shed_accepted_total 5", "# TYPE shed_limit gauge",
		"ratelimit_allowed_total 5", "ratelimit_keys 1", "ratelimit_evicted_active_total 0",
		"hedge_calls_total 20", "fanout_budget_size 16", "fanout_budget_in_use 0",
		"pool_gets_total 5", "pool_outstanding 0", "config_version 1",
	} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestRateLimitPerClient(t *testing.T) {
	base, svc := startService(t)
	svc.config.Store(Config{Fanout: 1, Shed: true}) // cheap requests
	var limited atomic.Int32
	var wg sync.WaitGroup
	for range 200 { // at once: the burst is 50 per client, the rate 100/s
		wg.Go(func() {
			if code, _ := get(t, base+"/work", "X-Client-Id", "greedy"); code == http.StatusTooManyRequests {
				limited.Add(1)
			}
		})
	}
	wg.Wait()
	if limited.Load() == 0 {
		t.Fatal("200 requests at once from one client: none limited")
	}
	if code, _ := get(t, base+"/work", "X-Client-Id", "polite"); code != 200 {
		t.Fatalf("another client got %d: limits must be per client", code)
	}
	// The rate limit is in front of the shedder: its 429s never reached it,
	// so they took no slot and gave it no latency sample.
	if st := svc.shedder.Stats(); st.Accepted+st.ShedSheddable+st.ShedCritical != uint64(200-limited.Load()+1) {
		t.Fatalf("the shedder saw %d requests; want only the %d the rate limit let through",
			st.Accepted+st.ShedSheddable+st.ShedCritical, 200-limited.Load()+1)
	}
}

func TestConfigReloadWithoutRestart(t *testing.T) {
	base, svc := startService(t)
	req, _ := http.NewRequest("POST", base+"/admin/config", strings.NewReader(`{"fanout":2,"hedge":false}`))
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST /admin/config: %s", resp.Status)
	}
	if cfg := svc.config.Load(); cfg != (Config{Fanout: 2, Shed: true, Hedge: false}) {
		t.Fatalf("config after reload = %+v", cfg)
	}
	if _, body := get(t, base+"/work"); body != "2\n" {
		t.Fatalf("GET /work after reload = %q, want 2 backend calls", body)
	}
	if _, err := parseConfig([]byte(`{"fanout":0}`)); err == nil || !strings.HasPrefix(err.Error(), "service: config:") {
		t.Fatalf("fanout 0 accepted: %v", err)
	}
}

// TestShutdownDrainsInFlight: a request held in its backend call when the
// shutdown starts is answered in full, and serve returns only after it.
// The backend stand-in holds the request until the test lets it go, so the
// request is in flight at the shutdown however fast the machine is (a
// request that finished first would let a serve that does not drain pass).
func TestShutdownDrainsInFlight(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	svc := newService(Config{Fanout: 1}) // no hedging: one backend call
	entered, release := make(chan struct{}), make(chan struct{})
	svc.backend = func(context.Context) (int, error) {
		close(entered)
		<-release
		return 1, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	shuttingDown := make(chan struct{})
	logs := &watchWriter{pattern: "shutting down", seen: shuttingDown}
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, svc, log.New(logs, "", 0)) }()
	type answer struct {
		code int
		body string
	}
	answered := make(chan answer, 1)
	go func() {
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("http://" + ln.Addr().String() + "/work")
		if err != nil {
			answered <- answer{0, err.Error()}
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		answered <- answer{resp.StatusCode, string(body)}
	}()
	defer close(release) // on every way out, so no goroutine stays blocked
	within(t, entered, "the request to reach its backend call")
	cancel()
	within(t, shuttingDown, "serve to start shutting down")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) { // until ln is closed
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the listener still accepts 10s after the shutdown began")
		}
	}
	select {
	case err := <-done:
		t.Fatalf("serve returned (%v) with a request in flight", err)
	case a := <-answered:
		t.Fatalf("the in-flight request was answered (%d %q) before its backend call returned", a.code, a.body)
	default:
	}
	release <- struct{}{} // the backend call returns
	select {
	case a := <-answered:
		if a.code != 200 || a.body != "1\n" {
			t.Fatalf("in-flight request during shutdown: %d %q, want 200 \"1\\n\"", a.code, a.body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the in-flight request was not answered within 10s of its backend call returning")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return within 10s of the last request")
	}
}

// within waits for ch, failing the test after 10 s rather than hanging it.
func within(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("waited 10s for %s", what)
	}
}

// watchWriter closes seen the first time a write contains pattern.
type watchWriter struct {
	mu      sync.Mutex
	pattern string
	seen    chan struct{}
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seen != nil && strings.Contains(string(p), w.pattern) {
		close(w.seen)
		w.seen = nil
	}
	return len(p), nil
}

func TestPprofOnlyOnLoopback(t *testing.T) {
	if _, err := servePprof("0.0.0.0:0", log.New(io.Discard, "", 0)); err == nil {
		t.Fatal("pprof accepted a non-loopback address")
	}
	stop, err := servePprof("127.0.0.1:0", log.New(io.Discard, "", 0))
	if err != nil {
		t.Fatal(err)
	}
	stop()
}

// TestPerClientCountersBounded (issue 19): any number of X-Client-Id values,
// sent at once, count one by one only up to the bound; the rest count
// under "other", and no request is lost.
func TestPerClientCountersBounded(t *testing.T) {
	s := newService(defaultConfig())
	s.maxClients = 50
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				s.clientCounter(fmt.Sprintf("client-%d-%d", g, i%100)).Add(1)
			}
		})
	}
	wg.Wait()
	if n := s.perClient.Len(); n != 50 {
		t.Fatalf("%d client ids tracked, want the bound of 50", n)
	}
	total := s.otherClients.Load()
	for _, c := range s.perClient.All() {
		total += c.Load()
	}
	if total != 8*500 {
		t.Fatalf("counted %d requests, want %d", total, 8*500)
	}
}
