package benchutil

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Config sets how long Measure spends on one point. Measure times one
// implementation alone; cmd/breakeven uses MeasurePaired and its Paired
// modes instead.
type Config struct {
	Target  time.Duration // wall time of one sample
	Samples int           // samples per point; the median is reported
	Trials  int           // runs of a Trial per point (each takes its own time)
}

// Quick is a short Measure: a few samples, some noise.
var Quick = Config{Target: 25 * time.Millisecond, Samples: 3, Trials: 1}

// Full is a longer Measure: longer samples and more of them.
var Full = Config{Target: 150 * time.Millisecond, Samples: 7, Trials: 3}

// Point is one implementation's measurement at one x: a goroutine count
// (ns/op suites) or the suite's XName (Metric suites).
type Point struct {
	X       int       `json:"x"`
	Value   float64   `json:"value"`   // median of Samples
	Samples []float64 `json:"samples"` // ns/op, or the suite's Metric, of each sample
	Ops     int       `json:"ops"`     // operations in one sample (MeasurePaired: in the last); 1 for a Trial
}

// Measure times im with g goroutines: it calibrates the operation count so
// one sample takes about cfg.Target, then takes cfg.Samples samples. It
// checks ctx between runs, so a cancelled ctx stops it within about one
// sample's time, returning ctx's error.
func Measure(ctx context.Context, im Impl, g int, cfg Config) (Point, error) {
	if im.Trial != nil {
		return measureTrial(ctx, im.Trial, g, cfg)
	}
	if g < 1 || cfg.Target <= 0 || cfg.Samples < 1 {
		return Point{}, fmt.Errorf("benchutil: Measure(g=%d, %+v): goroutines, target and samples must be positive", g, cfg)
	}
	body := im.Setup()
	total := g // one op per goroutine to start with (also warms up)
	var d time.Duration
	for {
		if err := ctx.Err(); err != nil {
			return Point{}, err
		}
		d = timeRun(body, g, total)
		if d >= cfg.Target {
			break
		}
		// Aim 20% past the target from the rate seen so far, growing at
		// most 100x a step so one slow first op cannot overshoot.
		next := total * 100
		if d > 0 {
			next = min(next, int(float64(total)*1.2*float64(cfg.Target)/float64(d))+1)
		}
		total = max(next, total+1)
	}
	p := Point{X: g, Ops: total}
	for range cfg.Samples {
		if err := ctx.Err(); err != nil {
			return Point{}, err
		}
		d = timeRun(body, g, total)
		p.Samples = append(p.Samples, float64(d.Nanoseconds())/float64(total))
	}
	p.Value = median(p.Samples)
	return p, nil
}

// measureTrial runs trial cfg.Trials times at x and reports the median.
func measureTrial(ctx context.Context, trial Trial, x int, cfg Config) (Point, error) {
	if cfg.Trials < 1 {
		return Point{}, fmt.Errorf("benchutil: Measure(x=%d, %+v): Trials must be positive", x, cfg)
	}
	p := Point{X: x, Ops: 1}
	for range cfg.Trials {
		if err := ctx.Err(); err != nil {
			return Point{}, err
		}
		v, err := trial(ctx, x)
		if err != nil {
			return Point{}, err
		}
		p.Samples = append(p.Samples, v)
	}
	p.Value = median(p.Samples)
	return p, nil
}

func timeRun(body Body, g, total int) time.Duration {
	start := time.Now()
	RunOps(body, g, total)
	return time.Since(start)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// GoroutineCounts is the sweep cmd/breakeven runs for maxprocs Ps: powers of
// two below maxprocs, then maxprocs and twice maxprocs, so the report shows
// one goroutine alone, every core busy, and oversubscription.
func GoroutineCounts(maxprocs int) []int {
	var gs []int
	for g := 1; g < maxprocs; g *= 2 {
		gs = append(gs, g)
	}
	return append(gs, maxprocs, 2*maxprocs)
}
