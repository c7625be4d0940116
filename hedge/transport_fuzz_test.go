package hedge_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breakeven-go/breakeven/hedge"
)

// countingTransport answers every request with an empty 200 and counts them.
type countingTransport struct{ n atomic.Int32 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
}

// FuzzTransportUpgradeHeaders: whatever a client puts in Connection and
// Upgrade, a request asking to switch protocols goes through once,
// unhedged, and any other GET is hedged; nothing panics.
func FuzzTransportUpgradeHeaders(f *testing.F) {
	f.Add("Upgrade", "websocket")
	f.Add("keep-alive, Upgrade", "")
	f.Add("close", "")
	f.Add("", "")
	f.Add("UPGRADE\t,x", "")
	f.Add("upgrades", "")
	f.Fuzz(func(t *testing.T, connection, upgrade string) {
		h := hedge.New(hedge.Delay(time.Hour))
		backend := &countingTransport{}
		req, err := http.NewRequest("GET", "http://backend.invalid/", nil)
		if err != nil {
			t.Fatal(err)
		}
		if connection != "" {
			req.Header["Connection"] = []string{connection}
		}
		if upgrade != "" {
			req.Header["Upgrade"] = []string{upgrade}
		}
		resp, err := hedge.Transport(backend, h).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		asksUpgrade := upgrade != ""
		for _, w := range strings.FieldsFunc(connection, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
			asksUpgrade = asksUpgrade || strings.EqualFold(w, "upgrade")
		}
		if backend.n.Load() != 1 {
			t.Fatalf("sent %d times, want once", backend.n.Load())
		}
		if hedged := h.Stats().Calls == 1; hedged == asksUpgrade {
			t.Fatalf("Connection %q, Upgrade %q: hedged %v", connection, upgrade, hedged)
		}
	})
}
