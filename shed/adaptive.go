package shed

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Adaptive admits requests up to a concurrency limit it derives from
// observed latency, so it needs no tuning.
//
// The algorithm, in windows of Window (default 100 ms) with at least one
// completed request:
//
//   - It starts low (initial limit 4, see Limits), so the first windows see
//     the service without a queue and learn its no-load latency, and
//     doubles the limit every round trip or two (slow start) while at
//     least half of it is in use, judging each step only on requests
//     admitted under the current limit once it has held for a no-load
//     latency (earlier ones met the queue of the previous limit), until a
//     queue starts to form (latency halfway to the tolerance). A limiter
//     that started high on an overloaded service would take queueing for
//     the service time.
//   - It keeps a no-load latency: the lowest window mean seen. The estimate
//     follows the mean up (a tenth of the difference per window) in windows
//     where fewer than half the slots were used, when no queue of ours can
//     be in it. Under load it does not rise, so a long overload, whose
//     latencies all include queueing, cannot ratchet it up until shedding
//     stops (Netflix concurrency-limits #165, Envoy #11579).
//   - A stale estimate is re-measured. A fast phase (health checks, cached
//     answers, 429s from a rate limiter behind it) teaches a no-load latency
//     that later requests can never meet. Two signs give it away: a window
//     mean longer than 2 x Tolerance x peak in flight x the estimate, more
//     than any queue of ours could add even on a one-slot service (Little's
//     law, with a margin for stalls), two windows in a row; or latency that
//     stays put for windows in a row while the limit halves, where a queue
//     of ours would have shrunk with it. Then, as
//     Envoy's gradient controller re-measures its minimum RTT, the limit
//     drops to a few requests for one window, the mean of the requests
//     admitted in it becomes the estimate, and slow start runs again. This
//     costs a few round trips at a low limit, only when the estimate is
//     proven wrong, never on a timer.
//   - Gradient (the default): the new limit is limit x clamp(Tolerance x
//     noLoad / windowMean, 0.5, 1), plus sqrt(limit) while latency is
//     within the tolerance, averaged half and half with the old one.
//     Latency up to Tolerance (default 1.5) times the no-load latency is
//     accepted; beyond it the limit shrinks in proportion; the sqrt(limit)
//     term lets a small queue form, which is how the limit finds spare
//     capacity.
//   - AIMD (option): plus one per window when latency is within
//     Tolerance, times 0.9 when it is not. It never halves, so reaching
//     MaxLimit does not set off a collapse (Netflix #155).
//   - Either way the limit grows only in windows where at least half of it
//     was in use, so it cannot grow without bound while idle (Netflix #134),
//     and stays within [min, max] (default 2 and 1000).
//   - Outcomes: Dropped (our own timeouts) carry no latency, which says
//     nothing about service time (Netflix #176); a window in which more than
//     one request in twenty was Dropped multiplies the limit by 0.9, a
//     stray one is noise. Cancelled (the client went away) is counted and
//     otherwise ignored: a client that cancels on purpose cannot shrink the
//     limit for everyone else.
//
// Admission is a compare-and-swap on the in-flight count against the
// current limit, so no interleaving exceeds it. Acquire does not allocate
// and takes no lock; Release takes a mutex for the window's sums. An
// Adaptive is safe for concurrent use; its zero value is not usable: build
// one with [NewAdaptive].
//
// Where it stands (the Shed suite and BenchmarkOverload measure it, side
// by side with no shedding, a hand-tuned NewInFlight and failsafe-go's
// adaptive limiter): under overload it keeps goodput near capacity where
// no shedding collapses, with a short queue at the backend. It loses where
// any learning limiter loses: at exactly capacity it sheds a little that an
// unprotected backend would have served, and in its first round trips, and
// after a proven-stale estimate, it runs below the best fixed limit. At
// half load it changes nothing. Beside failsafe-go's adaptive limiter with
// its defaults, it keeps a shorter queue at the backend: a much lower p99,
// for a little less goodput on a busy machine (a deeper queue keeps the
// backend busy through gaps in arrivals).
type Adaptive struct {
	cfg    adaptiveConfig
	gate                // in flight and counters
	limitN atomic.Int64 // published limit

	mu           sync.Mutex
	limit        float64
	noLoad       time.Duration
	windowStart  time.Time
	sum          time.Duration
	samples      int
	drops        int
	peak         int64 // most in flight during the window
	recent       time.Duration
	slowStart    bool          // doubling per round trip until a queue forms
	overStreak   int           // windows in a row with latency beyond the tolerance
	streakLimit  float64       // the limit when the streak began
	streakMean   time.Duration // the highest window mean of the streak before the limit halved
	lowWindows   int           // windows of the streak run under half its first limit
	lowMin       time.Duration // the lowest window mean of those
	beyondLittle int           // windows in a row slower than any queue of ours explains
	probing      bool          // measuring the no-load latency at the minimum limit
	limitSince   time.Time     // when the limit last changed in slow start
}

