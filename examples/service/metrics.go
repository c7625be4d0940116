package main

import (
	"fmt"
	"io"
	"net/http"
)

// metrics writes every primitive's Stats in the Prometheus text format
// (version 0.0.4), standard library only.
func (s *service) metrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	sh := s.shedder.Stats()
	rl := s.limiter.Stats()
	bu := s.budget.Stats()
	he := s.hedger.Stats()
	bp := s.bufs.Stats()
	cfg := s.config.Load()
	cs := s.config.Stats()

	m := metricWriter{w: w}
	m.counter("service_requests_total", "Requests to /work.", uint64(s.requests.Load()))
	m.counter("service_served_total", "Requests to /work answered 200.", uint64(s.served.Load()))
	m.counter("service_failed_total", "Requests to /work whose backend calls failed.", uint64(s.failed.Load()))
	m.gauge("service_clients", "Client ids counted one by one (bounded by maxClients).", float64(s.perClient.Len()))
	m.counter("service_other_client_requests_total", "Requests from ids past the maxClients bound, counted together.", uint64(s.otherClients.Load()))
	m.counter("service_backend_calls_total", "Simulated backend calls, hedges included.", uint64(s.backendCalls.Load()))

	m.gauge("shed_limit", "Adaptive concurrency limit.", float64(sh.Limit))
	m.gauge("shed_in_flight", "Requests admitted and not yet done.", float64(sh.InFlight))
	m.counter("shed_accepted_total", "Requests admitted by the shedder.", sh.Accepted)
	m.counter("shed_shed_total", "Requests refused with 503.", sh.ShedSheddable+sh.ShedCritical)
	m.gauge("shed_min_latency_seconds", "No-load latency the limiter measures against.", sh.MinLatency.Seconds())

	m.gauge("ratelimit_keys", "Clients the rate limiter tracks.", float64(rl.Keys))
	m.counter("ratelimit_allowed_total", "Requests within their client's rate.", rl.Allowed)
	m.counter("ratelimit_denied_total", "Requests refused with 429.", rl.Denied)
	m.counter("ratelimit_evicted_total", "Client buckets dropped (mostly idle ones, which is free).", rl.Evicted)
	m.counter("ratelimit_evicted_active_total", "Client buckets dropped while not yet full: their debt was forgotten.", rl.EvictedActive)

	m.gauge("fanout_budget_size", "Backend calls allowed in flight, service-wide.", float64(bu.Size))
	m.gauge("fanout_budget_in_use", "Backend calls in flight now.", float64(bu.InUse))
	m.gauge("fanout_budget_waiting", "Fan-outs waiting for budget.", float64(bu.Waiting))
	m.gauge("fanout_budget_peak", "Most backend calls ever in flight at once.", float64(bu.Peak))

	m.counter("hedge_calls_total", "Hedged calls.", he.Calls)
	m.counter("hedge_hedges_total", "Extra attempts started.", he.Hedges)
	m.counter("hedge_wins_total", "Calls answered by an extra attempt.", he.HedgeWins)
	m.counter("hedge_budget_denied_total", "Hedges the budget refused.", he.BudgetDenied)
	m.counter("hedge_withheld_total", "Hedges not started because recent hedges seldom answered first.", he.Withheld)
	m.gauge("hedge_delay_seconds", "Current hedge delay (0: still learning).", he.Delay.Seconds())

	m.gauge("pool_retained_bytes", "Buffer capacity the pool keeps.", float64(bp.Retained))
	m.gauge("pool_outstanding", "Buffers handed out and not returned.", float64(bp.Outstanding))
	m.counter("pool_gets_total", "Buffer Gets.", bp.Gets)
	m.counter("pool_news_total", "Buffer Gets that allocated.", bp.News)

	m.gauge("config_version", "Config versions published (1: the initial one).", float64(cs.Version))
	m.gauge("config_fanout", "Backend calls per request.", float64(cfg.Fanout))
	m.gauge("config_shed", "1 if ingress shedding is on.", b2f(cfg.Shed))
	m.gauge("config_hedge", "1 if backend calls are hedged.", b2f(cfg.Hedge))
}

// metricWriter writes one metric family at a time: HELP, TYPE, sample.
type metricWriter struct{ w io.Writer }

func (m metricWriter) counter(name, help string, v uint64) {
	fmt.Fprintf(m.w, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", name, help, name, name, v)
}

func (m metricWriter) gauge(name, help string, v float64) {
	fmt.Fprintf(m.w, "# HELP %s %s\n# TYPE %s gauge\n%s %g\n", name, help, name, name, v)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
