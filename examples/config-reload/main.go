// Command config-reload holds its configuration in a cow.Value and reloads
// it without a restart when the file changes (polled) or on SIGHUP. Request
// paths read the config with one atomic load; a reload publishes a new
// version that readers see from their next load, and a bad file is
// reported and ignored.
//
//	go run ./examples/config-reload              # demo: edits its own file
//	go run ./examples/config-reload -config app.json   # then edit app.json, or kill -HUP
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/breakeven-go/breakeven/cow"
)

// Config is immutable once published: a reload builds a new one.
type Config struct {
	Greeting string `json:"greeting"`
	MaxItems int    `json:"max_items"`
}

func (c Config) validate() error {
	if c.Greeting == "" || c.MaxItems < 1 {
		return errors.New("greeting must be set and max_items at least 1")
	}
	return nil
}

func load(path string) (Config, error) {
	var c Config
	data, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(data, &c)
	}
	if err == nil {
		err = c.validate()
	}
	if err != nil {
		return Config{}, fmt.Errorf("config-reload: %s: %w", path, err)
	}
	return c, nil
}

func main() {
	path := flag.String("config", "", "JSON config file to watch (default: a demo that edits a temporary file)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if *path == "" {
		err = demo(ctx, os.Stdout)
	} else {
		err = watch(ctx, os.Stdout, *path, time.Second, nil, nil)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Fatal(err)
	}
}

// watch loads path into a cow.Value, reloads it every poll when its
// modification time changes and on SIGHUP, and prints each version a
// reader sees, until ctx is done or stopWhen (if not nil) accepts one. If
// published is not nil, it receives the Value once loaded.
func watch(ctx context.Context, out io.Writer, path string, poll time.Duration,
	stopWhen func(Config) bool, published chan<- *cow.Value[Config]) error {
	initial, err := load(path)
	if err != nil {
		return err
	}
	cfg := cow.NewValue(initial)
	out = &lockedWriter{w: out} // the reloader and the reader both print
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	reloaderDone := make(chan struct{})
	modTime := mtime(path)
	go func() { // the reloader: the only writer
		defer close(reloaderDone)
		tick := time.NewTicker(poll)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
			case <-tick.C:
				m := mtime(path)
				if m.Equal(modTime) {
					continue
				}
				modTime = m
			}
			// TryUpdate keeps the running config if the new one is bad.
			if _, err := cfg.TryUpdate(func(Config) (Config, error) { return load(path) }); err != nil {
				fmt.Fprintf(out, "reload refused, keeping version %d: %v\n", cfg.Version(), err)
			}
		}
	}()
	if published != nil {
		published <- cfg
	}
	// A reader: Watch yields the current config, then each new version.
	for c := range cfg.Watch(ctx) {
		fmt.Fprintf(out, "config version %d: greeting=%q max_items=%d\n", cfg.Version(), c.Greeting, c.MaxItems)
		if stopWhen != nil && stopWhen(c) {
			break
		}
	}
	cancel()
	<-reloaderDone
	return context.Cause(ctx)
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func mtime(path string) time.Time {
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

// demo writes a config, watches it, then edits the file twice: first with
// a mistake, which is refused, then correctly, which is published.
func demo(ctx context.Context, out io.Writer) error {
	dir, err := os.MkdirTemp("", "config-reload")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "app.json")
	t0 := time.Now().Add(-time.Hour)
	write := func(s string, minute int) error {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			return err
		}
		at := t0.Add(time.Duration(minute) * time.Minute) // distinct mtimes on any file system
		return os.Chtimes(path, at, at)
	}
	if err := write(`{"greeting": "hello", "max_items": 10}`, 0); err != nil {
		return err
	}
	published := make(chan *cow.Value[Config], 1)
	done := make(chan error, 1)
	go func() {
		done <- watch(ctx, out, path, 10*time.Millisecond, func(c Config) bool { return c.Greeting == "bonjour" }, published)
	}()
	var cfg *cow.Value[Config]
	select {
	case cfg = <-published:
	case err := <-done:
		return err
	}
	if err := write(`{"greeting": "", "max_items": 10}`, 1); err != nil {
		return err
	}
	for cfg.Stats().Rejected == 0 { // until the reloader has seen and refused it
		time.Sleep(5 * time.Millisecond)
	}
	if err := write(`{"greeting": "bonjour", "max_items": 20}`, 2); err != nil {
		return err
	}
	if err := <-done; !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
