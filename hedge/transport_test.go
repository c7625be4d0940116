package hedge_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breakeven-go/breakeven/hedge"
)

// trackingTransport counts response bodies opened and closed.
type trackingTransport struct {
	rt             http.RoundTripper
	opened, closed atomic.Int32
}

type trackedBody struct {
	io.ReadCloser
	t *trackingTransport
}

func (b *trackedBody) Close() error { b.t.closed.Add(1); return b.ReadCloser.Close() }

func (t *trackingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.rt.RoundTrip(r)
	if err == nil {
		t.opened.Add(1)
		resp.Body = &trackedBody{resp.Body, t}
	}
	return resp, err
}

// TestTransportWinnerBodyStreamsAfterReturn: a response whose headers come
// at once and whose body comes later wins, and its body is still readable
// after RoundTrip returned: the winner's context is not cancelled early
// (failsafe-go #65, hedgedhttp #1).
func TestTransportWinnerBodyStreamsAfterReturn(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		select {
		case <-release:
			io.WriteString(w, "late body")
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	tracking := &trackingTransport{rt: http.DefaultTransport}
	h := hedge.New(hedge.Delay(time.Second))
	client := &http.Client{Transport: hedge.Transport(tracking, h)}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	close(release) // the body is written only now, after RoundTrip returned
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(b) != "late body" {
		t.Fatalf("body = %q, %v", b, err)
	}
	if tracking.opened.Load() != 1 || tracking.closed.Load() != 1 {
		t.Fatalf("opened %d, closed %d bodies", tracking.opened.Load(), tracking.closed.Load())
	}
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
}

// TestTransportHedgesTheSlowServer: with headers delayed, the hedge wins,
// its body reads in full after RoundTrip, and the loser's body is closed.
func TestTransportHedgesTheSlowServer(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
				return
			}
		}
		io.WriteString(w, strings.Repeat("x", 100_000))
	}))
	defer srv.Close()
	tracking := &trackingTransport{rt: http.DefaultTransport}
	h := hedge.New(hedge.Delay(10 * time.Millisecond))
	client := &http.Client{Transport: hedge.Transport(tracking, h)}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body) // after RoundTrip returned
	resp.Body.Close()
	if err != nil || len(b) != 100_000 {
		t.Fatalf("read %d bytes, err %v: the winner's body must stay readable", len(b), err)
	}
	if s := h.Stats(); s.Hedges != 1 || s.HedgeWins != 1 {
		t.Fatalf("Stats = %+v, want the hedge to win", s)
	}
	waitFor(t, func() bool { return tracking.closed.Load() == tracking.opened.Load() })
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
}

func TestTransportPassesNonIdempotentThrough(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		time.Sleep(30 * time.Millisecond)
	}))
	defer srv.Close()
	h := hedge.New(hedge.Delay(time.Millisecond))
	client := &http.Client{Transport: hedge.Transport(nil, h)}
	resp, err := client.Post(srv.URL, "text/plain", strings.NewReader("charge card"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n.Load() != 1 || h.Stats().Calls != 0 {
		t.Fatalf("a POST was sent %d times (hedger calls %d), want once, unhedged", n.Load(), h.Stats().Calls)
	}
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
}

// waitFor polls cond for up to 5 seconds: losers close their bodies on
// their own goroutines after the call returns. It bounds a wait for an
// event, it does not measure speed.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 5s")
}
