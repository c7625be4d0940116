package main

import (
	"testing"

	"github.com/breakeven-go/breakeven/internal/benchutil"
)

func pt(x int, r, lo, hi float64, hib bool) benchutil.RatioPoint {
	return benchutil.RatioPoint{X: x, Ratio: r, Lo: lo, Hi: hi, Class: benchutil.Classify(lo, hi, hib)}
}

func TestSummarize(t *testing.T) {
	cost := SuiteResult{Name: "Counter", Primitive: "shard.Counter", BaselineDesc: "atomic.Int64", XLabel: "goroutines",
		Workloads: []WorkloadResult{
			{Name: "add", Verdict: benchutil.NewVerdict([]benchutil.RatioPoint{pt(1, 0.5, 0.4, 0.6, false), pt(2, 0.1, 0.08, 0.12, false), pt(4, 0.06, 0.05, 0.07, false)}, false)},
			{Name: "load10", Verdict: benchutil.NewVerdict([]benchutil.RatioPoint{pt(1, 1.9, 1.7, 2.1, false), pt(2, 0.9, 0.8, 1.1, false), pt(4, 0.5, 0.4, 0.6, false)}, false)},
		}}
	goodput := SuiteResult{Name: "Shed", Primitive: "shed.Adaptive", BaselineDesc: "no shedding", XLabel: "load %", HigherIsBetter: true,
		Workloads: []WorkloadResult{
			{Name: "overload", Verdict: benchutil.NewVerdict([]benchutil.RatioPoint{pt(50, 1, 1, 1, true), pt(100, 0.92, 0.9, 0.94, true), pt(200, 2.8, 2.5, 3, true), pt(400, 4, 3.5, 4.5, true)}, true)},
		}}
	rows := summarize([]SuiteResult{cost, goodput})
	want := []familySummary{
		{Name: "Counter", Primitive: "shard.Counter", Baseline: "atomic.Int64",
			Wins: "add 0.06x at 4 goroutines; load10 0.50x at 4 goroutines", Losses: "load10 1.9x at 1 goroutine",
			Undecided: "load10 at 2 goroutines"},
		{Name: "Shed", Primitive: "shed.Adaptive", Baseline: "no shedding",
			Wins: "overload 4.0x at load 400%", Losses: "overload 0.92x at load 100%"},
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, rows[i], want[i])
		}
	}
	for _, tc := range []struct {
		v    benchutil.Verdict
		want string
	}{
		{cost.Workloads[0].Verdict, "win"},
		{cost.Workloads[1].Verdict, "mixed"},
		{benchutil.NewVerdict([]benchutil.RatioPoint{pt(1, 1.02, 1, 1.03, false)}, false), "par"},
		{benchutil.NewVerdict([]benchutil.RatioPoint{pt(1, 1.02, 0.9, 1.1, false)}, false), "undecided"},
		{benchutil.NewVerdict([]benchutil.RatioPoint{pt(1, 0.5, 0.4, 0.6, true)}, true), "lose"},
	} {
		if got := verdictClass(tc.v); got != tc.want {
			t.Errorf("verdictClass(%+v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}
