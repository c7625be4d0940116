package shed_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/breakeven-go/breakeven/internal/suites"
	"github.com/breakeven-go/breakeven/shed"
)

// BenchmarkOverload is shed's breakeven suite: a 4-slot x 10 ms backend
// (400 req/s) behind the middleware on loopback, offered 0.5x to 4x its
// capacity open-loop for one second per op, with no shedding (impl=none,
// the baseline), a hand-tuned InFlight(8), and an untuned NewAdaptive().
// It reports goodput (answers within 200 ms, as a fraction of capacity),
// accepted p99 in ms, the shed fraction of requests, and wasted work (the
// fraction served too late to count).
//
//	go test -run '^$' -bench Overload -benchtime 1x -count 3 ./shed | benchstat -col /impl -
func BenchmarkOverload(b *testing.B) {
	const capacity = 400.0
	for _, load := range []float64{0.5, 1, 2, 4} {
		b.Run(fmt.Sprintf("load=%gx", load), func(b *testing.B) {
			for _, im := range []struct {
				name string
				wrap func(http.Handler) http.Handler
			}{
				{"none", func(h http.Handler) http.Handler { return h }},
				{"inflight", func(h http.Handler) http.Handler { return shed.Middleware(shed.NewInFlight(8), h) }},
				{"adaptive", func(h http.Handler) http.Handler { return shed.Middleware(shed.NewAdaptive(), h) }},
			} {
				b.Run("impl="+im.name, func(b *testing.B) {
					srv := httptest.NewServer(im.wrap(suites.SlotBackend(4, 10*time.Millisecond)))
					defer srv.Close()
					tr := &http.Transport{MaxIdleConnsPerHost: 1000}
					defer tr.CloseIdleConnections()
					client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
					var good, shedN, late, total float64
					var p99 time.Duration
					for range b.N {
						res := suites.OpenLoop(context.Background(), client, srv.URL, int(load*capacity), time.Second, 200*time.Millisecond)
						good += float64(res.Good)
						shedN += float64(res.Shed)
						served := float64(res.Accepted.Len())
						late += served - float64(res.Good)
						total += served + float64(res.Shed) + float64(res.Other)
						p99 = max(p99, res.Accepted.Percentile(0.99))
					}
					b.ReportMetric(good/(capacity*float64(b.N)), "goodput")
					b.ReportMetric(float64(p99)/1e6, "p99-ms")
					b.ReportMetric(shedN/total, "shed-frac")
					b.ReportMetric(late/total, "wasted-frac")
				})
			}
		})
	}
}
