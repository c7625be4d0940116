package main

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/breakeven-go/breakeven/cow"
	"github.com/breakeven-go/breakeven/fanout"
	"github.com/breakeven-go/breakeven/hedge"
	"github.com/breakeven-go/breakeven/pool"
	"github.com/breakeven-go/breakeven/ratelimit"
	"github.com/breakeven-go/breakeven/shard"
	"github.com/breakeven-go/breakeven/shed"
)

// The simulated backends answer in backendFast, except one call in 50 that
// takes backendSlow; backendBudget calls may be in flight across all
// requests. With hedging, a call costs about backendFast, so capacity is at
// most backendBudget / backendFast / Fanout = 400 requests/s at the default
// fan-out of 4 (less in practice: timers and scheduling; loadgen measures
// it), and lower without hedging, where a slow call holds its budget unit.
const (
	backendFast   = 10 * time.Millisecond
	backendSlow   = 100 * time.Millisecond
	backendBudget = 16
)

// service is the state behind the routes: one of each primitive, built
// once and shared by every request (a limiter or budget per request would
// limit nothing).
type service struct {
	config  *cow.Value[Config]
	shedder *shed.Adaptive
	limiter *ratelimit.Keyed[string]
	budget  *fanout.Budget
	hedger  *hedge.Hedger
	bufs    *pool.Bytes

	requests, served, failed *shard.Counter
	// Requests per X-Client-Id, for at most maxClients ids: any client can
	// send any id, so past the bound the rest count under otherClients.
	perClient    *shard.Map[string, *shard.Counter]
	clients      atomic.Int64 // ids in perClient, reserved before storing
	maxClients   int64
	otherClients *shard.Counter
	backendCalls atomic.Int64
	// backend is one call to the backends: callBackend, or a stand-in in
	// tests that must hold a request in flight.
	backend func(ctx context.Context) (int, error)
}

func newService(cfg Config) *service {
	s := &service{
		config:       cow.NewValue(cfg),
		shedder:      shed.NewAdaptive(),
		limiter:      ratelimit.NewKeyed[string](100, 50, ratelimit.MaxKeys(100_000)),
		budget:       fanout.NewBudget(backendBudget),
		hedger:       hedge.New(hedge.Percentile(0.95), hedge.Budget(0.10), hedge.MaxAttempts(2)),
		bufs:         pool.NewBytes(pool.MaxRetained(4 << 20)),
		requests:     shard.NewCounter(),
		served:       shard.NewCounter(),
		failed:       shard.NewCounter(),
		perClient:    shard.NewMap[string, *shard.Counter](),
		maxClients:   maxClients,
		otherClients: shard.NewCounter(),
	}
	s.backend = s.callBackend
	return s
}

func (s *service) routes() http.Handler {
	// The rate limiter goes in front of the shedder: a client over its rate
	// is answered 429 before the shedder sees the request, so those fast
	// refusals take no slot and never teach the shedder a no-load latency
	// that real work cannot meet (shed.Adaptive would re-measure it, at the
	// price of a few round trips at a low limit).
	work := http.HandlerFunc(s.work)
	shedWork := shed.Middleware(s.shedder, work)
	protected := ratelimit.Middleware(s.limiter, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.config.Load().Shed {
			shedWork.ServeHTTP(w, r)
		} else {
			work.ServeHTTP(w, r)
		}
	}), ratelimit.KeyFunc(clientID))
	mux := http.NewServeMux()
	mux.Handle("GET /work", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		protected.ServeHTTP(w, r)
	}))
	mux.HandleFunc("GET /metrics", s.metrics)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /admin/config", s.getConfig)
	mux.HandleFunc("POST /admin/config", s.setConfig)
	return mux
}

// clientID keys the rate limit: the X-Client-Id header, else the client's
// IP (the connection's, never a spoofable forwarded header).
func clientID(r *http.Request) (string, error) {
	if id := r.Header.Get("X-Client-Id"); id != "" {
		return id, nil
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	return host, err
}

// maxClients bounds the ids counted one by one, as MaxKeys bounds the
// limiter's.
const maxClients = 10_000

// clientCounter returns id's request counter, or the shared "other" one
// once maxClients ids are tracked. A slot is reserved with a CAS before the
// id is stored, so concurrent new ids cannot go over the bound.
func (s *service) clientCounter(id string) *shard.Counter {
	if c, ok := s.perClient.Load(id); ok {
		return c
	}
	for {
		n := s.clients.Load()
		if n >= s.maxClients {
			return s.otherClients
		}
		if s.clients.CompareAndSwap(n, n+1) {
			break
		}
	}
	// LoadOrCompute builds a Counter only for an id not seen before.
	c, loaded := s.perClient.LoadOrCompute(id, shard.NewCounter)
	if loaded {
		s.clients.Add(-1) // another request stored id first: give the slot back
	}
	return c
}

// work fans out to cfg.Fanout backend calls under the service-wide budget,
// hedging each, and answers with their sum.
func (s *service) work(w http.ResponseWriter, r *http.Request) {
	id, _ := clientID(r)
	s.clientCounter(id).Add(1)

	cfg := s.config.Load()
	shards := make([]int, cfg.Fanout)
	for i := range shards {
		shards[i] = i
	}
	call := s.backend
	if cfg.Hedge {
		call = func(ctx context.Context) (int, error) { return hedge.Do(ctx, s.hedger, s.backend) }
	}
	parts, err := fanout.Map(r.Context(), shards, func(ctx context.Context, _ int) (int, error) { return call(ctx) },
		fanout.WithBudget(s.budget), fanout.Limit(cfg.Fanout))
	if err != nil {
		s.failed.Add(1)
		http.Error(w, "backend: "+err.Error(), http.StatusBadGateway)
		return
	}
	sum := 0
	for _, p := range parts {
		sum += p
	}
	buf := s.bufs.Get(64)[:0]
	buf = strconv.AppendInt(buf, int64(sum), 10)
	buf = append(buf, '\n')
	w.Write(buf)
	s.bufs.Put(buf)
	s.served.Add(1)
}

// callBackend is one simulated backend call: backendFast, or backendSlow
// for one call in 50; it gives up when ctx is done (a hedge won, or the
// client left).
func (s *service) callBackend(ctx context.Context) (int, error) {
	s.backendCalls.Add(1)
	d := backendFast
	if rand.IntN(50) == 0 {
		d = backendSlow
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return 1, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (s *service) getConfig(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(s.config.Load())
}

// setConfig publishes a new config from the request body (fields it omits
// keep their defaults). Only loopback clients may change it.
func (s *service) setConfig(w http.ResponseWriter, r *http.Request) {
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		http.Error(w, "admin: loopback clients only", http.StatusForbidden)
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	cfg, err := parseConfig(data)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.config.Store(cfg)
	s.getConfig(w, r)
}
