package main

import (
	"testing"

	"github.com/breakeven-go/breakeven/internal/benchutil"
)

func TestSummarize(t *testing.T) {
	cost := SuiteResult{Name: "Counter", Primitive: "shard.Counter", BaselineDesc: "atomic.Int64", XLabel: "goroutines",
		Workloads: []WorkloadResult{
			{Name: "add", Verdict: benchutil.Verdict{Xs: []int{1, 2, 4}, Ratios: []float64{0.5, 0.1, 0.06}}},
			{Name: "load10", Verdict: benchutil.Verdict{Xs: []int{1, 2, 4}, Ratios: []float64{1.9, 0.6, 0.5}}},
		}}
	goodput := SuiteResult{Name: "Shed", Primitive: "shed.Adaptive", BaselineDesc: "no shedding", XLabel: "load %", HigherIsBetter: true,
		Workloads: []WorkloadResult{
			{Name: "overload", Verdict: benchutil.Verdict{Xs: []int{50, 100, 200, 400}, Ratios: []float64{1, 0.94, 2.8, 4}, HigherIsBetter: true}},
		}}
	rows := summarize([]SuiteResult{cost, goodput})
	want := []familySummary{
		{Name: "Counter", Primitive: "shard.Counter", Baseline: "atomic.Int64",
			Wins: "add 0.06x at 4 goroutines; load10 0.50x at 4 goroutines", Losses: "load10 1.9x at 1 goroutine"},
		{Name: "Shed", Primitive: "shed.Adaptive", Baseline: "no shedding",
			Wins: "overload 4.0x at load 400%", Losses: "overload 0.94x at load 100%"},
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
		{benchutil.Verdict{Xs: []int{1}, Ratios: []float64{1.02}}, "par"},
		{benchutil.Verdict{Xs: []int{1}, Ratios: []float64{0.5}, HigherIsBetter: true}, "lose"},
	} {
		if got := verdictClass(tc.v); got != tc.want {
			t.Errorf("verdictClass(%+v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}
