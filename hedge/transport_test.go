package hedge_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

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

// attemptHeader tags each request it sends with its hedge attempt
// (X-Attempt), so a test server can answer attempts differently.
type attemptHeader struct{ rt http.RoundTripper }

func (a attemptHeader) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.Header.Set("X-Attempt", fmt.Sprint(hedge.Attempt(r.Context())))
	return a.rt.RoundTrip(r2)
}

// stallFirst is a handler whose first attempt waits until cancelled, and
// whose others answer at once with the method and the request body. The
// body is read first: only then does the server notice a client hanging
// up. The stall is bounded so that a failing test cannot hang the package.
func stallFirst(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	if r.Header.Get("X-Attempt") == "0" {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
		return
	}
	fmt.Fprintf(w, "%s %s", r.Method, b)
}

// closeTracker is a request body that records being closed.
type closeTracker struct {
	io.Reader
	closed atomic.Bool
}

func (c *closeTracker) Close() error { c.closed.Store(true); return nil }

// replayable returns a request whose body is a closeTracker and whose
// GetBody returns fresh copies, as http.NewRequest would set.
func replayable(t *testing.T, ctx context.Context, method, url, body string) (*http.Request, *closeTracker) {
	t.Helper()
	orig := &closeTracker{Reader: strings.NewReader(body)}
	req, err := http.NewRequestWithContext(ctx, method, url, orig)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
	return req, orig
}

func newTransport(t *testing.T) *http.Transport {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// TestTransportHedgesIdempotentRequests: GET, HEAD, OPTIONS and a POST
// with an Idempotency-Key are hedged; the POST's hedge replays the whole
// body from GetBody, and the original body is closed.
func TestTransportHedgesIdempotentRequests(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(stallFirst))
	defer srv.Close()
	for _, method := range []string{"GET", "HEAD", "OPTIONS", "POST"} {
		t.Run(method, func(t *testing.T) {
			h := hedge.New(hedge.Delay(time.Millisecond))
			client := &http.Client{Transport: hedge.Transport(attemptHeader{newTransport(t)}, h)}
			body := ""
			if method == "POST" {
				body = "charge order 42"
			}
			req, orig := replayable(t, t.Context(), method, srv.URL, body)
			if method == "POST" {
				req.Header.Set("Idempotency-Key", "order-42")
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if want := method + " " + body; method != "HEAD" && string(got) != want {
				t.Fatalf("body %q, want %q from the hedge", got, want)
			}
			if s := h.Stats(); s.Hedges != 1 || s.HedgeWins != 1 {
				t.Fatalf("Stats = %+v, want one winning hedge", s)
			}
			waitFor(t, orig.closed.Load)
		})
	}
}

// TestTransportDoesNotHedgeUnreplayableBodies: a body without GetBody
// cannot be sent twice, Idempotency-Key or not: it goes once, unhedged.
func TestTransportDoesNotHedgeUnreplayableBodies(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1) }))
	defer srv.Close()
	h := hedge.New(hedge.Delay(time.Nanosecond))
	client := &http.Client{Transport: hedge.Transport(newTransport(t), h)}
	req, _ := http.NewRequest("PUT", srv.URL, io.MultiReader(strings.NewReader("stream"))) // no GetBody
	req.Header.Set("Idempotency-Key", "k")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n.Load() != 1 || h.Stats().Calls != 0 {
		t.Fatalf("sent %d times, hedger calls %d; want once, unhedged", n.Load(), h.Stats().Calls)
	}
}

// TestTransportClosesTheOriginalBody: RoundTrip closes req.Body, as a
// RoundTripper must, when it succeeds, when every attempt fails, and when
// the context was done before it started.
func TestTransportClosesTheOriginalBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(w, r.Body) }))
	defer srv.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close() // connection refused from now on
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	for name, c := range map[string]struct {
		ctx     context.Context
		url     string
		wantErr bool
	}{
		"success":   {t.Context(), srv.URL, false},
		"error":     {t.Context(), dead.URL, true},
		"cancelled": {cancelled, srv.URL, true},
	} {
		t.Run(name, func(t *testing.T) {
			h := hedge.New(hedge.Delay(time.Millisecond))
			rt := hedge.Transport(newTransport(t), h)
			req, orig := replayable(t, c.ctx, "POST", c.url, "payload")
			req.Header.Set("Idempotency-Key", "k")
			resp, err := rt.RoundTrip(req)
			if (err != nil) != c.wantErr {
				t.Fatalf("RoundTrip error %v, want error: %v", err, c.wantErr)
			}
			if resp != nil {
				resp.Body.Close()
			}
			waitFor(t, orig.closed.Load)
		})
	}
}