// Option configures an Adaptive limiter.
type Option interface{ apply(*adaptiveConfig) }

type adaptiveConfig struct {
	initial, min, max int
	window            time.Duration
	tolerance         float64
	aimd              bool
}

type optionFunc func(*adaptiveConfig)

func (f optionFunc) apply(c *adaptiveConfig) { f(c) }

// Limits sets the initial, minimum and maximum limit (default 4, 2, 1000);
// 1 <= min <= initial <= max.
func Limits(initial, min, max int) Option {
	if min < 1 || initial < min || max < initial {
		panic(fmt.Sprintf("shed: Limits(%d, %d, %d): want 1 <= min <= initial <= max", initial, min, max))
	}
	return optionFunc(func(c *adaptiveConfig) { c.initial, c.min, c.max = initial, min, max })
}

// Window sets how often the limit is updated (default 100 ms; in slow
// start, every round trip or two, at most every Window/8); d must be
// positive.
func Window(d time.Duration) Option {
	if d <= 0 {
		panic(fmt.Sprintf("shed: Window(%v): must be positive", d))
	}
	return optionFunc(func(c *adaptiveConfig) { c.window = d })
}

// Tolerance sets how many times the no-load latency is accepted before the
// limit shrinks (default 1.5); t must be at least 1. Higher keeps more
// goodput through noisy latency at the price of a longer queue (higher
// p99); lower the reverse.
func Tolerance(t float64) Option {
	if !(t >= 1) {
		panic(fmt.Sprintf("shed: Tolerance(%v): must be at least 1", t))
	}
	return optionFunc(func(c *adaptiveConfig) { c.tolerance = t })
}

// AIMD switches the update rule from gradient to additive increase,
// multiplicative decrease.
func AIMD() Option { return optionFunc(func(c *adaptiveConfig) { c.aimd = true }) }

// NewAdaptive returns an adaptive limiter; see Adaptive for the algorithm.
func NewAdaptive(opts ...Option) *Adaptive {
	cfg := adaptiveConfig{initial: 4, min: 2, max: 1000, window: 100 * time.Millisecond, tolerance: 1.5}
	for _, o := range opts {
		o.apply(&cfg)
	}
	a := &Adaptive{cfg: cfg, limit: float64(cfg.initial), windowStart: time.Now(), slowStart: true}
	a.limitN.Store(int64(cfg.initial))
	return a
}

// Acquire implements Limiter.
func (a *Adaptive) Acquire(ctx context.Context) (Permit, error) {
	if err := ctx.Err(); err != nil {
		return Permit{}, err
	}
	if err := a.admit(a.limitN.Load(), PriorityFrom(ctx)); err != nil {
		return Permit{}, err
	}
	return Permit{owner: a, start: time.Now()}, nil
}

