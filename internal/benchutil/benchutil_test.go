package benchutil

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunOpsSplitsExactly(t *testing.T) {
	for _, tc := range []struct{ g, total int }{{1, 0}, {1, 7}, {3, 10}, {4, 4}, {8, 3}} {
		var ops atomic.Int64
		var mu sync.Mutex
		workers := map[int]int{}
		RunOps(func(w, n int) {
			ops.Add(int64(n))
			mu.Lock()
			workers[w] += n
			mu.Unlock()
		}, tc.g, tc.total)
		if got := ops.Load(); got != int64(tc.total) {
			t.Errorf("RunOps(g=%d, total=%d) ran %d ops", tc.g, tc.total, got)
		}
		if len(workers) != tc.g {
			t.Errorf("RunOps(g=%d) ran %d workers", tc.g, len(workers))
		}
		for w, n := range workers {
			if n < tc.total/tc.g || n > tc.total/tc.g+1 {
				t.Errorf("RunOps(g=%d, total=%d): worker %d got %d ops, want an even split", tc.g, tc.total, w, n)
			}
		}
	}
}

func TestMeasureCalibratesAndStopsOnCancel(t *testing.T) {
	var calls atomic.Int64
	im := Impl{Name: "spin", Setup: func() Body {
		return func(_, n int) {
			calls.Add(1)
			for range n {
				_ = strings.Repeat("x", 1)
			}
		}
	}}
	p, err := Measure(context.Background(), im, 2, Config{Target: time.Millisecond, Samples: 3})
	if err != nil {
		t.Fatal(err)
	}
	if p.X != 2 || len(p.Samples) != 3 || p.Value <= 0 || p.Ops < 2 {
		t.Fatalf("Measure = %+v, want 3 positive samples at 2 goroutines", p)
	}
	if p.Value != median(p.Samples) {
		t.Fatalf("Value %v is not the median of %v", p.Value, p.Samples)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Measure(ctx, im, 1, Quick); !errors.Is(err, context.Canceled) {
		t.Fatalf("Measure with a cancelled ctx: err = %v, want context.Canceled", err)
	}
	if _, err := Measure(context.Background(), im, 0, Quick); err == nil || !strings.HasPrefix(err.Error(), "benchutil: ") {
		t.Fatalf("Measure(g=0): err = %v, want a benchutil: error", err)
	}
}

// TestTrialSuite checks that a Metric suite needs Trials and XName/Xs, and
// that Measure runs a Trial Config.Trials times at x.
func TestTrialSuite(t *testing.T) {
	var calls []int
	trial := func(_ context.Context, x int) (float64, error) { calls = append(calls, x); return float64(x) / 10, nil }
	s := Suite{Name: "T", Impl: "a", Baseline: "b", Metric: "p99-ms", XName: "slow %", Xs: []int{1, 5},
		Workloads: []Workload{{Name: "w", Impls: []Impl{{Name: "a", Trial: trial}, {Name: "b", Trial: trial}}}}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s.Unit() != "p99-ms" || s.XLabel() != "slow %" {
		t.Fatalf("Unit, XLabel = %q, %q", s.Unit(), s.XLabel())
	}
	p, err := Measure(context.Background(), s.Workloads[0].Impls[0], 5, Config{Trials: 3})
	if err != nil || p.Value != 0.5 || len(p.Samples) != 3 || !slices.Equal(calls, []int{5, 5, 5}) {
		t.Fatalf("Measure = %+v, %v after calls %v", p, err, calls)
	}
	s.Workloads[0].Impls[1] = Impl{Name: "b", Setup: func() Body { return func(int, int) {} }}
	if err := s.Validate(); err == nil {
		t.Fatal("Validate accepted a Metric suite impl without a Trial")
	}
	s.Xs = nil
	if err := s.Validate(); err == nil {
		t.Fatal("Validate accepted a Metric suite without Xs")
	}
}

func TestGoroutineCounts(t *testing.T) {
	for procs, want := range map[int][]int{1: {1, 2}, 2: {1, 2, 4}, 6: {1, 2, 4, 6, 12}, 8: {1, 2, 4, 8, 16}} {
		if got := GoroutineCounts(procs); !slices.Equal(got, want) {
			t.Errorf("GoroutineCounts(%d) = %v, want %v", procs, got, want)
		}
	}
}

func TestValidateRejectsBrokenSuites(t *testing.T) {
	setup := func() Body { return func(int, int) {} }
	good := Suite{Name: "X", Impl: "p", Baseline: "b", Workloads: []Workload{{Name: "w",
		Impls: []Impl{{Name: "b", Setup: setup}, {Name: "p", Setup: setup}}}}}
	if err := good.Validate(); err != nil {
		t.Fatalf("Validate(good) = %v", err)
	}
	noBaseline := good
	noBaseline.Baseline = "missing"
	twice := good
	twice.Workloads = append(slices.Clone(good.Workloads), good.Workloads[0])
	for name, s := range map[string]Suite{"no baseline": noBaseline, "workload twice": twice, "empty": {}} {
		if err := s.Validate(); err == nil || !strings.HasPrefix(err.Error(), "benchutil: ") {
			t.Errorf("Validate(%s) = %v, want a benchutil: error", name, err)
		}
	}
}

func TestDistIndexes(t *testing.T) {
	u := Uniform.Indexes(1, 100, 10_000)
	if !slices.Equal(u, Uniform.Indexes(1, 100, 10_000)) {
		t.Fatal("Uniform.Indexes is not repeatable for one seed")
	}
	z := Zipf(1.1).Indexes(1, 100, 10_000)
	count := func(xs []int32, k int32) (n int) {
		for _, x := range xs {
			if x < 0 || x >= 100 {
				t.Fatalf("index %d outside [0, 100)", x)
			}
			if x == k {
				n++
			}
		}
		return n
	}
	// Key 0 is the hottest under Zipf and about 1% under uniform.
	if zc, uc := count(z, 0), count(u, 0); zc < 5*uc {
		t.Fatalf("Zipf key 0 drawn %d times, uniform %d: want Zipf far more skewed", zc, uc)
	}
	keys := StringKeys(3)
	if !slices.Equal(keys, []string{"key-0", "key-1", "key-2"}) {
		t.Fatalf("StringKeys(3) = %v", keys)
	}
}

func TestLatenciesPercentile(t *testing.T) {
	var l Latencies
	if l.Percentile(0.5) != 0 {
		t.Fatal("empty Latencies has a percentile")
	}
	for i := 1; i <= 100; i++ {
		l.Add(time.Duration(i) * time.Millisecond)
	}
	for p, want := range map[float64]time.Duration{0.5: 50 * time.Millisecond, 0.99: 99 * time.Millisecond, 1: 100 * time.Millisecond, 0: time.Millisecond} {
		if got := l.Percentile(p); got != want {
			t.Errorf("Percentile(%v) = %v, want %v", p, got, want)
		}
	}
}
