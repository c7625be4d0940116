package hedge_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/breakeven-go/breakeven/hedge"
)

// backend answers after the latency given for each attempt, honouring ctx.
func backend(latencies ...time.Duration) func(ctx context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		a := hedge.Attempt(ctx)
		select {
		case <-time.After(latencies[a]):
			return fmt.Sprint("attempt ", a), nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

func TestDelayHedgesAStalledAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := hedge.New(hedge.Delay(5 * time.Millisecond))
		start := time.Now()
		v, err := hedge.Do(t.Context(), h, backend(time.Hour, time.Millisecond))
		if err != nil || v != "attempt 1" {
			t.Fatalf("Do = %q, %v; want the hedge's answer", v, err)
		}
		if d := time.Since(start); d != 6*time.Millisecond {
			t.Fatalf("Do took %v, want 5ms delay + 1ms", d)
		}
		if s := h.Stats(); s.Calls != 1 || s.Hedges != 1 || s.HedgeWins != 1 || s.Delay != 5*time.Millisecond {
			t.Fatalf("Stats = %+v", s)
		}
		synctest.Wait() // the stalled attempt saw its cancel and returned
	})
}

func TestFastCallIsNotHedged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := hedge.New(hedge.Delay(5 * time.Millisecond))
		v, err := hedge.Do(t.Context(), h, backend(time.Millisecond, time.Millisecond))
		if err != nil || v != "attempt 0" || h.Stats().Hedges != 0 {
			t.Fatalf("Do = %q, %v, stats %+v; want attempt 0 and no hedge", v, err, h.Stats())
		}
	})
}

func TestErrorStartsTheNextAttemptAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := hedge.New(hedge.Delay(time.Second))
		start := time.Now()
		v, err := hedge.Do(t.Context(), h, func(ctx context.Context) (string, error) {
			if hedge.Attempt(ctx) == 0 {
				time.Sleep(time.Millisecond)
				return "", errors.New("connection reset")
			}
			time.Sleep(2 * time.Millisecond)
			return "second", nil
		})
		if err != nil || v != "second" || time.Since(start) != 3*time.Millisecond {
			t.Fatalf("Do = %q, %v after %v; want the second attempt at 3ms", v, err, time.Since(start))
		}
	})
}

func TestFailsOnlyWhenEveryAttemptFailed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := hedge.New(hedge.Delay(time.Millisecond), hedge.MaxAttempts(3))
		var calls atomic.Int32
		_, err := hedge.Do(t.Context(), h, func(ctx context.Context) (int, error) {
			calls.Add(1)
			return 0, fmt.Errorf("attempt %d failed", hedge.Attempt(ctx))
		})
		if err == nil || err.Error() != "attempt 0 failed" || calls.Load() != 3 {
			t.Fatalf("Do = %v after %d calls; want the first attempt's error after 3", err, calls.Load())
		}
		if s := h.Stats(); s.Failures != 1 {
			t.Fatalf("Stats = %+v, want 1 failure", s)
		}
	})
}

// TestBudgetBoundsExtraAttempts: with every call slow, hedges stay under
// fraction x calls + the saved-up burst, and a denied hedge never cancels
// the attempt already running.
func TestBudgetBoundsExtraAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := hedge.New(hedge.Delay(time.Millisecond), hedge.Budget(0.1))
		for range 500 {
			v, err := hedge.Do(t.Context(), h, backend(3*time.Millisecond, 3*time.Millisecond))
			if err != nil || v == "" {
				t.Fatalf("Do = %q, %v: a budget denial must not fail the call", v, err)
			}
		}
		s := h.Stats()
		if s.Hedges > 500/10+10 || s.BudgetDenied == 0 {
			t.Fatalf("Stats = %+v, want at most 60 hedges for 500 calls at 10%%", s)
		}
	})
}

func TestContextCancellationReturnsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := hedge.New(hedge.Delay(time.Millisecond))
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := hedge.Do(ctx, h, backend(time.Hour, time.Hour))
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != 10*time.Millisecond {
			t.Fatalf("Do = %v after %v, want DeadlineExceeded at 10ms", err, time.Since(start))
		}
		synctest.Wait()
	})
}

// TestWinnerContextStaysValid: the winner may keep using its context after
// Do returns (reading a response body); the losers' are cancelled.
func TestWinnerContextStaysValid(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := hedge.New(hedge.Delay(time.Millisecond))
		var mu sync.Mutex
		ctxs := map[int]context.Context{}
		winner, err := hedge.Do(t.Context(), h, func(ctx context.Context) (int, error) {
			a := hedge.Attempt(ctx)
			mu.Lock()
			ctxs[a] = ctx
			mu.Unlock()
			d := map[int]time.Duration{0: time.Hour, 1: time.Millisecond}[a]
			select {
			case <-time.After(d):
				return a, nil
			case <-ctx.Done():
				return -1, ctx.Err()
			}
		})
		if err != nil || winner != 1 {
			t.Fatalf("Do = %d, %v", winner, err)
		}
		synctest.Wait()
		if ctxs[1].Err() != nil {
			t.Fatal("the winner's context was cancelled when Do returned")
		}
		if ctxs[0].Err() == nil {
			t.Fatal("the loser's context was not cancelled")
		}
	})
}

func TestDoDiscardGetsLosingResults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := hedge.New(hedge.Delay(time.Millisecond))
		var discarded atomic.Int32
		// Attempt 0 answers at 2ms, attempt 1 (started at 1ms) at 2ms too,
		// ignoring cancellation: one of them loses with a result.
		v, err := hedge.DoDiscard(t.Context(), h, func(ctx context.Context) (string, error) {
			if hedge.Attempt(ctx) == 0 {
				time.Sleep(2 * time.Millisecond)
			} else {
				time.Sleep(time.Millisecond)
			}
			return "body", nil
		}, func(string) { discarded.Add(1) })
		synctest.Wait()
		if err != nil || v != "body" || discarded.Load() != 1 {
			t.Fatalf("DoDiscard = %q, %v; discarded %d, want 1", v, err, discarded.Load())
		}
	})
}

// TestPercentileTracksLatency: after warm-up the delay sits just above the
// observed p-quantile.
func TestPercentileTracksLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := hedge.New(hedge.Percentile(0.9))
		if h.Stats().Delay != 0 {
			t.Fatal("Percentile without Delay hedges before warm-up")
		}
		for i := range 200 {
			d := 2 * time.Millisecond
			if i%20 == 0 {
				d = 50 * time.Millisecond // 5% slow
			}
			hedge.Do(t.Context(), h, backend(d, 2*time.Millisecond))
		}
		if d := h.Stats().Delay; d < 2*time.Millisecond || d > 2300*time.Microsecond {
			t.Fatalf("delay after 200 calls = %v, want just above the 2ms mode", d)
		}
	})
}

func TestBadOptionsPanic(t *testing.T) {
	for name, f := range map[string]func(){
		"Delay(0s)":      func() { hedge.Delay(0) },
		"Percentile(1)":  func() { hedge.Percentile(1) },
		"Percentile(0)":  func() { hedge.Percentile(0) },
		"MaxAttempts(1)": func() { hedge.MaxAttempts(1) },
		"Budget(0)":      func() { hedge.Budget(0) },
		"Budget(1.5)":    func() { hedge.Budget(1.5) },
	} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.HasPrefix(msg, "hedge: "+name) {
					t.Errorf("%s panicked with %q", name, msg)
				}
			}()
			f()
		}()
	}
}
