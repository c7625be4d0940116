package hedge

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// Tests of the Hedger's bookkeeping at its exact boundaries (issue 24:
// operator mutants of these lived under the behavioural tests).

// TestTakeTokenSpendsTheLastWholeToken: a budget holding exactly one token
// pays for one more hedge, then none.
func TestTakeTokenSpendsTheLastWholeToken(t *testing.T) {
	h := New(Delay(time.Millisecond))
	h.tokens = 1
	if !h.takeToken() {
		t.Fatal("one whole token left, and the hedge was refused")
	}
	if h.takeToken() {
		t.Fatal("no token left, and the hedge was paid for")
	}
	if s := h.Stats(); s.Hedges != 1 || s.BudgetDenied != 1 {
		t.Fatalf("Stats = %+v", s)
	}
}

// TestFinishedCountsOnlyHedgeWins: attempt 0 answering is not a hedge win.
func TestFinishedCountsOnlyHedgeWins(t *testing.T) {
	h := New(Delay(time.Millisecond))
	h.finished(0, false, false)
	h.finished(1, false, false)
	h.finished(0, true, false)
	if s := h.Stats(); s.HedgeWins != 1 || s.Failures != 1 {
		t.Fatalf("Stats = %+v, want 1 hedge win and 1 failure", s)
	}
}

// TestPercentileDelayIsRecomputedEvery16Samples: with Percentile, the
// delay is first set at the warmup's 32nd sample, then recomputed every 16
// samples, not on each one: 32 fast samples then slow ones move the median
// to the slow bucket at the 80th sample (the first recomputation after
// the slow ones are the majority), not at the 65th.
func TestPercentileDelayIsRecomputedEvery16Samples(t *testing.T) {
	h := New(Percentile(0.5))
	for i := 1; i <= 32; i++ {
		h.record(time.Millisecond)
		if got := h.currentDelay(); (got != 0) != (i == 32) {
			t.Fatalf("after %d samples the delay is %v; want it set at the 32nd only", i, got)
		}
	}
	fast := h.currentDelay()
	for i := 33; i <= 100; i++ {
		h.record(100 * time.Millisecond)
		slow := h.currentDelay() > 50*time.Millisecond
		if slow != (i >= 80) {
			t.Fatalf("after %d samples (32 of 1ms, then 100ms) the delay is %v; want %v until the 80th, then about 100ms", i, h.currentDelay(), fast)
		}
	}
}

// TestLatencyHistogramBounds: a latency past the last bucket lands in it;
// one of exactly the minimum in the first.
func TestLatencyHistogramBounds(t *testing.T) {
	if b := bucketOf(time.Hour); b != numBuckets-1 {
		t.Fatalf("bucketOf(1h) = %d, want the last bucket %d", b, numBuckets-1)
	}
	var l latencies
	l.add(time.Hour) // must not index past the histogram
	if b := bucketOf(minLatency); b != 0 {
		t.Fatalf("bucketOf(minLatency) = %d", b)
	}
}

// TestLatencyWarmupDecayAndQuantile: no quantile before 32 samples, one at
// 32; the median of 32 fast and 32 slow samples is the fast bucket (the
// cumulative count reaches the target exactly there), the 99th percentile
// the slow one; every 2048 samples the history is halved.
func TestLatencyWarmupDecayAndQuantile(t *testing.T) {
	var l latencies
	for range 31 {
		l.add(time.Millisecond)
	}
	if _, ok := l.quantile(0.5); ok {
		t.Fatal("a quantile after 31 samples, before the warmup of 32")
	}
	l.add(time.Millisecond)
	if _, ok := l.quantile(0.5); !ok {
		t.Fatal("no quantile after 32 samples")
	}
	for range 32 {
		l.add(100 * time.Millisecond)
	}
	if p50, _ := l.quantile(0.5); p50 > 2*time.Millisecond {
		t.Fatalf("median of 32 x 1ms and 32 x 100ms = %v, want the 1ms bucket", p50)
	}
	if p99, _ := l.quantile(0.99); p99 < 100*time.Millisecond || p99 > 120*time.Millisecond {
		t.Fatalf("p99 of 32 x 1ms and 32 x 100ms = %v, want the 100ms bucket", p99)
	}
	var d latencies
	for range decayEvery {
		d.add(time.Millisecond)
	}
	if d.total != decayEvery/2 || d.seen != 0 {
		t.Fatalf("after %d samples: total %v, seen %d; want the history halved", decayEvery, d.total, d.seen)
	}
}

// TestQuantilePastTheCountsIsTheTop: if the counts fall short of the
// target (total and counts are kept apart, and a float sum can round
// below it), the quantile is the histogram's top edge: a delay no sooner
// than any latency recorded.
func TestQuantilePastTheCountsIsTheTop(t *testing.T) {
	l := latencies{total: 100}
	l.counts[0] = 1
	if q, ok := l.quantile(0.5); !ok || q != bucketUpper(numBuckets-1) {
		t.Fatalf("quantile = %v, %v; want the top edge %v", q, ok, bucketUpper(numBuckets-1))
	}
}

