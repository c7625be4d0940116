package benchutil

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMedianCI(t *testing.T) {
	if _, lo, hi, ok := MedianCI([]float64{3, 1, 2, 5, 4}, Confidence); ok || lo != 1 || hi != 5 {
		t.Fatalf("5 values: lo, hi, ok = %v, %v, %v; want min, max and no interval at 95%%", lo, hi, ok)
	}
	if med, lo, hi, ok := MedianCI([]float64{6, 1, 5, 2, 4, 3}, Confidence); !ok || med != 3.5 || lo != 1 || hi != 6 {
		t.Fatalf("6 values: %v [%v, %v] %v; want 3.5 [1, 6]", med, lo, hi, ok)
	}
	// With 20 values the 95% interval is [x(6), x(15)] (benchstat's too).
	var xs []float64
	for i := 20; i >= 1; i-- {
		xs = append(xs, float64(i))
	}
	if med, lo, hi, ok := MedianCI(xs, Confidence); !ok || med != 10.5 || lo != 6 || hi != 15 {
		t.Fatalf("20 values: %v [%v, %v] %v; want 10.5 [6, 15]", med, lo, hi, ok)
	}
}

func TestMannWhitneyP(t *testing.T) {
	a := []float64{1, 2, 3, 4, 5, 6}
	b := []float64{7, 8, 9, 10, 11, 12}
	// Complete separation of 6 and 6: 2 of C(12,6)=924 arrangements.
	if p := MannWhitneyP(a, b); math.Abs(p-2.0/924) > 1e-12 {
		t.Fatalf("separated samples: p = %v, want %v", p, 2.0/924)
	}
	if p := MannWhitneyP(a, a); p != 1 {
		t.Fatalf("equal samples: p = %v, want 1", p)
	}
	c := []float64{1, 3, 5, 7, 9, 11}
	d := []float64{2, 4, 6, 8, 10, 12}
	if p := MannWhitneyP(c, d); p < 0.5 {
		t.Fatalf("interleaved samples: p = %v, want large", p)
	}
	// Ties take the normal approximation; separation still shows.
	if p := MannWhitneyP([]float64{1, 1, 2, 2, 3, 3}, []float64{5, 5, 6, 6, 7, 7}); p > 0.01 {
		t.Fatalf("separated samples with ties: p = %v", p)
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		hib    bool
		want   Class
	}{
		{0.5, 0.9, false, Win},
		{1.1, 3, false, Lose},
		{0.97, 1.04, false, Tie},
		{0.9, 0.97, false, Inconclusive},
		{0.9, 1.1, false, Inconclusive},
		{1.1, 3, true, Win},
		{0.5, 0.9, true, Lose},
	} {
		if got := Classify(tc.lo, tc.hi, tc.hib); got != tc.want {
			t.Errorf("Classify(%v, %v, higherIsBetter=%v) = %s, want %s", tc.lo, tc.hi, tc.hib, got, tc.want)
		}
	}
}

func rp(x int, r, lo, hi float64, hib bool) RatioPoint {
	return RatioPoint{X: x, Ratio: r, Lo: lo, Hi: hi, Class: Classify(lo, hi, hib)}
}

