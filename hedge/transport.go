package hedge

import (
	"context"
	"io"
	"net/http"
)

// Transport returns an http.RoundTripper that hedges idempotent requests
// through rt (http.DefaultTransport if nil) with h's policy, and passes
// every other request through once.
//
// A request is hedged if its method is GET, HEAD or OPTIONS, or if it
// carries an Idempotency-Key header and can be replayed (GetBody is set,
// as http.NewRequest does for common bodies). Each attempt sends a clone of
// the request with its own context. Responses of losing attempts are
// closed; the winning response's body stays readable after RoundTrip
// returns, and closing it releases the winner's context.
func Transport(rt http.RoundTripper, h *Hedger) http.RoundTripper {
	if h == nil {
		panic("hedge: Transport(rt, nil)")
	}
	if rt == nil {
		rt = http.DefaultTransport
	}
	return &transport{rt: rt, h: h}
}

type transport struct {
	rt http.RoundTripper
	h  *Hedger
}

func hedgeable(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return r.Body == nil || r.Body == http.NoBody || r.GetBody != nil
	}
	return r.Header.Get("Idempotency-Key") != "" && (r.Body == nil || r.Body == http.NoBody || r.GetBody != nil)
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !hedgeable(req) {
		return t.rt.RoundTrip(req)
	}
	resp, release, err := do(req.Context(), t.h, func(ctx context.Context) (*http.Response, error) {
		r := req.Clone(ctx)
		if req.GetBody != nil && req.Body != nil && req.Body != http.NoBody {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r.Body = body
		}
		return t.rt.RoundTrip(r)
	}, func(loser *http.Response) {
		io.Copy(io.Discard, io.LimitReader(loser.Body, 4<<10)) // lets the connection be reused
		loser.Body.Close()
	})
	if err != nil {
		return nil, err
	}
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}

// releasingBody cancels the winning attempt's context when the caller
// closes the body, not before, so the body can be read after RoundTrip.
type releasingBody struct {
	io.ReadCloser
	release context.CancelFunc
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}