// TestDefaultDelay: New without Delay or Percentile hedges after 10 ms.
func TestDefaultDelay(t *testing.T) {
	if d := New().currentDelay(); d != 10*time.Millisecond {
		t.Fatalf("default delay %v, want 10ms", d)
	}
}

// TestOptionBoundsAccepted: the smallest MaxAttempts, the first and last
// HTTP statuses and MinWins(0) are valid.
func TestOptionBoundsAccepted(t *testing.T) {
	MaxAttempts(2)
	FailedStatus(100, 599)
	if h := New(MinWins(0)); h.cfg.minWins != 0 {
		t.Fatalf("MinWins(0) set %v", h.cfg.minWins)
	}
	if h := New(); h.cfg.minWins != DefaultMinWins {
		t.Fatalf("default MinWins %v", h.cfg.minWins)
	}
}

// TestWorthHedgingBoundaries: hedges are judged from winMinSample hedged
// calls on, and withheld only while the share won is below MinWins, not at
// it; one call in probeEvery is still hedged.
func TestWorthHedgingBoundaries(t *testing.T) {
	h := New(Delay(time.Millisecond), MinWins(0.25))
	h.hedged = winMinSample - 1
	if !h.worthHedging() {
		t.Fatal("withheld before the minimum sample")
	}
	h.hedged, h.won = winMinSample, winMinSample/4
	if !h.worthHedging() {
		t.Fatal("withheld with exactly MinWins of the hedged calls won")
	}
	h.won = winMinSample/4 - 1
	for i := 1; i <= 2*probeEvery; i++ {
		if got := h.worthHedging(); got != (i%probeEvery == 0) {
			t.Fatalf("call %d that outlived the delay: hedged %v; want a probe every %d", i, got, probeEvery)
		}
	}
	if s := h.Stats(); s.Withheld != 2*(probeEvery-1) {
		t.Fatalf("Withheld = %d, want %d", s.Withheld, 2*(probeEvery-1))
	}
}

// TestWinShareIsHalvedEveryWindow: only calls that got a timed hedge and
// answered count, a win only when a hedge answered, and the counts are
// halved when the hedged calls reach winWindow.
func TestWinShareIsHalvedEveryWindow(t *testing.T) {
	h := New(Delay(time.Millisecond))
	h.finished(1, false, false) // answered by a failure-triggered attempt
	h.finished(1, true, true)   // failed
	if h.hedged != 0 || h.won != 0 {
		t.Fatalf("hedged %v, won %v; want neither counted", h.hedged, h.won)
	}
	for i := 1; i < winWindow; i++ {
		h.finished(i%2, false, true)
	}
	if h.hedged != winWindow-1 || h.won != winWindow/2 {
		t.Fatalf("hedged %v, won %v before the window is full", h.hedged, h.won)
	}
	h.finished(0, false, true)
	if h.hedged != winWindow/2 || h.won != winWindow/4 {
		t.Fatalf("hedged %v, won %v; want both halved at %d hedged calls", h.hedged, h.won, winWindow)
	}
}

// TestRefusedHedgeIsAskedForAgain: a timed hedge the budget refuses (its
// tokens spent by a burst of other calls) is asked for again one delay
// later, when other calls have earned a token meanwhile, instead of
// leaving the call to its slow first attempt.
func TestRefusedHedgeIsAskedForAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := New(Delay(time.Millisecond), Budget(0.1))
		h.tokens = 0 // spent by a burst
		go func() {
			time.Sleep(1500 * time.Microsecond) // between the refusal and the next ask
			h.mu.Lock()
			h.tokens = 1 // earned by other calls
			h.mu.Unlock()
		}()
		start := time.Now()
		v, err := Do(t.Context(), h, func(ctx context.Context) (int, error) {
			d := 10 * time.Millisecond
			if Attempt(ctx) == 1 {
				d = time.Millisecond
			}
			select {
			case <-time.After(d):
				return Attempt(ctx), nil
			case <-ctx.Done():
				return -1, ctx.Err()
			}
		})
		// Attempt 0 at 0; refused at 1ms; hedged at 2ms; answered at 3ms.
		if took := time.Since(start); err != nil || v != 1 || took != 3*time.Millisecond {
			t.Fatalf("Do = %d, %v after %v; want the hedge's 1 after 3ms", v, err, took)
		}
		if s := h.Stats(); s.Hedges != 1 || s.BudgetDenied != 1 {
			t.Fatalf("Stats = %+v; want 1 hedge after 1 refusal", s)
		}
	})
}
