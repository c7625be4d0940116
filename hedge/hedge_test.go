package hedge_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
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

// TestAttemptOutsideDo: a context that did not come from Do has no
// attempt index.
func TestAttemptOutsideDo(t *testing.T) {
	if a := hedge.Attempt(t.Context()); a != -1 {
		t.Fatalf("Attempt outside Do = %d, want -1", a)
	}
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

// TestBudgetBoundsExtraAttempts: after a long run of fast calls (which earn
// budget tokens but spend none), a run of slow calls hedges no more than
// the budget's share of those slow calls plus the saved-up burst: the
// saved tokens are capped. A denied hedge never fails the call.
func TestBudgetBoundsExtraAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := hedge.New(hedge.Delay(time.Millisecond), hedge.Budget(0.1))
		for range 1000 {
			if _, err := hedge.Do(t.Context(), h, backend(time.Millisecond/2, time.Millisecond/2)); err != nil {
				t.Fatal(err)
			}
		}
		if s := h.Stats(); s.Hedges != 0 {
			t.Fatalf("fast calls hedged: %+v", s)
		}
		const slow = 200
		for range slow {
			v, err := hedge.Do(t.Context(), h, backend(3*time.Millisecond, 3*time.Millisecond))
			if err != nil || v == "" {
				t.Fatalf("Do = %q, %v: a budget denial must not fail the call", v, err)
			}
		}
		s := h.Stats()
		if limit := uint64(slow/10 + 10); s.Hedges > limit || s.BudgetDenied == 0 {
			t.Fatalf("Stats = %+v: want at most %d hedges over %d slow calls after fast ones", s, limit, slow)
		}
	})
}

// TestDefaultBudgetCoversFailures: a Hedger built with no options has a
// budget, and attempts started because an attempt failed spend it too, so
// a failing backend sees at most a tenth more calls, not twice as many.
func TestDefaultBudgetCoversFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := hedge.New()
		var attempts atomic.Int64
		const calls = 1000
		for range calls {
			hedge.Do(t.Context(), h, func(context.Context) (int, error) {
				attempts.Add(1)
				return 0, errors.New("backend down")
			})
		}
		if extra := attempts.Load() - calls; extra > calls/10+10 {
			t.Fatalf("%d extra attempts for %d failing calls, want at most %d", extra, calls, calls/10+10)
		}
		if s := h.Stats(); s.Failures != calls {
			t.Fatalf("Stats = %+v, want %d failures", s, calls)
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

// TestEveryContextEndsWithTheCall: when Do returns, the losers' contexts
// and the winner's are cancelled: nothing stays registered with ctx.
func TestEveryContextEndsWithTheCall(t *testing.T) {
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
		if ctxs[0].Err() == nil || ctxs[1].Err() == nil {
			t.Fatalf("contexts after Do: loser %v, winner %v; want both cancelled", ctxs[0].Err(), ctxs[1].Err())
		}
	})
}

// TestKeepContextUntilRelease: with KeepContext, the winner's context
// stays live after DoWith returns, until release.
func TestKeepContextUntilRelease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := hedge.New(hedge.Delay(time.Millisecond))
		ctx, release, err := hedge.DoWith(t.Context(), h, func(ctx context.Context) (context.Context, error) {
			return ctx, nil
		}, hedge.Results[context.Context]{KeepContext: true})
		if err != nil {
			t.Fatal(err)
		}
		if ctx.Err() != nil {
			t.Fatal("the kept context ended when DoWith returned")
		}
		release()
		if ctx.Err() == nil {
			t.Fatal("release did not end the kept context")
		}
	})
}

// TestDoHoldsNoMemoryAfterReturn: calls on a long-lived cancellable
// context (a worker's) leave nothing registered in it, so the heap does
// not grow with the number of calls.
func TestDoHoldsNoMemoryAfterReturn(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := hedge.New(hedge.Delay(time.Hour))
	fn := func(context.Context) (int, error) { return 1, nil }
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	for range 20_000 { // until the runtime's own structures are at their steady size
		hedge.Do(ctx, h, fn)
	}
	before := heap()
	const calls = 200_000
	for range calls {
		if _, err := hedge.Do(ctx, h, fn); err != nil {
			t.Fatal(err)
		}
	}
	perCall := (float64(heap()) - float64(before)) / calls
	t.Logf("heap after %d calls: %+.2f B/call", calls, perCall)
	if perCall > 8 {
		t.Fatalf("heap grew %.1f B per call on a long-lived context, want flat", perCall)
	}
}

// TestDoDiscardCancelsLosersFirstOffTheCallersGoroutine: discard may block
// (a losing body that streams until its context is cancelled). Do must
// return without waiting for it, and a loser's context is cancelled before
// its discard runs. Both attempts finish at the same instant, so some
// iterations hand Do a loser's result before Do has picked its winner
// (with two or more Ps: one P runs the woken caller first).
func TestDoDiscardCancelsLosersFirstOffTheCallersGoroutine(t *testing.T) {
	for range 1000 {
		synctest.Test(t, func(t *testing.T) {
			h := hedge.New(hedge.Delay(time.Millisecond), hedge.Budget(1))
			returned := make(chan struct{})
			var discarded atomic.Int32
			v, err := hedge.DoDiscard(t.Context(), h, func(ctx context.Context) (context.Context, error) {
				if hedge.Attempt(ctx) == 0 {
					time.Sleep(2 * time.Millisecond)
				} else {
					time.Sleep(time.Millisecond)
				}
				return ctx, nil // ignores cancellation: one of them loses with a result
			}, func(loser context.Context) {
				if loser.Err() == nil {
					t.Error("discard ran before the loser's context was cancelled")
				}
				<-returned // blocks until Do has returned: deadlocks if on Do's goroutine
				discarded.Add(1)
			})
			close(returned)
			synctest.Wait()
			if err != nil || v == nil || discarded.Load() != 1 {
				t.Fatalf("DoDiscard = %v, %v; discarded %d, want 1", v, err, discarded.Load())
			}
		})
	}
}

