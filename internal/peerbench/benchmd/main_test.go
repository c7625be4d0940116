package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/breakeven-go/breakeven/internal/benchutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv("BENCHMD_FAKE_BENCHSTAT") != "" {
		fakeBenchstat(os.Args[1:])
		return
	}
	goleak.VerifyTestMain(m)
}

// fakeBenchstat stands in for benchstat when TestPeerColumnsMarkNotSignificant
// runs this test binary as one: canned CSV for the -col it is given.
func fakeBenchstat(args []string) {
	col, csv := "", false
	for i, a := range args {
		if a == "-col" && i+1 < len(args) {
			col = args[i+1]
		}
		csv = csv || a == "csv"
	}
	switch {
	case !csv:
		fmt.Println("benchstat's text")
	case col == "/impl":
		fmt.Print(familyCSV)
	case col == `/impl@("syncmap" "shard")`:
		fmt.Print(pairCSV)
	default:
		fmt.Fprintf(os.Stderr, "fake benchstat: unexpected %q\n", args)
		os.Exit(2)
	}
}

// familyCSV is benchstat -format csv -col /impl; pairCSV the same results
// with syncmap as base and shard beside it, which finds w10 not
// significantly different.
const familyCSV = `,rwmutex,,syncmap,,,,shard,,,
,sec/op,CI,sec/op,CI,vs base,P,sec/op,CI,vs base,P
Map/uniform/w1-2,2.5e-08,20%,3.5e-08,5%,+38.19%,p=0.002 n=6,1.5e-08,1%,-40.77%,p=0.002 n=6
Map/uniform/w10-2,2.8e-08,4%,2.7e-08,3%,~,p=0.180 n=6,2.6e-08,9%,~,p=0.093 n=6
geomean,2.6e-08,,3.1e-08,,+19%,,2e-08,,-20%,
`

const pairCSV = `,syncmap,,shard,,,
,sec/op,CI,sec/op,CI,vs base,P
Map/uniform/w1-2,3.5e-08,5%,1.5e-08,1%,-57.14%,p=0.002 n=6
Map/uniform/w10-2,2.7e-08,3%,2.6e-08,9%,~,p=0.240 n=6
geomean,3.1e-08,,2e-08,,-36%,
`

// TestPeerColumnsMarkNotSignificant checks that a primitive / peer column
// carries benchstat's ~ too, not only the primitive / baseline column.
func TestPeerColumnsMarkNotSignificant(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("BENCHMD_FAKE_BENCHSTAT", "1")
	s := benchutil.Suite{Name: "Map", Primitive: "shard.Map", Impl: "shard", Baseline: "rwmutex", BaselineDesc: "a map under a lock"}
	lines := []string{"BenchmarkMap/uniform/w1/impl=shard-2 \t 100\t 15 ns/op"}
	var out strings.Builder
	if err := writeFamily(&out, s, lines, self); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| benchmark | rwmutex | syncmap | shard | shard / rwmutex | shard / syncmap |\n",
		"| Map/uniform/w1-2 | 25.0 | 35.0 | 15.0 | 0.60x | 0.43x |\n",
		"| Map/uniform/w10-2 | 28.0 | 27.0 | 26.0 | 0.93x ~ | 0.96x ~ |\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no line %q in\n%s", want, out.String())
		}
	}
}

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
