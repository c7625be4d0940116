// Command csv-import is the reference text's CSV importer (appendix C) at
// small scale. It generates a CSV of customers whose last column is JSON,
// then imports it into Redis twice and prints rows/s for each:
//
//   - serial: read a line, parse it (split, JSON, validate), add it to a
//     batch, insert each full batch with one pipelined round trip;
//   - pipelined: fanout.Stream parses lines in parallel (in order, memory
//     bounded by its Limit, not by the file), fanout.Batch groups the valid
//     rows into batches (full, or 50 ms old), and a second fanout.Stream
//     inserts two batches at a time, as the seed's two insert workers did.
//
// The first error anywhere (Redis down, ctx cancelled) stops every stage:
// the insert stream stops ranging over the batches, Batch stops its reader,
// which stops ranging over the parse stream, which stops reading the file.
// Nothing is left running, and no buffer "for safety" holds the file.
//
//	go run .                          # starts redis-server from PATH on a free port
//	go run . -redis 127.0.0.1:6379    # or uses yours (keys under csvimport:, deleted after)
//	go run . -rows 500000 -batch 500
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"log"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/breakeven-go/breakeven/fanout"
)

func main() {
	rows := flag.Int("rows", 200_000, "rows in the generated CSV")
	batch := flag.Int("batch", 500, "rows per insert")
	addr := flag.String("redis", "", "Redis address; empty: start redis-server from PATH")
	flag.Parse()
	if *addr == "" {
		srv, err := startRedis()
		if err != nil {
			log.Fatal(err)
		}
		defer srv.stop()
		*addr = srv.addr
	}
	rdb := redis.NewClient(&redis.Options{Addr: *addr})
	defer rdb.Close()
	if err := run(context.Background(), os.Stdout, rdb, *rows, *batch); err != nil {
		log.Fatal(err)
	}
}

// run generates the CSV, imports it serially and pipelined, checks that
// each import stored every valid row, and prints what each took.
func run(ctx context.Context, out io.Writer, rdb *redis.Client, rows, batch int) error {
	var csv bytes.Buffer
	generate(&csv, rows, 1)
	fmt.Fprintf(out, "%d rows, %d bytes of CSV, batches of %d, GOMAXPROCS %d\n", rows, csv.Len(), batch, runtime.GOMAXPROCS(0))
	var serialRate float64
	for _, imp := range []struct {
		name string
		run  func(context.Context, io.Reader, *store, int) (importStats, error)
	}{{"serial", importSerial}, {"pipelined", importPipelined}} {
		st := &store{rdb: rdb, prefix: fmt.Sprintf("csvimport:%s:%d:", imp.name, time.Now().UnixNano())}
		start := time.Now()
		stats, err := imp.run(ctx, bytes.NewReader(csv.Bytes()), st, batch)
		took := time.Since(start)
		if err != nil {
			st.clear(context.Background())
			return fmt.Errorf("%s import: %w", imp.name, err)
		}
		stored, err := st.count(ctx)
		st.clear(context.Background())
		if err != nil {
			return err
		}
		if stored != stats.valid {
			return fmt.Errorf("%s import: %d rows stored, want %d", imp.name, stored, stats.valid)
		}
		rate := float64(stats.valid+stats.invalid) / took.Seconds()
		fmt.Fprintf(out, "%-9s  %d stored, %d invalid, in %v: %.0f rows/s", imp.name, stats.valid, stats.invalid, took.Round(time.Millisecond), rate)
		if serialRate == 0 {
			serialRate = rate
			fmt.Fprintln(out)
		} else {
			fmt.Fprintf(out, " (%.2fx serial)\n", rate/serialRate)
		}
	}
	return nil
}

// generate writes rows lines of "id,country,{json}"; about 1% of them are
// invalid (a bad email or seat count), as real files are.
func generate(w io.Writer, rows int, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, seed))
	bw := bufio.NewWriter(w)
	countries := []string{"DE", "FR", "US", "JP", "BR", "IN"}
	plans := []string{"free", "team", "pro", "enterprise"}
	for id := range rows {
		c := customer{
			Name:  fmt.Sprintf("Customer %d", id),
			Email: fmt.Sprintf("user%d@example.com", id),
			Plan:  plans[rng.IntN(len(plans))],
			Seats: 1 + rng.IntN(500),
			Tags:  []string{"import", countries[rng.IntN(len(countries))], strconv.Itoa(rng.IntN(100))},
		}
		c.Address.City = fmt.Sprintf("City %d", rng.IntN(1000))
		c.Address.Zip = fmt.Sprintf("%05d", rng.IntN(100_000))
		switch rng.IntN(100) {
		case 0:
			c.Email = "nobody"
		case 1:
			c.Seats = -1
		}
		js, _ := json.Marshal(c)
		fmt.Fprintf(bw, "%d,%s,%s\n", id, countries[rng.IntN(len(countries))], js)
	}
	bw.Flush()
}

