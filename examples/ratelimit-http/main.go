// Command ratelimit-http limits each API client to 5 requests/s (burst 5)
// with one ratelimit.Keyed shared by the whole server, keyed by the
// X-Api-Key header, over real HTTP on loopback. A greedy client sends 20
// requests at once and a polite one 3: the greedy client gets 429s with
// Retry-After, the polite one is untouched, because the limit is per client
// and the limiter is created once, not per handler call.
//
//	go run ./examples/ratelimit-http
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"

	"github.com/breakeven-go/breakeven/ratelimit"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// newHandler is the server: one Keyed limiter for every request.
func newHandler() http.Handler {
	limiter := ratelimit.NewKeyed[string](5, 5) // 5/s per client, bursts of 5
	byAPIKey := ratelimit.KeyFunc(func(r *http.Request) (string, error) {
		if k := r.Header.Get("X-Api-Key"); k != "" {
			return k, nil
		}
		return "", errors.New("missing X-Api-Key")
	})
	api := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	return ratelimit.Middleware(limiter, api, byAPIKey)
}

func run(ctx context.Context, out io.Writer) error {
	srv := httptest.NewServer(newHandler()) // 127.0.0.1, a free port
	defer srv.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	for _, c := range []struct {
		key      string
		requests int
	}{{"greedy", 20}, {"polite", 3}} {
		var mu sync.Mutex
		codes := map[int]int{}
		retryAfter := ""
		var wg sync.WaitGroup
		errs := make(chan error, c.requests)
		for range c.requests {
			wg.Go(func() {
				req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
				req.Header.Set("X-Api-Key", c.key)
				resp, err := client.Do(req)
				if err != nil {
					errs <- err
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				codes[resp.StatusCode]++
				if ra := resp.Header.Get("Retry-After"); ra != "" {
					retryAfter = ra
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: %d requests at once: %d allowed, %d limited", c.key, c.requests, codes[200], codes[429])
		if retryAfter != "" {
			fmt.Fprintf(out, " (Retry-After: %ss)", retryAfter)
		}
		fmt.Fprintln(out)
	}
	return nil
}