func (a *Adaptive) release(start time.Time, o Outcome) {
	now := time.Now()
	inFlight := a.leave(o) // as it was while this request ran
	a.mu.Lock()
	defer a.mu.Unlock()
	a.peak = max(a.peak, inFlight)
	switch o {
	case Success:
		if a.slowStart && start.Before(a.limitSince.Add(a.noLoad)) {
			// In slow start, where the limit changes every round trip, a
			// request admitted under the previous limit brings stale news,
			// and one admitted within a no-load latency of the change met
			// the queue the new limit allows before it had time to form:
			// judged on those, a doubling that already makes a queue looks
			// free, and slow start doubles once more, overshooting by a
			// whole limit's worth of queue.
			break
		}
		a.sum += now.Sub(start)
		a.samples++
	case Dropped:
		a.drops++
	}
	if a.samples+a.drops > 0 && now.Sub(a.windowStart) >= a.windowLength() {
		a.update()
		a.windowStart, a.sum, a.samples, a.drops, a.peak = now, 0, 0, 0, 0
	}
}

// windowLength is how long the current window lasts (a.mu held): Window,
// except in slow start and while a stale estimate is suspected or probed,
// where the limit doubles every round trip or two
// (twice the window's mean latency, at least an eighth of Window), so a
// limiter that starts low reaches a busy service's limit in a few round
// trips instead of a few Windows, shedding little on the way.
func (a *Adaptive) windowLength() time.Duration {
	short := a.slowStart || a.probing || a.beyondLittle > 0 // a stale estimate is suspected
	if !short || a.samples == 0 || float64(a.samples) < a.limit/2 {
		return a.cfg.window // short windows: until half a limit's worth has answered
	}
	return min(a.cfg.window, max(a.cfg.window/8, 2*a.sum/time.Duration(a.samples)))
}

// littleMargin widens the Little's-law test for a stale estimate: a stall
// of the whole process (CPU starved, a long GC) adds the same delay to
// every request in flight, which the bare bound would take for a stale
// estimate; a fast phase's estimate is off by far more than this.
const littleMargin = 2

// dropShare is the share of a window's outcomes that must be Dropped for
// the limit to shrink on drops alone: a stray timeout among many successes
// is noise, not overload.
const dropShare = 0.05

// update applies one window to the limit (a.mu held).
func (a *Adaptive) update() {
	saturated := float64(a.peak) >= a.limit/2
	if a.samples > 0 {
		mean := a.sum / time.Duration(a.samples)
		a.recent = mean
		switch {
		case a.probing:
			// Requests admitted at the minimum limit: no queue of ours.
			a.noLoad, a.probing = mean, false
		case a.noLoad == 0 || mean < a.noLoad:
			a.noLoad = mean
		case !saturated:
			// Few slots in use: no queue of ours is in this latency, so the
			// estimate follows it up (it may have been a fast phase).
			a.noLoad += (mean - a.noLoad) / 10
		}
		// Little's law: with at most peak requests in flight, our own queue
		// can make a request wait at most peak service times, even on a
		// one-slot service. A window mean beyond tolerance x peak x the
		// estimate is no queue of ours: the estimate is stale (a faster
		// phase taught it), whatever the load. Probe for a new one.
		// Two windows in a row, so one stall of the whole process (a long
		// GC pause, a starved CPU) does not set off a probe.
		if a.peak > 0 && float64(mean) > littleMargin*a.cfg.tolerance*float64(a.peak)*float64(a.noLoad) {
			if a.beyondLittle++; a.beyondLittle >= 2 {
				a.probe()
			}
			return // this latency is not ours: do not move the limit for it
		} else {
			a.beyondLittle = 0
		}
	}
	over := a.samples > 0 && float64(a.recent) > a.cfg.tolerance*float64(a.noLoad)
	overDropped := a.drops > 0 && float64(a.drops) > dropShare*float64(a.samples+a.drops)
	// Slow start ends as soon as a queue starts to form (latency halfway to
	// the tolerance), not when it is already over: the latencies of a
	// window lag the limit by a round trip, and one more doubling on stale
	// news would overshoot by a whole limit's worth of queue.
	queueForming := a.samples > 0 && float64(a.recent) > (1+a.cfg.tolerance)/2*float64(a.noLoad)
	if over || overDropped || queueForming {
		a.slowStart = false
	}
	if a.stale(over) {
		a.probe()
		return
	}
	next := a.limit
	switch {
	case overDropped:
		next = a.limit * 0.9
	case a.samples == 0:
	case a.slowStart:
		if saturated {
			next = 2 * a.limit
		}
	case a.cfg.aimd:
		if over {
			next = a.limit * 0.9
		} else if saturated {
			next = a.limit + 1
		}
	default:
		gradient := math.Max(0.5, math.Min(1, a.cfg.tolerance*float64(a.noLoad)/float64(a.recent)))
		next = a.limit * gradient
		if saturated && !over { // room for a small queue, to find spare capacity
			next += math.Sqrt(a.limit)
		}
		next = math.Min(next, 2*a.limit)
		next = (a.limit + next) / 2
	}
	a.limit = math.Max(float64(a.cfg.min), math.Min(float64(a.cfg.max), next))
	if n := int64(math.Round(a.limit)); n != a.limitN.Load() {
		a.limitN.Store(n)
		a.limitSince = time.Now()
	}
}

