package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func redisClient(t *testing.T) *redis.Client {
	srv, err := startRedis()
	if errors.Is(err, errNoRedis) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.stop)
	c := redis.NewClient(&redis.Options{Addr: srv.addr})
	t.Cleanup(func() { c.Close() })
	return c
}

// TestImportStoresEveryValidRow runs both importers into a real Redis; run
// itself fails unless each stored exactly the valid rows.
func TestImportStoresEveryValidRow(t *testing.T) {
	rdb := redisClient(t)
	var out bytes.Buffer
	if err := run(t.Context(), &out, rdb, 3000, 100); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?s)serial +\d+ stored, \d+ invalid.*rows/s\npipelined +\d+ stored, \d+ invalid.*rows/s \([\d.]+x serial\)\n$`).MatchString(out.String()) {
		t.Fatalf("unexpected output:\n%s", out.String())
	}
	if n, err := rdb.DBSize(t.Context()).Result(); err != nil || n != 0 {
		t.Fatalf("%d keys left behind (%v)", n, err)
	}
}

// TestPipelinedImportStopsOnInsertFailure: with the store unreachable, the
// first failed insert ends the pipelined import with that error, having
// stopped the parse stage and the batcher (goleak in TestMain).
func TestPipelinedImportStopsOnInsertFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens here now
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	defer rdb.Close()
	var csv bytes.Buffer
	generate(&csv, 20_000, 2)
	_, err = importPipelined(t.Context(), &csv, &store{rdb: rdb, prefix: "x:"}, 100)
	if err == nil || !strings.HasPrefix(err.Error(), "csv-import: insert") {
		t.Fatalf("err = %v, want the insert's", err)
	}
	if csv.Len() == 0 {
		t.Fatal("the whole file was read: the failure did not stop the reading")
	}
}

// TestPipelinedImportStopsWithContext: cancelling ctx ends the import with
// ctx's error.
func TestPipelinedImportStopsWithContext(t *testing.T) {
	rdb := redisClient(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var csv bytes.Buffer
	generate(&csv, 1000, 3)
	if _, err := importPipelined(ctx, &csv, &store{rdb: rdb, prefix: "y:"}, 100); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// FuzzParse: parse takes any line without panicking, and a line it accepts
// has a valid customer.
func FuzzParse(f *testing.F) {
	var csv bytes.Buffer
	generate(&csv, 5, 4)
	for line := range bytes.Lines(csv.Bytes()) {
		f.Add(bytes.TrimSpace(line))
	}
	f.Add([]byte("1,DE,{"))
	f.Add([]byte(",,"))
	f.Fuzz(func(t *testing.T, line []byte) {
		r := parse(line)
		if r.Valid && (!strings.Contains(r.C.Email, "@") || r.C.Seats <= 0) {
			t.Fatalf("accepted %q as %+v", line, r)
		}
	})
}
