package shed_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/breakeven-go/breakeven/shed"
)

// TestOutcomeFollowsTheStatusSent: the outcome follows the status the
// client got. A WriteHeader after the first final status is superfluous
// (net/http ignores it and logs it), so a 200 followed by a 503 is a
// success, not a drop.
func TestOutcomeFollowsTheStatusSent(t *testing.T) {
	l := shed.NewInFlight(4)
	h := shed.Middleware(l, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.WriteHeader(http.StatusServiceUnavailable) // superfluous
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if s := l.Stats(); s.Accepted != 1 || s.Dropped != 0 || s.Failed != 0 || s.Cancelled != 0 {
		t.Fatalf("200 then a superfluous 503: Stats = %+v, want one success", s)
	}
}