// TestTransportUpgradeThroughReverseProxy: a WebSocket-style upgrade
// through httputil.ReverseProxy over real loopback HTTP is sent once,
// unhedged, and the 101 response's body stays writable, so the proxy can
// splice the two connections.
func TestTransportUpgradeThroughReverseProxy(t *testing.T) {
	var upgrades atomic.Int32
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" {
			http.Error(w, "want an upgrade", http.StatusBadRequest)
			return
		}
		upgrades.Add(1)
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n') // echo one line
		brw.WriteString(line)
		brw.Flush()
	}))
	defer backend.Close()
	target, _ := url.Parse(backend.URL)
	h := hedge.New(hedge.Delay(time.Nanosecond), hedge.Budget(1))
	proxy := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		Transport: hedge.Transport(newTransport(t), h),
	})
	defer proxy.Close()

	conn, err := net.Dial("tcp", proxy.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second)) // a failure must not hang the test
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: proxy\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d through the proxy, want 101", resp.StatusCode)
	}
	io.WriteString(conn, "ping\n")
	if line, err := br.ReadString('\n'); line != "ping\n" {
		t.Fatalf("echo = %q, %v", line, err)
	}
	if upgrades.Load() != 1 || h.Stats().Calls != 0 {
		t.Fatalf("upgrade sent %d times, hedger calls %d; want once, unhedged", upgrades.Load(), h.Stats().Calls)
	}
}

// TestTransportFailedStatus: a 503 is a failed attempt that hedges at
// once and loses to a 200; when every attempt answers 503 the first
// attempt's response is returned, readable, and the others are closed;
// FailedStatus() lets a 503 win.
func TestTransportFailedStatus(t *testing.T) {
	var ok atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Attempt") == "0" || !ok.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "busy "+r.Header.Get("X-Attempt"))
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	get := func(opts ...hedge.TransportOption) (int, string, *hedge.Hedger, *trackingTransport) {
		t.Helper()
		h := hedge.New(hedge.Delay(time.Hour), hedge.MaxAttempts(3))
		tracking := &trackingTransport{rt: attemptHeader{newTransport(t)}}
		client := &http.Client{Transport: hedge.Transport(tracking, h, opts...)}
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		waitFor(t, func() bool { return tracking.closed.Load() == tracking.opened.Load() })
		return resp.StatusCode, string(b), h, tracking
	}

	ok.Store(true)
	if code, body, h, _ := get(); code != 200 || body != "ok" || h.Stats().Hedges != 1 {
		t.Fatalf("got %d %q, stats %+v; want the hedge's 200 after the 503", code, body, h.Stats())
	}
	ok.Store(false)
	if code, body, h, tr := get(); code != 503 || body != "busy 0" || tr.opened.Load() != 3 || h.Stats().Failures != 1 {
		t.Fatalf("got %d %q (%d opened), stats %+v; want the first attempt's 503 of 3", code, body, tr.opened.Load(), h.Stats())
	}
	if code, _, h, _ := get(hedge.FailedStatus()); code != 503 || h.Stats().Hedges != 0 {
		t.Fatalf("FailedStatus(): got %d, stats %+v; want the 503 to win unhedged", code, h.Stats())
	}
}

// TestTransportStreamingLosers: 1,000 hedged requests whose losers stream
// a body forever until cancelled: every body opened is closed and no
// goroutine is left behind. The first attempt's response is handed back
// only once the hedge has won and its context is cancelled, so every
// request has a streaming loser to discard.
func TestTransportStreamingLosers(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Attempt") != "0" {
			io.WriteString(w, "ok")
			return
		}
		chunk := []byte(strings.Repeat("x", 1024))
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(time.Millisecond):
			}
		}
	}))
	base := &http.Transport{MaxIdleConnsPerHost: 16}
	tracking := &trackingTransport{rt: holdFirst{attemptHeader{base}}}
	h := hedge.New(hedge.Delay(time.Millisecond), hedge.Budget(1))
	client := &http.Client{Transport: hedge.Transport(tracking, h)}
	const requests, callers = 1000, 8
	var wg sync.WaitGroup
	var next atomic.Int32
	for range callers {
		wg.Go(func() {
			for next.Add(1) <= requests {
				ctx := context.WithValue(t.Context(), firstHeadersKey{}, make(chan struct{}))
				req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != "ok" {
					t.Errorf("body %q, want the hedge's ok", b)
					return
				}
			}
		})
	}
	wg.Wait()
	waitFor(t, func() bool { return tracking.closed.Load() == tracking.opened.Load() })
	// Nearly every request has a streaming loser; a first attempt whose
	// connection failed under load (a reused connection reset) has none.
	if s := h.Stats(); s.HedgeWins != requests || tracking.opened.Load() < requests+requests*9/10 {
		t.Fatalf("Stats = %+v, %d bodies opened; want every hedge to win over a streaming loser", s, tracking.opened.Load())
	}
	base.CloseIdleConnections()
	srv.Close()
	goleak.VerifyNone(t, ignore)
}

// holdFirst sends the hedge only once the first attempt's headers have
// come (the channel under firstHeadersKey in the request's context), and
// returns the first attempt's response only once its context is cancelled
// (the hedge has won), its body still streaming.
type holdFirst struct{ rt http.RoundTripper }

type firstHeadersKey struct{}

func (h holdFirst) RoundTrip(r *http.Request) (*http.Response, error) {
	firstHeaders := r.Context().Value(firstHeadersKey{}).(chan struct{})
	if hedge.Attempt(r.Context()) > 0 {
		<-firstHeaders
		return h.rt.RoundTrip(r)
	}
	resp, err := h.rt.RoundTrip(r)
	close(firstHeaders)
	<-r.Context().Done()
	return resp, err
}
