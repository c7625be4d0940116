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

// TestShutdownDrainsInFlight starts a request, shuts down while it runs,
// and checks it is answered before serve returns.
func TestShutdownDrainsInFlight(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	svc := newService(Config{Fanout: 1})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, svc, log.New(io.Discard, "", 0)) }()
	answered := make(chan int, 1)
	go func() {
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr}).Get("http://" + ln.Addr().String() + "/work")
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	for svc.budget.Stats().InUse == 0 && svc.served.Load() == 0 {
		time.Sleep(time.Millisecond) // until the request is in flight
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if code := <-answered; code != 200 {
		t.Fatalf("in-flight request got %d during shutdown, want 200", code)
	}
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