// TestPanicReachesTheCaller: a panic in an attempt re-panics on Do's
// goroutine as a *PanicError with the value and the attempt's stack, and
// the other attempts are cancelled.
func TestPanicReachesTheCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := hedge.New(hedge.Delay(time.Millisecond))
		var other context.Context
		defer func() {
			pe, ok := recover().(*hedge.PanicError)
			if !ok || pe.Value != "boom" || !strings.Contains(string(pe.Stack), "panicsInAttempt") {
				t.Fatalf("recovered %v, want a *PanicError with the value and the attempt's stack", pe)
			}
			synctest.Wait()
			if other.Err() == nil {
				t.Fatal("the other attempt was not cancelled")
			}
			if s := h.Stats(); s.Failures != 1 {
				t.Fatalf("Stats = %+v, want the panicked call counted as failed", s)
			}
		}()
		hedge.Do(t.Context(), h, func(ctx context.Context) (int, error) {
			if hedge.Attempt(ctx) == 1 {
				other = ctx
				<-ctx.Done()
				return 0, ctx.Err()
			}
			time.Sleep(2 * time.Millisecond)
			panicsInAttempt()
			return 0, nil
		})
		t.Fatal("Do returned after an attempt panicked")
	})
}

func panicsInAttempt() { panic("boom") }

// TestLosersPanicIsCounted: a loser that panics after Do returned has no
// caller to reach; it is counted, and the process survives.
func TestLosersPanicIsCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := hedge.New(hedge.Delay(time.Millisecond))
		v, err := hedge.Do(t.Context(), h, func(ctx context.Context) (int, error) {
			if hedge.Attempt(ctx) == 0 {
				<-ctx.Done()
				panic("late")
			}
			return 1, nil
		})
		synctest.Wait()
		if v != 1 || err != nil || h.Stats().LostPanics != 1 {
			t.Fatalf("Do = %d, %v, stats %+v; want the hedge's 1 and one lost panic", v, err, h.Stats())
		}
	})
}

// TestGoexitFailsTheAttempt: an attempt whose fn calls runtime.Goexit
// fails; the call neither hangs nor loses the other attempt's answer.
func TestGoexitFailsTheAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := hedge.New(hedge.Delay(time.Hour))
		start := time.Now()
		v, err := hedge.Do(t.Context(), h, func(ctx context.Context) (int, error) {
			if hedge.Attempt(ctx) == 0 {
				runtime.Goexit()
			}
			return 1, nil
		})
		if v != 1 || err != nil || time.Since(start) != 0 {
			t.Fatalf("Do = %d, %v after %v; want the next attempt's 1 at once", v, err, time.Since(start))
		}
	})
}

// TestFailedResultHedgesAtOnce: a result the Failed predicate rejects is a
// failed attempt: the next one starts at once and its answer wins, and the
// rejected result is discarded.
func TestFailedResultHedgesAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := hedge.New(hedge.Delay(time.Hour))
		discarded := make(chan string, 2)
		start := time.Now()
		v, _, err := hedge.DoWith(t.Context(), h, func(ctx context.Context) (string, error) {
			if hedge.Attempt(ctx) == 0 {
				return "busy", nil
			}
			time.Sleep(time.Millisecond)
			return "ok", nil
		}, hedge.Results[string]{
			Failed:  func(v string, err error) bool { return err != nil || v == "busy" },
			Discard: func(v string) { discarded <- v },
		})
		synctest.Wait()
		if v != "ok" || err != nil || time.Since(start) != time.Millisecond {
			t.Fatalf("DoWith = %q, %v after %v; want ok at 1ms", v, err, time.Since(start))
		}
		if len(discarded) != 1 || <-discarded != "busy" {
			t.Fatal("the failed result was not discarded")
		}
	})
}

// TestEveryAttemptFailedReturnsTheFirst: when every attempt's result is
// classified as failed, the call returns the first attempt's result, and
// the others are discarded.
func TestEveryAttemptFailedReturnsTheFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := hedge.New(hedge.Delay(time.Millisecond), hedge.MaxAttempts(3))
		var discarded atomic.Int32
		v, release, err := hedge.DoWith(t.Context(), h, func(ctx context.Context) (int, error) {
			a := hedge.Attempt(ctx)
			time.Sleep(time.Duration(4-2*a) * time.Millisecond) // started at a ms: the first answers last
			return 500 + a, nil
		}, hedge.Results[int]{
			Failed:      func(v int, err error) bool { return v >= 500 },
			Discard:     func(int) { discarded.Add(1) },
			KeepContext: true,
		})
		release()
		synctest.Wait()
		if v != 500 || err != nil || discarded.Load() != 2 {
			t.Fatalf("DoWith = %d, %v, discarded %d; want the first attempt's 500 and 2 discarded", v, err, discarded.Load())
		}
		if s := h.Stats(); s.Failures != 1 || s.Hedges != 2 {
			t.Fatalf("Stats = %+v", s)
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
		"MinWins(1)":     func() { hedge.MinWins(1) },
		"MinWins(-0.1)":  func() { hedge.MinWins(-0.1) },
		"MinWins(NaN)":   func() { hedge.MinWins(math.NaN()) },
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
