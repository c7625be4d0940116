package ratelimit

import (
	"errors"
	"fmt"
	"math"
	"time"

	"golang.org/x/time/rate"
)

// params is one configuration of a GCRA bucket, in integer nanoseconds.
// Limiter swaps it as a whole on SetLimit and SetBurst; Keyed holds one per
// override.
//
// A bucket's state is its theoretical arrival time tat: the bucket is full
// when tat <= now and holds (tau - (tat - now)) / interval tokens
// otherwise. Rate 0 (no refill) uses the same arithmetic on a clock that
// never moves (see clock), so "the first burst events, then none" needs no
// separate code path and no huge interval that would still refill after
// years.
type params struct {
	limit    rate.Limit
	burst    int
	interval int64 // ns per event; 0 means rate.Inf
	tau      int64 // interval * burst: how far tat may run ahead of now
}

// frozenNow is the clock of a rate-0 bucket: a constant no real reading
// reaches (ns since a limiter's epoch: 146 years), so a rate-0 key in
// Keyed is never taken for an idle one, and its tokens never come back.
const frozenNow = int64(1) << 62

// maxTau bounds interval x burst so that now + tau (and frozenNow + tau)
// can never overflow an int64.
const maxTau = int64(1) << 61

var errNegativeBurst = errors.New("negative burst")

// makeParams validates r and burst. Its errors carry no package prefix:
// callers add the function name.
func makeParams(r rate.Limit, burst int) (*params, error) {
	switch {
	case burst < 0:
		return nil, errNegativeBurst
	case math.IsNaN(float64(r)) || r < 0:
		return nil, errors.New("rate must be >= 0 (or rate.Inf)")
	case r == rate.Inf:
		return &params{limit: r, burst: burst}, nil
	case r == 0:
		return &params{limit: 0, burst: burst, interval: 1, tau: int64(burst)}, nil
	case r > 1e9:
		return nil, errors.New("rates above 1e9/s are below the nanosecond resolution; use rate.Inf")
	}
	exact := 1e9 / float64(r)
	if exact*float64(max(burst, 1)) > float64(maxTau) {
		return nil, errors.New("interval x burst overflows; use a larger rate or a smaller burst")
	}
	interval := int64(math.Round(exact))
	if math.Abs(float64(interval)-exact) > exact/100 {
		// Rounding the interval to whole nanoseconds would move the rate
		// by more than 1% (700M/s would admit 1G/s): say so instead.
		return nil, fmt.Errorf("%v/s is not within 1%% of a whole number of nanoseconds per event; use rate.Inf or a rate with an interval of whole nanoseconds", float64(r))
	}
	return &params{limit: r, burst: burst, interval: interval, tau: interval * int64(burst)}, nil
}

// mustParams is makeParams for constructors, which panic on bad input.
func mustParams(r rate.Limit, burst int, fn string) *params {
	p, err := makeParams(r, burst)
	if err != nil {
		panic(fmt.Sprintf("ratelimit: %s(%v, %d): %v", fn, r, burst, err))
	}
	return p
}

// clock maps a real reading (ns since the epoch) to the bucket's clock: the
// reading itself, or frozenNow at rate 0.
func (p *params) clock(now int64) int64 {
	if p.limit == 0 {
		return frozenNow
	}
	return now
}

// tokens is how many events the bucket holds at tat and real time now:
// burst when full, negative when reservations ran past the burst.
func (p *params) tokens(tat, now int64) float64 {
	if p.interval == 0 {
		return float64(p.burst)
	}
	owed := max(tat-p.clock(now), 0)
	return float64(p.tau-owed) / float64(p.interval)
}

// tatFor is the tat at which the bucket holds tokens at real time now (the
// inverse of tokens), rounding towards fewer tokens and saturating.
func (p *params) tatFor(tokens float64, now int64) int64 {
	if p.interval == 0 {
		return 0
	}
	now = p.clock(now)
	owed := math.Ceil(float64(p.tau) - tokens*float64(p.interval))
	switch {
	case owed <= 0:
		return now // full: tokens above the burst are not kept, as in x/time/rate
	case owed >= float64(math.MaxInt64-now):
		return math.MaxInt64
	}
	return now + int64(owed)
}

// window is how long the bucket takes to refill fully: burst/r, or
// rate.InfDuration at rate 0 (it never does).
func (p *params) window() time.Duration {
	switch {
	case p.interval == 0:
		return 0
	case p.limit == 0:
		return rate.InfDuration
	}
	return time.Duration(p.tau)
}
