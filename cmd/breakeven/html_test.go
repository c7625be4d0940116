package main

import (
	"bytes"
	"encoding/xml"
	"regexp"
	"strings"
	"testing"

	"github.com/breakeven-go/breakeven/internal/benchutil"
)

// TestChartsShowIntervals renders a report and checks that each chart is
// well-formed SVG and draws an interval at every point: a bar from lo to hi
// on the ratio chart, a whisker over each value's samples.
func TestChartsShowIntervals(t *testing.T) {
	samples := func(v float64) []float64 { return []float64{v * 0.9, v, v * 1.1, v * 0.95, v * 1.05, v * 1.2} }
	series := func(impl string, vs ...float64) Series {
		s := Series{Impl: impl}
		for i, v := range vs {
			s.Points = append(s.Points, benchutil.Point{X: 1 << i, Value: v, Samples: samples(v), Ops: 100})
		}
		return s
	}
	v := benchutil.NewVerdict([]benchutil.RatioPoint{pt(1, 1.5, 1.3, 1.7, false), pt(2, 0.97, 0.9, 1.1, false), pt(4, 0.2, 0.15, 0.25, false)}, false)
	rep := Report{Machine: thisMachine(), Mode: "quick", Suites: []SuiteResult{{
		Name: "Counter", Primitive: "shard.Counter", Impl: "shard", Baseline: "atomic", BaselineDesc: "atomic.Int64",
		Unit: "ns/op", XLabel: "goroutines",
		Workloads: []WorkloadResult{{Name: "add", Series: []Series{series("atomic", 2, 20, 20), series("shard", 3, 19.4, 4)}, Verdict: v,
			Sentence: v.Sentence(benchutil.Names{Primitive: "shard.Counter", Baseline: "atomic.Int64", XName: "goroutines"})}},
	}}}
	var b bytes.Buffer
	if err := writeHTML(&b, rep); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	svgs := regexp.MustCompile(`(?s)<svg.*?</svg>`).FindAllString(html, -1)
	if len(svgs) != 2 {
		t.Fatalf("report has %d charts for one workload, want 2 (values, ratio)", len(svgs))
	}
	for _, svg := range svgs {
		if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
			t.Errorf("chart is not well-formed SVG: %v\n%s", err, svg)
		}
	}
	// The ratio chart: one bar per point, coloured by class, titled with
	// its interval.
	for _, want := range []string{"1.5x [1.3x, 1.7x] lose", "0.97x [0.90x, 1.1x] inconclusive", "0.20x [0.15x, 0.25x] win", "grey: within 5%"} {
		if !strings.Contains(svgs[1], want) {
			t.Errorf("ratio chart lacks %q", want)
		}
	}
	bar := regexp.MustCompile(`<line x1="([0-9.]+)" x2="([0-9.]+)" y1="([0-9.]+)" y2="([0-9.]+)" stroke="#[0-9a-f]+" stroke-width="3"/>`)
	if got := bar.FindAllStringSubmatch(svgs[1], -1); len(got) != 3 {
		t.Errorf("ratio chart has %d interval bars, want 3", len(got))
	}
	// The value chart: a whisker for each of the 6 points.
	whisker := regexp.MustCompile(`stroke-width="1.5"/>`)
	if n := len(whisker.FindAllString(svgs[0], -1)); n != 6 {
		t.Errorf("value chart has %d whiskers, want 6", n)
	}
	for _, want := range []string{"inconclusive", "undecided at 2 goroutines (0.90x to 1.1x): rerun with -full", "95% CI"} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}
