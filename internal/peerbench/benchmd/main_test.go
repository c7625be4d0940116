package main

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A trimmed benchstat -format csv -col /impl output.
const sample = `goos: linux
goarch: amd64
cpu: Intel(R) Xeon(R) Processor
,rwmutex,,syncmap,,,,shard,,,
,sec/op,CI,sec/op,CI,vs base,P,sec/op,CI,vs base,P
Map/uniform/w1-2,2.5e-08,20%,3.5e-08,5%,+38.19%,p=0.002 n=6,1.5e-08,1%,-40.77%,p=0.002 n=6
Map/uniform/w10-2,2.8e-08,4%,5.8e-08,3%,+111.06%,p=0.002 n=6,2.6e-08,9%,~,p=0.093 n=6
geomean,2.6e-08,,4.5e-08,,+73%,,2e-08,,-20%,

,B/op,CI
Map/uniform/w1-2,0,0%
`

func TestParseCSV(t *testing.T) {
	tb, err := parseCSV(sample)
	if err != nil {
		t.Fatal(err)
	}
	if len(tb.impls) != 3 || tb.impls[2] != "shard" || len(tb.rows) != 2 {
		t.Fatalf("parsed %+v", tb)
	}
	r := tb.rows[1]
	if r.name != "Map/uniform/w10-2" || r.center["shard"] != 2.6e-08 || !r.same["shard"] || r.same["syncmap"] {
		t.Fatalf("row %+v", r)
	}
	if got := ratio(r.center["shard"], r.center["rwmutex"]); got != "0.93x" {
		t.Fatalf("ratio = %s", got)
	}
	if got := formatValue(r.center["shard"], "sec/op"); got != "26.0" {
		t.Fatalf("formatValue = %s", got)
	}
}

// TestReportedUnits finds the units a family reports beside its metric, so
// Hedge's extra attempts get their own columns.
func TestReportedUnits(t *testing.T) {
	lines := []string{
		"BenchmarkHedge/bimodal/slow%=1/impl=plain-2 \t 1\t 286000000 ns/op\t 60.2 p99-ms\t 0 extra-%",
		"BenchmarkHedge/bimodal/slow%=1/impl=adaptive-2 \t 1\t 174000000 ns/op\t 5.2 p99-ms\t 4.1 extra-%",
	}
	got := reportedUnits(lines)
	if len(got) != 3 || got[0] != "ns/op" || got[1] != "p99-ms" || got[2] != "extra-%" {
		t.Fatalf("reportedUnits = %q", got)
	}
}