type customer struct {
	Name    string   `json:"name"`
	Email   string   `json:"email"`
	Plan    string   `json:"plan"`
	Seats   int      `json:"seats"`
	Tags    []string `json:"tags"`
	Address struct {
		City string `json:"city"`
		Zip  string `json:"zip"`
	} `json:"address"`
}

// row is one parsed line; Valid is false for a line that failed parsing
// or validation (counted and skipped, not an error).
type row struct {
	ID      int
	Country string
	C       customer
	Valid   bool
}

// parse splits a line, decodes its JSON column and validates the customer:
// the CPU-bound part of an import (the seed profiled 75% of the time here).
func parse(line []byte) row {
	idField, rest, ok1 := bytes.Cut(line, []byte(","))
	country, js, ok2 := bytes.Cut(rest, []byte(","))
	id, err := strconv.Atoi(string(idField))
	if !ok1 || !ok2 || err != nil {
		return row{}
	}
	r := row{ID: id, Country: string(country)}
	if json.Unmarshal(js, &r.C) != nil {
		return row{}
	}
	r.Valid = strings.Contains(r.C.Email, "@") && r.C.Seats > 0 && r.C.Plan != ""
	return r
}

type importStats struct{ valid, invalid int }

// lines reads r line by line, each line a fresh slice (a parser on another
// goroutine keeps it); *err is the scanner's error once the range ends.
func lines(r io.Reader, err *error) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if !yield(bytes.Clone(sc.Bytes())) {
				return
			}
		}
		*err = sc.Err()
	}
}

// importSerial is the original importer: one loop, one batch at a time.
func importSerial(ctx context.Context, r io.Reader, st *store, batchSize int) (importStats, error) {
	var stats importStats
	var readErr error
	batch := make([]row, 0, batchSize)
	for line := range lines(r, &readErr) {
		row := parse(line)
		if !row.Valid {
			stats.invalid++
			continue
		}
		stats.valid++
		if batch = append(batch, row); len(batch) == batchSize {
			if err := st.insert(ctx, batch); err != nil {
				return stats, err
			}
			batch = batch[:0]
		}
	}
	if readErr != nil {
		return stats, readErr
	}
	if len(batch) > 0 {
		return stats, st.insert(ctx, batch)
	}
	return stats, nil
}

// importPipelined parses in parallel, batches, and inserts two batches at
// a time. Cancelling ctx, or the first failed insert, stops every stage.
func importPipelined(ctx context.Context, r io.Reader, st *store, batchSize int) (importStats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stats importStats
	var readErr, parseErr error
	parsed := fanout.Stream(ctx, lines(r, &readErr), func(_ context.Context, line []byte) (row, error) {
		return parse(line), nil
	})
	valid := func(yield func(row) bool) { // runs on Batch's reader goroutine
		for row, err := range parsed {
			if err != nil {
				parseErr = err
				return
			}
			if !row.Valid {
				stats.invalid++
				continue
			}
			stats.valid++
			if !yield(row) {
				return
			}
		}
	}
	batches := fanout.Batch(ctx, valid, batchSize, 50*time.Millisecond)
	var insertErr error
	for _, err := range fanout.Stream(ctx, batches, func(ctx context.Context, b []row) (struct{}, error) {
		return struct{}{}, st.insert(ctx, b)
	}, fanout.Limit(2), fanout.Unordered()) {
		if err != nil {
			insertErr = err // the Stream stops Batch, and Batch the parsing
			break
		}
	}
	// Every stage has ended its goroutines, so stats and the errors are
	// ours to read.
	if insertErr != nil {
		return stats, insertErr
	}
	return stats, errors.Join(readErr, parseErr, ctx.Err())
}

// store inserts rows as Redis hashes under prefix.
type store struct {
	rdb    *redis.Client
	prefix string
}

// insert writes a batch in one round trip (a pipeline of HSETs).
func (s *store) insert(ctx context.Context, batch []row) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, r := range batch {
			p.HSet(ctx, s.prefix+strconv.Itoa(r.ID),
				"name", r.C.Name, "email", r.C.Email, "plan", r.C.Plan,
				"seats", r.C.Seats, "country", r.Country, "city", r.C.Address.City)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("csv-import: insert of %d rows: %w", len(batch), err)
	}
	return nil
}

// count returns how many rows are stored under the prefix.
func (s *store) count(ctx context.Context) (int, error) {
	n := 0
	it := s.rdb.Scan(ctx, 0, s.prefix+"*", 1000).Iterator()
	for it.Next(ctx) {
		n++
	}
	return n, it.Err()
}

// clear deletes the rows stored under the prefix.
func (s *store) clear(ctx context.Context) {
	it := s.rdb.Scan(ctx, 0, s.prefix+"*", 1000).Iterator()
	var keys []string
	for it.Next(ctx) {
		if keys = append(keys, it.Val()); len(keys) == 1000 {
			s.rdb.Unlink(ctx, keys...)
			keys = keys[:0]
		}
	}
	if len(keys) > 0 {
		s.rdb.Unlink(ctx, keys...)
	}
}
