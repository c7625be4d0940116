package shed_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/breakeven-go/breakeven/shed"
)

// TestOptionBoundsAreInclusive: RetryAfter takes 1s..24h and Status any
// 4xx or 5xx code, both ends included; one step outside is refused with a
// "shed: " panic.
func TestOptionBoundsAreInclusive(t *testing.T) {
	l := shed.NewInFlight(1)
	p, _ := l.Acquire(t.Context())
	defer p.Release(shed.Success)
	for _, code := range []int{400, 599} {
		rec := httptest.NewRecorder()
		shed.Middleware(l, http.NotFoundHandler(), shed.Status(code), shed.RetryAfter(time.Second)).
			ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		s, err := strconv.Atoi(rec.Header().Get("Retry-After"))
		if rec.Code != code || err != nil || s < 1 || s > 2 {
			t.Errorf("Status(%d), RetryAfter(1s): %d with Retry-After %q; want %d and 1..2", code, rec.Code, rec.Header().Get("Retry-After"), code)
		}
	}
	for name, f := range map[string]func(){
		"Status(399)":         func() { shed.Status(399) },
		"Status(600)":         func() { shed.Status(600) },
		"RetryAfter(1s-1ns)":  func() { shed.RetryAfter(time.Second - 1) },
		"RetryAfter(24h+1ns)": func() { shed.RetryAfter(24*time.Hour + 1) },
	} {
		func() {
			defer func() {
				if msg, _ := recover().(string); !strings.HasPrefix(msg, "shed: ") {
					t.Errorf("%s: panic %q, want a shed: panic", name, msg)
				}
			}()
			f()
		}()
	}
}