func TestSentence(t *testing.T) {
	names := Names{Primitive: "shard.Counter", Baseline: "atomic.Int64", XName: "goroutines"}
	for _, tc := range []struct {
		name string
		ps   []RatioPoint
		from int
		want string
	}{
		{"wins from 2", []RatioPoint{rp(1, 1.5, 1.4, 1.6, false), rp(2, 0.3, 0.2, 0.4, false), rp(4, 0.15, 0.1, 0.2, false)}, 2,
			"shard.Counter beats atomic.Int64 from 2 goroutines on (0.15x at 4 goroutines); at 1 goroutine it costs 1.5x"},
		{"wins after a tie", []RatioPoint{rp(1, 1, 0.98, 1.02, false), rp(2, 0.3, 0.2, 0.4, false), rp(4, 0.15, 0.1, 0.2, false)}, 2,
			"shard.Counter beats atomic.Int64 from 2 goroutines on (0.15x at 4 goroutines); below that it matches it"},
		{"wins everywhere", []RatioPoint{rp(1, 0.5, 0.4, 0.6, false), rp(2, 0.3, 0.2, 0.4, false), rp(4, 0.15, 0.1, 0.2, false)}, 1,
			"shard.Counter beats atomic.Int64 at every point: 0.50x at 1 goroutine, 0.15x at 4 goroutines"},
		{"loses everywhere", []RatioPoint{rp(1, 3, 2, 4, false), rp(2, 2, 1.5, 2.5, false), rp(4, 1.6, 1.5, 1.7, false)}, 0,
			"shard.Counter loses to atomic.Int64 at every point: 3.0x at 1 goroutine, 1.6x at 4 goroutines"},
		{"on par", []RatioPoint{rp(1, 1, 0.98, 1.02, false), rp(2, 1, 0.97, 1.01, false), rp(4, 1.01, 1, 1.03, false)}, 0,
			"shard.Counter matches atomic.Int64 (within 5%) at every point up to 4 goroutines"},
		{"wins then loses", []RatioPoint{rp(1, 0.5, 0.4, 0.6, false), rp(2, 0.3, 0.2, 0.4, false), rp(4, 1.2, 1.1, 1.3, false)}, 0,
			"shard.Counter beats atomic.Int64 at 1 goroutine, 2 goroutines (0.30x at 2 goroutines); loses at 4 goroutines (1.2x)"},
		// The nonsense of issue 21: a win from 4 on beside a huge loss at
		// 1 that the noise does not support. An undecided point is named
		// as such, never folded into "beats from N on".
		{"undecided before a win", []RatioPoint{rp(1, 122, 0.8, 300, false), rp(2, 0.5, 0.4, 0.6, false), rp(4, 0.4, 0.3, 0.5, false)}, 2,
			"shard.Counter beats atomic.Int64 at 2 goroutines, 4 goroutines (0.40x at 4 goroutines); undecided at 1 goroutine (0.80x to 300x): rerun with -full"},
		{"all undecided", []RatioPoint{rp(1, 1, 0.9, 1.1, false)}, 0,
			"shard.Counter vs atomic.Int64: undecided at 1 goroutine (0.90x to 1.1x): rerun with -full"},
		{"one win among undecided", []RatioPoint{rp(1, 1, 0.5, 2, false), rp(2, 0.5, 0.4, 0.6, false)}, 2,
			"shard.Counter beats atomic.Int64 at 2 goroutines (0.50x); undecided at 1 goroutine (0.50x to 2.0x): rerun with -full"},
		{"one point", []RatioPoint{rp(1, 1.3, 1.2, 1.4, false)}, 0,
			"shard.Counter loses to atomic.Int64 at 1 goroutine: it costs 1.3x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := NewVerdict(tc.ps, false)
			if v.From != tc.from || len(v.Ratios) != len(tc.ps) {
				t.Fatalf("NewVerdict = %+v, want From %d", v, tc.from)
			}
			if got := v.Sentence(names); got != tc.want {
				t.Fatalf("Sentence =\n%q, want\n%q", got, tc.want)
			}
		})
	}
	full := NewVerdict([]RatioPoint{rp(1, 1, 0.9, 1.1, false)}, false).Sentence(Names{Primitive: "p", Baseline: "b", XName: "goroutines", Full: true})
	if strings.Contains(full, "-full") {
		t.Errorf("a -full run's sentence tells to rerun with -full: %q", full)
	}
}

// TestSentenceHigherIsBetter checks a goodput-like metric: ratios above 1
// win, and the sentence names the metric and the sweep.
func TestSentenceHigherIsBetter(t *testing.T) {
	v := NewVerdict([]RatioPoint{rp(25, 0.8, 0.7, 0.85, true), rp(50, 1, 1, 1, true), rp(200, 2.8, 2.5, 3, true), rp(400, 3.9, 3.5, 4.2, true)}, true)
	if v.From != 200 {
		t.Fatalf("From = %d, want 200", v.From)
	}
	want := "shed.Adaptive beats no shedding at load 200%, load 400% (goodput 3.9x at load 400%); " +
		"matches it at load 50%; loses at load 25% (goodput 0.80x)"
	if got := v.Sentence(Names{Primitive: "shed.Adaptive", Baseline: "no shedding", XName: "load %", Metric: "goodput"}); got != want {
		t.Fatalf("Sentence =\n%q, want\n%q", got, want)
	}
}