// stale reports whether the no-load estimate looks stale (a.mu held; the
// window's latency is over the tolerance if over). Latency beyond the
// tolerance shrinks the limit, and a queue we caused shrinks with it: its
// latency falls about as fast as the limit does. Latency that stays put
// while the limit halves is not our queue: the estimate came from a faster
// phase (health checks, cached answers, 429s) or the service itself got
// slower. A long overload does not look stale: under it the latency
// follows the limit down, and so does a capacity loss in the middle of one
// (see streakMean).
func (a *Adaptive) stale(over bool) bool {
	if !over || a.slowStart {
		a.overStreak, a.lowWindows = 0, 0
		return false
	}
	if a.overStreak == 0 {
		a.streakLimit, a.streakMean = a.limit, a.recent
	}
	a.overStreak++
	// a.limit is the limit this window ran under; latency lags a limit
	// change by about one latency, so the lower limit must have held for
	// two windows before the latency is judged.
	// The lowest latency since, not the latest: a stall adds a spike to
	// one window, a stale estimate keeps every window up.
	if a.limit <= 0.5*a.streakLimit || a.limit <= float64(a.cfg.min) {
		if a.lowWindows == 0 || a.recent < a.lowMin {
			a.lowMin = a.recent
		}
		a.lowWindows++
	} else {
		// Judged against the streak's highest mean before the halving,
		// not its first: when the service loses capacity in the middle
		// of an overload, the streak starts at the overload's steady
		// mean, the latency then jumps (our queue behind less capacity)
		// and falls back to that mean as the limit halves, which is our
		// queue following the limit down, not a stale estimate.
		a.streakMean = max(a.streakMean, a.recent)
	}
	return a.lowWindows >= 2 && float64(a.lowMin) >= 0.9*float64(a.streakMean)
}

// probeLimit is the concurrency a probe measures at (Envoy's gradient
// controller uses 3): low enough that few services queue at it, high
// enough to keep serving a light load while it measures.
const probeLimit = 4

// probe measures the no-load latency again (a.mu held), as Envoy's
// gradient controller re-measures its minimum RTT: the limit drops to at
// most probeLimit (never below the minimum) for one window, whose requests
// (those admitted during it) see little or no queue of ours; their mean
// becomes the estimate, and slow start finds the limit again from there,
// doubling per round trip. It costs a few round trips at a low limit, and
// only happens when the estimate is proven stale, never on a timer.
func (a *Adaptive) probe() {
	a.probing, a.limitSince, a.slowStart = true, time.Now(), true
	a.overStreak, a.lowWindows, a.beyondLittle = 0, 0, 0
	a.limit = math.Min(a.limit, float64(max(a.cfg.min, probeLimit)))
	a.limitN.Store(int64(math.Round(a.limit)))
}

// Stats implements Limiter.
func (a *Adaptive) Stats() Stats {
	a.mu.Lock()
	noLoad, recent := a.noLoad, a.recent
	a.mu.Unlock()
	s := a.stats(int(a.limitN.Load()))
	s.MinLatency, s.RecentLatency = noLoad, recent
	return s
}
