// Command service is a small HTTP service that puts every breakeven
// primitive in its place:
//
//   - a per-client rate limit (ratelimit.Keyed, keyed by X-Client-Id) at
//     the door, then a load shedder (shed.Adaptive) in front of the work
//     itself, so 429s never feed the shedder's latency samples;
//   - a handler that fans out to simulated backends (fanout.ForEach) under
//     one service-wide budget (fanout.Budget), each call hedged
//     (hedge.Percentile) against the backends' slow tail;
//   - its configuration in a cow.Value, reloaded without restart from a
//     file on SIGHUP or from POST /admin/config (loopback clients only);
//   - request counters on shard.Counter, per-client counts in a shard.Map,
//     response buffers from pool.Bytes;
//   - /metrics with every primitive's Stats in Prometheus text format;
//   - /debug/pprof only with -pprof ADDR, and only on loopback;
//   - graceful shutdown on SIGINT/SIGTERM that drains in-flight requests.
//
// Run it and drive it with the load generator:
//
//	go run ./examples/service &
//	go run ./examples/service/loadgen
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address (loopback by default)")
	pprofAddr := flag.String("pprof", "", "serve /debug/pprof on this loopback address, e.g. 127.0.0.1:6060 (off by default)")
	configPath := flag.String("config", "", "JSON config file, re-read on SIGHUP (default: built-in defaults)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *pprofAddr, *configPath, log.Default()); err != nil {
		log.Fatal(err)
	}
}

// run serves until ctx is done, then drains in-flight requests.
func run(ctx context.Context, addr, pprofAddr, configPath string, logger *log.Logger) error {
	cfg := defaultConfig()
	if configPath != "" {
		var err error
		if cfg, err = readConfig(configPath); err != nil {
			return err
		}
	}
	svc := newService(cfg)

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if pprofAddr != "" {
		stopPprof, err := servePprof(pprofAddr, logger)
		if err != nil {
			ln.Close()
			return err
		}
		defer stopPprof()
	}
	if configPath != "" {
		stopReload := reloadOnSIGHUP(configPath, svc, logger)
		defer stopReload()
	}
	return serve(ctx, ln, svc, logger)
}

// serve answers on ln until ctx is done, then stops accepting and waits up
// to 10 s for in-flight requests to finish.
func serve(ctx context.Context, ln net.Listener, svc *service, logger *log.Logger) error {
	srv := &http.Server{Handler: svc.routes(), ReadHeaderTimeout: 5 * time.Second}
	logger.Printf("service: listening on http://%s (work: /work, metrics: /metrics)", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Printf("service: shutting down, draining in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("service: shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// servePprof serves the profiler on a loopback address only: profiles
// reveal internals and cost CPU, so they never face the network by default.
func servePprof(addr string, logger *log.Logger) (stop func(), err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("service: -pprof %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("service: -pprof %q: not a loopback address", addr)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	logger.Printf("service: pprof on http://%s/debug/pprof/", ln.Addr())
	return func() { srv.Close(); <-done }, nil
}

// reloadOnSIGHUP re-reads the config file on each SIGHUP and publishes it;
// a bad file is logged and the running config kept.
func reloadOnSIGHUP(path string, svc *service, logger *log.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-hup:
				cfg, err := readConfig(path)
				if err != nil {
					logger.Printf("service: reload: %v (keeping the running config)", err)
					continue
				}
				svc.config.Store(cfg)
				logger.Printf("service: config reloaded from %s", path)
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(hup); close(done); <-finished }
}
