package benchutil

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"time"
)

// Rounds sets how MeasurePaired spends its time at one point. A round runs
// each implementation once, in a shuffled order, so that drift on a shared
// machine (another process waking up, a frequency change) lands on every
// implementation of the round alike and cancels in its ratio.
type Rounds struct {
	// Min rounds are always run (at least MinRounds, so the median ratio
	// has an interval at Confidence). After that, rounds continue only
	// while the ratio's class is inconclusive, up to Max.
	Min, Max int
	// Others is how many of the first rounds also run the implementations
	// that are neither the primitive nor the baseline: they are context in
	// the tables, not part of the verdict, so they get no extra rounds.
	Others int
	// Budget bounds the wall time of a point's extra rounds: none starts
	// once the point has taken Budget, so a point too noisy to settle
	// costs a bounded time and stays inconclusive.
	Budget time.Duration
}

// Paired is a cmd/breakeven mode: the wall time of one ns/op sample, and
// the rounds of ns/op suites and of Metric suites, whose rounds are
// real-clock trials (a second each for Shed) and so are fewer.
type Paired struct {
	Target time.Duration
	Cost   Rounds
	Metric Rounds
}

// QuickPaired is cmd/breakeven's default: short samples (on a busy machine
// a short sample usually runs between two descheduling stalls, so many
// short paired rounds give a tighter median than a few long ones), extra
// rounds only where the class is undecided, and a bounded time per point.
// The real-clock Shed trials, a second each, take the largest share.
var QuickPaired = Paired{
	Target: 5 * time.Millisecond,
	Cost:   Rounds{Min: MinRounds, Max: 60, Others: 3, Budget: time.Second},
	Metric: Rounds{Min: MinRounds, Max: 9, Others: 1, Budget: 10 * time.Second},
}

// FullPaired is cmd/breakeven -full: longer samples, more rounds.
var FullPaired = Paired{
	Target: 50 * time.Millisecond,
	Cost:   Rounds{Min: 10, Max: 60, Others: 10, Budget: 15 * time.Second},
	Metric: Rounds{Min: 10, Max: 20, Others: 10, Budget: 2 * time.Minute},
}

// RatioPoint is the verdict at one x: the median over rounds of the
// primitive's value over the baseline's, its confidence interval [Lo, Hi]
// at Confidence, and the class that interval earns.
type RatioPoint struct {
	X     int     `json:"x"`
	Ratio float64 `json:"ratio"`
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
	Class Class   `json:"class"`
	// Rounds holds the ratio of every round, for -compare's Mann-Whitney
	// test between two runs.
	Rounds []float64 `json:"rounds,omitempty"`
}