// TestMeasurePairedInterleaves checks that every round runs each
// implementation once in a shuffled order, that rounds stop at the
// minimum when the class is clear, and that the ratio is per round.
func TestMeasurePairedInterleaves(t *testing.T) {
	var order []string
	trial := func(name string, v float64) Trial {
		return func(_ context.Context, x int) (float64, error) {
			order = append(order, name)
			return v * float64(x), nil
		}
	}
	s := Suite{Name: "T", Impl: "p", Baseline: "b", Metric: "p99-ms", XName: "slow %", Xs: []int{5},
		Workloads: []Workload{{Name: "w", Impls: []Impl{{Name: "b", Trial: trial("b", 2)}, {Name: "p", Trial: trial("p", 1)}, {Name: "o", Trial: trial("o", 3)}}}}}
	cfg := Paired{Metric: Rounds{Min: 6, Max: 12, Others: 2}}
	pts, r, err := MeasurePaired(context.Background(), s, s.Workloads[0], 5, cfg, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if r.Class != Win || r.Ratio != 0.5 || r.Lo != 0.5 || r.Hi != 0.5 || len(r.Rounds) != 6 {
		t.Fatalf("RatioPoint = %+v, want a win at 0.5 after 6 rounds", r)
	}
	if len(pts) != 3 || len(pts[0].Samples) != 6 || len(pts[2].Samples) != 2 || pts[0].Value != 10 {
		t.Fatalf("points = %+v; want 6 rounds of b and p, 2 of o", pts)
	}
	if len(order) != 14 {
		t.Fatalf("ran %d trials, want 14: %v", len(order), order)
	}
	// Each of the first two rounds runs all three, each later round both.
	firsts := map[string]bool{}
	for _, round := range [][]string{order[0:3], order[3:6]} {
		for _, name := range round {
			firsts[name] = true
		}
		if len(firsts) != 3 {
			t.Fatalf("round %v does not run every implementation once", round)
		}
		firsts = map[string]bool{}
	}
	if slices.Equal(order[0:3], order[3:6]) && slices.Equal(order[6:8], order[8:10]) && slices.Equal(order[8:10], order[10:12]) {
		t.Fatalf("rounds are not shuffled: %v", order)
	}
}

// TestMeasurePairedContinuesWhileUndecided feeds ratios that straddle the
// tie band: it must spend rounds up to Max, then say inconclusive.
func TestMeasurePairedContinuesWhileUndecided(t *testing.T) {
	n := 0
	noisy := func(_ context.Context, x int) (float64, error) {
		n++
		return []float64{0.85, 1.15}[n%2], nil
	}
	one := func(context.Context, int) (float64, error) { return 1, nil }
	s := Suite{Name: "T", Impl: "p", Baseline: "b", Metric: "p99-ms", XName: "slow %", Xs: []int{5},
		Workloads: []Workload{{Name: "w", Impls: []Impl{{Name: "b", Trial: one}, {Name: "p", Trial: noisy}}}}}
	_, r, err := MeasurePaired(context.Background(), s, s.Workloads[0], 5, Paired{Metric: Rounds{Min: 6, Max: 20}}, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if r.Class != Inconclusive || len(r.Rounds) != 20 {
		t.Fatalf("RatioPoint = %+v, want inconclusive after 20 rounds", r)
	}
}

func TestMeasurePairedCostSuite(t *testing.T) {
	spin := func(k int) func() Body {
		return func() Body {
			return func(_, n int) {
				for range n * k {
					_ = strings.Repeat("x", 1)
				}
			}
		}
	}
	s := Suite{Name: "T", Impl: "p", Baseline: "b", Workloads: []Workload{{Name: "w",
		Impls: []Impl{{Name: "b", Setup: spin(1)}, {Name: "p", Setup: spin(1)}}}}}
	cfg := Paired{Target: time.Millisecond, Cost: Rounds{Min: 6, Max: 6}}
	pts, r, err := MeasurePaired(context.Background(), s, s.Workloads[0], 2, cfg, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Rounds) != 6 || r.Lo > r.Ratio || r.Hi < r.Ratio || pts[0].Ops < 2 || pts[1].Value <= 0 {
		t.Fatalf("MeasurePaired = %+v, %+v", pts, r)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := MeasurePaired(ctx, s, s.Workloads[0], 1, cfg, rand.New(rand.NewPCG(1, 2))); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: err = %v", err)
	}
	if _, _, err := MeasurePaired(context.Background(), s, s.Workloads[0], 1, Paired{Target: time.Millisecond, Cost: Rounds{Min: 3, Max: 6}}, nil); err == nil ||
		!strings.HasPrefix(err.Error(), "benchutil: ") {
		t.Fatalf("Min below MinRounds: err = %v", err)
	}
}

func TestRatioKeepsTwoDigits(t *testing.T) {
	for r, want := range map[float64]string{12.3: "12x", 1.56: "1.6x", 0.456: "0.46x", 0.0031: "0.0031x", 0.0000632: "0.000063x", 0: "0x"} {
		if got := Ratio(r); got != want {
			t.Errorf("Ratio(%v) = %q, want %q", r, got, want)
		}
	}
}

// TestCalibrateDistrustsOneStalledRun plants the stall of a busy machine:
// the first run takes far longer than its work. Calibration must not settle
// on that run's tiny count.
func TestCalibrateDistrustsOneStalledRun(t *testing.T) {
	runs := 0
	body := func(_, n int) {
		runs++
		if runs == 1 {
			time.Sleep(20 * time.Millisecond) // the stall
		}
		for range n * 50 {
			_ = strings.Repeat("x", 1)
		}
	}
	ops, err := calibrate(context.Background(), body, 1, 5*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	// A count of 1 would be the stalled run's; any honest calibration
	// to 5 ms of this loop needs far more.
	if ops < 100 {
		t.Fatalf("calibrate settled on %d ops after a stalled first run", ops)
	}
}
