// Command shed overloads a small HTTP backend (4 slots x 10 ms: 400
// requests/s) on loopback at twice its capacity and prints goodput (answers
// within 200 ms, as a fraction of capacity) and p99 for three setups: no
// shedding, a hand-tuned shed.NewInFlight(8), and an untuned
// shed.NewAdaptive(). Without shedding the queue grows until almost every
// answer comes too late; with it the excess gets a fast 503 + Retry-After
// and the rest is served on time.
//
//	go run ./examples/shed
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"text/tabwriter"
	"time"

	"github.com/breakeven-go/breakeven/internal/suites"
	"github.com/breakeven-go/breakeven/shed"
)

func main() {
	if err := run(context.Background(), os.Stdout, 2*time.Second); err != nil {
		log.Fatal(err)
	}
}

const capacity = 400 // requests/s: 4 slots x 10 ms

func run(ctx context.Context, out io.Writer, d time.Duration) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "at 2x capacity\tgoodput\tp99 (served)\tshed (503)\t")
	for _, setup := range []struct {
		name string
		wrap func(http.Handler) http.Handler
	}{
		{"no shedding", func(h http.Handler) http.Handler { return h }},
		{"InFlight(8)", func(h http.Handler) http.Handler { return shed.Middleware(shed.NewInFlight(8), h) }},
		{"NewAdaptive()", func(h http.Handler) http.Handler { return shed.Middleware(shed.NewAdaptive(), h) }},
	} {
		// The backend and the load generator come from this repository's
		// benchmark kit; the lesson is the one-line wrap above.
		srv := httptest.NewServer(setup.wrap(suites.SlotBackend(4, 10*time.Millisecond)))
		tr := &http.Transport{MaxIdleConnsPerHost: 1000}
		res := suites.OpenLoop(ctx, &http.Client{Transport: tr, Timeout: 30 * time.Second},
			srv.URL, 2*capacity, d, 200*time.Millisecond)
		tr.CloseIdleConnections()
		srv.Close()
		if err := ctx.Err(); err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%v\t%d\t\n", setup.name, float64(res.Good)/(capacity*d.Seconds()),
			res.Accepted.Percentile(0.99).Round(time.Millisecond), res.Shed)
	}
	return tw.Flush()
}