// MeasurePaired measures every implementation of w at x (a goroutine count,
// or a Metric suite's x) in interleaved rounds, and returns each one's
// Point (in w.Impls order; an implementation's Samples are in round order)
// and the primitive's RatioPoint against the baseline. rng shuffles the
// order within each round. It stops early, with ctx's error, when ctx is
// done.
func MeasurePaired(ctx context.Context, s Suite, w Workload, x int, cfg Paired, rng *rand.Rand) ([]Point, RatioPoint, error) {
	rounds := cfg.Cost
	if s.Metric != "" {
		rounds = cfg.Metric
	}
	if rounds.Min < MinRounds || rounds.Max < rounds.Min || rounds.Others < 0 || (s.Metric == "" && cfg.Target <= 0) || x < 1 {
		return nil, RatioPoint{}, fmt.Errorf("benchutil: MeasurePaired(x=%d, %+v): x and target must be positive, Min at least %d, Max at least Min",
			x, cfg, MinRounds)
	}
	prim, base := -1, -1
	for i, im := range w.Impls {
		switch im.Name {
		case s.Impl:
			prim = i
		case s.Baseline:
			base = i
		}
	}
	if prim < 0 || base < 0 {
		return nil, RatioPoint{}, fmt.Errorf("benchutil: workload %q lacks impl %q or baseline %q", w.Name, s.Impl, s.Baseline)
	}

	// sample runs implementation i once and returns its value.
	var sample func(i int) (float64, error)
	points := make([]Point, len(w.Impls))
	if s.Metric != "" {
		sample = func(i int) (float64, error) { return w.Impls[i].Trial(ctx, x) }
		for i := range points {
			points[i] = Point{X: x, Ops: 1}
		}
	} else {
		bodies := make([]Body, len(w.Impls))
		for i, im := range w.Impls {
			if i != prim && i != base && rounds.Others == 0 {
				continue
			}
			bodies[i] = im.Setup()
			ops, err := calibrate(ctx, bodies[i], x, cfg.Target)
			if err != nil {
				return nil, RatioPoint{}, err
			}
			points[i] = Point{X: x, Ops: ops}
		}
		sample = func(i int) (float64, error) {
			// As go test does before each run: the garbage of the previous
			// sample, another implementation's, is not this one's to
			// collect.
			runtime.GC()
			ops := points[i].Ops
			d := timeRun(bodies[i], x, ops)
			// Steer the next sample towards the target. Each sample carries a
			// fixed cost (starting and waking x goroutines: milliseconds on
			// a busy machine); a count calibrated short for one
			// implementation would give its samples a larger share of it in
			// every round, a bias that no number of rounds removes.
			if d > 0 {
				next := int(float64(ops) * math.Sqrt(float64(cfg.Target)/float64(d)))
				points[i].Ops = min(max(next, ops/2, x), 2*ops)
			}
			return float64(d.Nanoseconds()) / float64(ops), nil
		}
	}

	var ratios []float64
	rp := RatioPoint{X: x}
	start := time.Now()
	next := rounds.Min // the next round count at which to look at the interval
	for r := 0; ; r++ {
		order := []int{prim, base}
		if r < rounds.Others {
			order = order[:0]
			for i := range w.Impls {
				order = append(order, i)
			}
		}
		rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		vals := make(map[int]float64, len(order))
		for _, i := range order {
			if err := ctx.Err(); err != nil {
				return nil, RatioPoint{}, err
			}
			v, err := sample(i)
			if err != nil {
				return nil, RatioPoint{}, err
			}
			vals[i] = v
			points[i].Samples = append(points[i].Samples, v)
		}
		if b := vals[base]; b > 0 {
			ratios = append(ratios, vals[prim]/b)
		}
		if r+1 < next {
			continue
		}
		// Look at the interval at Min rounds, then each time the count has
		// grown by half: a few looks, not one per round, so that stopping
		// at the first definite class does not become a search for one.
		rp = NewRatioPoint(x, ratios, s.HigherIsBetter)
		if rp.Class != Inconclusive || r+1 >= rounds.Max || (rounds.Budget > 0 && time.Since(start) >= rounds.Budget) {
			break
		}
		next = min(rounds.Max, next+max(1, next/2))
	}
	for i := range points {
		if len(points[i].Samples) > 0 {
			points[i].Value = median(points[i].Samples)
		}
	}
	return points, rp, nil
}

// NewRatioPoint summarises the per-round ratios at x: their median, its
// interval at Confidence, and the class.
func NewRatioPoint(x int, ratios []float64, higherIsBetter bool) RatioPoint {
	med, lo, hi, ok := MedianCI(ratios, Confidence)
	rp := RatioPoint{X: x, Ratio: med, Lo: lo, Hi: hi, Rounds: ratios, Class: Inconclusive}
	if ok {
		rp.Class = Classify(lo, hi, higherIsBetter)
	}
	if len(ratios) == 0 {
		rp.Ratio, rp.Lo, rp.Hi = 0, 0, 0 // JSON has no NaN
	}
	return rp
}

// calibrate finds the operation count for which one run of body with g
// goroutines takes about target (the runs also warm it up). A run that
// reaches target is run again before it is trusted: on a busy machine one
// stalled run (a thread descheduled for tens of ms) would otherwise settle
// on a count so small that every sample times goroutine start-up instead
// of the workload, for this implementation only.
func calibrate(ctx context.Context, body Body, g int, target time.Duration) (int, error) {
	total := g
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		d := timeRun(body, g, total)
		if d >= target {
			d = timeRun(body, g, total)
			if d >= target/2 {
				return total, nil
			}
		}
		// Aim 20% past the target from the rate seen so far, growing at
		// most 100x a step so one slow first op cannot overshoot.
		next := total * 100
		if d > 0 {
			next = min(next, int(float64(total)*1.2*float64(target)/float64(d))+1)
		}
		total = max(next, total+1)
	}
}
