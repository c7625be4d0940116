// Command loadgen drives examples/service open-loop and prints what a
// reader of its dashboards would look at: p50 and p99 latency, goodput,
// shed (503) and rate-limited (429) counts and hedges, at half, once and
// twice the service's capacity (the -levels flag), first with the service's
// protection off (no shedding, no hedging: "before") and then on ("after"). It switches modes
// through the service's POST /admin/config and restores the config it
// found. It talks to loopback only and stops by itself.
//
//	go run ./examples/service &
//	go run ./examples/service/loadgen
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

type options struct {
	base     string        // the service's base URL
	capacity float64       // requests per second the service can answer
	levels   []float64     // multiples of capacity to offer
	duration time.Duration // per level
	deadline time.Duration // an answer later than this is not goodput
	clients  int           // distinct X-Client-Id values
	compare  bool          // run protection off, then on
}

func main() {
	var o options
	var levels string
	flag.StringVar(&o.base, "url", "http://127.0.0.1:8080", "the service's base URL (loopback only)")
	flag.Float64Var(&o.capacity, "capacity", 0, "the service's capacity in requests/s; 0 measures it first (closed loop, protection on)")
	flag.StringVar(&levels, "levels", "0.5,1,2", "offered load as multiples of -capacity")
	flag.DurationVar(&o.duration, "duration", 3*time.Second, "time at each level")
	flag.DurationVar(&o.deadline, "deadline", 250*time.Millisecond, "answers later than this do not count as goodput")
	flag.IntVar(&o.clients, "clients", 64, "distinct client ids to spread requests over")
	flag.BoolVar(&o.compare, "compare", true, "measure with protection off (before) and on (after)")
	flag.Parse()
	for _, f := range strings.Split(levels, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || v <= 0 {
			fmt.Fprintf(os.Stderr, "loadgen: -levels %q: %q is not a positive number\n", levels, f)
			os.Exit(2)
		}
		o.levels = append(o.levels, v)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, o); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// result is one level's outcome.
type result struct {
	mode           string
	level, offered float64
	p50, p99       time.Duration
	goodput        float64 // good answers per second over capacity
	shed, limited  int64
	errors, hedges int64
}

func run(ctx context.Context, out io.Writer, o options) error {
	u, err := url.Parse(o.base)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-url %s: loadgen only drives loopback services", o.base)
	}
	if o.capacity < 0 || o.duration <= 0 || o.clients < 1 {
		return errors.New("-capacity must not be negative, -duration and -clients must be positive")
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 2000}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}

	original, err := getConfig(ctx, client, o.base)
	if err != nil {
		return fmt.Errorf("is the service running? %w", err)
	}
	modes := []struct {
		name  string
		patch string
	}{{"after", `{"shed":true,"hedge":true}`}}
	if o.compare {
		modes = slices.Insert(modes, 0, struct{ name, patch string }{"before", `{"shed":false,"hedge":false}`})
	}
	defer setConfig(context.WithoutCancel(ctx), client, o.base, original)

	if o.capacity == 0 {
		if err := setConfig(ctx, client, o.base, mergeJSON(original, modes[len(modes)-1].patch)); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "loadgen: measuring capacity (closed loop, %d clients, %v)\n", calibrationClients, o.duration)
		if o.capacity, err = measureCapacity(ctx, client, o); err != nil {
			return err
		}
		fmt.Fprintf(out, "capacity: %.0f req/s, measured closed-loop with protection on\n", o.capacity)
	}

	var results []result
	for _, m := range modes {
		if err := setConfig(ctx, client, o.base, mergeJSON(original, m.patch)); err != nil {
			return err
		}
		for _, level := range o.levels {
			fmt.Fprintf(os.Stderr, "loadgen: %s, %.1fx capacity (%.0f req/s) for %v\n", m.name, level, level*o.capacity, o.duration)
			before, err := scrape(ctx, client, o.base)
			if err != nil {
				return err
			}
			r := openLoop(ctx, client, o, level)
			after, err := scrape(ctx, client, o.base)
			if err != nil {
				return err
			}
			r.mode = m.name
			r.hedges = after["hedge_hedges_total"] - before["hedge_hedges_total"]
			results = append(results, r)
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\tload\treq/s\tp50\tp99\tgoodput\tshed 503\tlimited 429\terrors\thedges\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%.1fx\t%.0f\t%v\t%v\t%.2f\t%d\t%d\t%d\t%d\t\n", r.mode, r.level, r.offered,
			r.p50.Round(100*time.Microsecond), r.p99.Round(100*time.Microsecond), r.goodput, r.shed, r.limited, r.errors, r.hedges)
	}
	tw.Flush()
	fmt.Fprintf(out, "goodput: answers within %v per second, over the capacity of %.0f req/s\n", o.deadline, o.capacity)
	return nil
}

