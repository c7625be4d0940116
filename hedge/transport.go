package hedge

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// TransportOption configures a Transport.
type TransportOption interface{ applyTransport(*transportConfig) }

type transportConfig struct {
	failed map[int]bool // statuses that count as a failed attempt
}

type transportOptionFunc func(*transportConfig)

func (f transportOptionFunc) applyTransport(c *transportConfig) { f(c) }

// FailedStatus sets the response statuses that count as a failed attempt,
// in place of the default 502, 503 and 504: such a response starts the
// next attempt at once (within the Budget) instead of winning, and is
// returned only if every attempt fails, the first attempt's then.
// FailedStatus() with no codes lets any response win. Each code must be a
// status from 100 to 599.
func FailedStatus(codes ...int) TransportOption {
	failed := make(map[int]bool, len(codes))
	for _, c := range codes {
		if c < 100 || c > 599 {
			panic(fmt.Sprintf("hedge: FailedStatus(%d): not an HTTP status", c))
		}
		failed[c] = true
	}
	return transportOptionFunc(func(c *transportConfig) { c.failed = failed })
}

// Transport returns an http.RoundTripper that hedges idempotent requests
// through rt (http.DefaultTransport if nil) with h's policy, and passes
// every other request through once.
//
// A request is hedged if its method is GET, HEAD or OPTIONS, or if it
// carries an Idempotency-Key header, and its body can be replayed (none,
// or GetBody set, as http.NewRequest does for common bodies). Protocol
// upgrades (a Connection: Upgrade request, such as a WebSocket handshake)
// are never hedged: the connection they open cannot be duplicated.
//
// Each attempt sends a clone of the request with its own context; the
// first sends the original body, the others a body from GetBody, and the
// original body is closed, as a RoundTripper must, even on errors. A
// response with a FailedStatus (502, 503 and 504 by default) is a failed
// attempt. Responses that do not win are closed on their attempts'
// goroutines once cancelled; the returned response's body stays readable
// after RoundTrip returns, and closing it releases its attempt's context.
func Transport(rt http.RoundTripper, h *Hedger, opts ...TransportOption) http.RoundTripper {
	if h == nil {
		panic("hedge: Transport(rt, nil)")
	}
	if rt == nil {
		rt = http.DefaultTransport
	}
	cfg := transportConfig{failed: map[int]bool{
		http.StatusBadGateway: true, http.StatusServiceUnavailable: true, http.StatusGatewayTimeout: true,
	}}
	for _, o := range opts {
		o.applyTransport(&cfg)
	}
	t := &transport{rt: rt, h: h}
	t.results = Results[*http.Response]{
		Failed: func(resp *http.Response, err error) bool {
			return err != nil || cfg.failed[resp.StatusCode]
		},
		Discard:     closeResponse,
		KeepContext: true,
	}
	return t
}

type transport struct {
	rt      http.RoundTripper
	h       *Hedger
	results Results[*http.Response]
}

func hedgeable(r *http.Request) bool {
	if isUpgrade(r.Header) {
		return false
	}
	replayable := r.Body == nil || r.Body == http.NoBody || r.GetBody != nil
	switch r.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions:
		return replayable
	}
	return replayable && r.Header.Get("Idempotency-Key") != ""
}

// isUpgrade reports a request that asks to switch protocols: an Upgrade
// header, or "upgrade" among the Connection header's words. Words are split
// at commas and spaces alike, so a malformed list errs on the side of not
// hedging.
func isUpgrade(h http.Header) bool {
	if len(h["Upgrade"]) > 0 {
		return true
	}
	for _, v := range h["Connection"] {
		for _, word := range strings.FieldsFunc(v, isListSeparator) {
			if strings.EqualFold(word, "upgrade") {
				return true
			}
		}
	}
	return false
}

func isListSeparator(r rune) bool { return r == ',' || r == ' ' || r == '\t' }

func hasBody(r *http.Request) bool { return r.Body != nil && r.Body != http.NoBody }

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !hedgeable(req) {
		return t.rt.RoundTrip(req)
	}
	if err := req.Context().Err(); err != nil {
		if hasBody(req) {
			req.Body.Close() // no attempt will send it
		}
		return nil, err
	}
	// run starts the first attempt whatever happens next, and that attempt
	// hands the original body to rt, which closes it.
	resp, release, err := run(req.Context(), t.h, func(ctx context.Context) (*http.Response, error) {
		r := req.Clone(ctx)
		if Attempt(ctx) > 0 && hasBody(req) {
			body, err := req.GetBody()
			if err != nil {
				return nil, fmt.Errorf("hedge: replaying the request body: %w", err)
			}
			r.Body = body
		}
		return t.rt.RoundTrip(r)
	}, t.results)
	if err != nil {
		return nil, err
	}
	resp.Body = releaseOnClose(resp.Body, release)
	return resp, nil
}

// closeResponse discards a response that did not win: a little of its body
// is drained, so the connection can be reused, then it is closed.
func closeResponse(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
}

// releaseOnClose wraps body so that closing it ends its attempt's context,
// not before, so the body can be read after RoundTrip. A body that is also
// an io.Writer (a 101 Switching Protocols connection) stays one.
func releaseOnClose(body io.ReadCloser, release func()) io.ReadCloser {
	if rwc, ok := body.(io.ReadWriteCloser); ok {
		return &releasingReadWriter{releasingBody{rwc, release}, rwc}
	}
	return &releasingBody{body, release}
}

type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}

type releasingReadWriter struct {
	releasingBody
	w io.Writer
}

func (b *releasingReadWriter) Write(p []byte) (int, error) { return b.w.Write(p) }