// openLoop offers level x capacity requests per second for o.duration,
// each on its own goroutine whatever the service's pace (arrivals do not
// wait for answers), and waits for every answer.
func openLoop(ctx context.Context, client *http.Client, o options, level float64) result {
	rate := level * o.capacity
	r := result{level: level, offered: rate}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var lat []time.Duration
	var good, shed, limited, failed atomic.Int64
	every := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	for i := 0; time.Since(start) < o.duration && ctx.Err() == nil; i++ {
		wg.Go(func() {
			code, took, err := work(ctx, client, o.base, "client-"+strconv.Itoa(i%o.clients))
			if err != nil {
				failed.Add(1)
				return
			}
			switch code {
			case http.StatusOK:
				mu.Lock()
				lat = append(lat, took)
				mu.Unlock()
				if took <= o.deadline {
					good.Add(1)
				}
			case http.StatusServiceUnavailable:
				shed.Add(1)
			case http.StatusTooManyRequests:
				limited.Add(1)
			default:
				failed.Add(1)
			}
		})
		time.Sleep(time.Until(start.Add(time.Duration(i+1) * every)))
	}
	elapsed := time.Since(start)
	wg.Wait()
	slices.Sort(lat)
	r.p50, r.p99 = percentile(lat, 0.50), percentile(lat, 0.99)
	r.goodput = float64(good.Load()) / elapsed.Seconds() / o.capacity
	r.shed, r.limited, r.errors = shed.Load(), limited.Load(), failed.Load()
	return r
}

// calibrationClients is the closed-loop concurrency that measures capacity:
// enough to keep the service's backend budget busy (requests the shedder
// refuses are not counted).
const calibrationClients = 16

// measureCapacity runs calibrationClients clients back to back for
// o.duration and returns the successful answers per second.
func measureCapacity(ctx context.Context, client *http.Client, o options) (float64, error) {
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for c := range calibrationClients {
		wg.Go(func() {
			for time.Since(start) < o.duration && ctx.Err() == nil {
				code, _, err := work(ctx, client, o.base, "calibrate-"+strconv.Itoa(c))
				if err != nil {
					failed.Add(1)
					return
				}
				if code == http.StatusOK {
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if ok.Load() == 0 {
		return 0, fmt.Errorf("measuring capacity: no request succeeded (%d failed)", failed.Load())
	}
	return float64(ok.Load()) / time.Since(start).Seconds(), nil
}

// work sends one GET /work as client id and returns its status and
// latency, the body read to the end.
func work(ctx context.Context, client *http.Client, base, id string) (int, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/work", nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("X-Client-Id", id)
	sent := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, time.Since(sent), nil
}

// percentile of sorted samples, nearest rank; 0 with none.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// scrape reads the service's /metrics into name → value (integer samples).
func scrape(ctx context.Context, client *http.Client, base string) (map[string]int64, error) {
	body, err := get(ctx, client, base+"/metrics")
	if err != nil {
		return nil, err
	}
	m := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if ok && !strings.HasPrefix(name, "#") {
			f, _ := strconv.ParseFloat(v, 64)
			m[name] = int64(f)
		}
	}
	return m, nil
}

func getConfig(ctx context.Context, client *http.Client, base string) ([]byte, error) {
	return get(ctx, client, base+"/admin/config")
}

func setConfig(ctx context.Context, client *http.Client, base string, cfg []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/admin/config", bytes.NewReader(cfg))
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("POST /admin/config: %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

func get(ctx context.Context, client *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// mergeJSON overlays patch's fields on base (both JSON objects).
func mergeJSON(base []byte, patch string) []byte {
	b := strings.TrimSpace(string(base))
	p := strings.TrimSpace(patch)
	if len(b) < 2 || len(p) <= 2 {
		return []byte(p)
	}
	// Later keys win in encoding/json, so the patch goes last.
	return []byte(strings.TrimSuffix(b, "}") + "," + strings.TrimPrefix(p, "{"))
}
