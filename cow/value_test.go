package cow_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/breakeven-go/breakeven/cow"
	"github.com/breakeven-go/breakeven/internal/baseline"
)

type pair struct{ a, b int } // invariant: b == -a

type valueLike interface {
	Load() pair
	Store(pair)
	Update(func(pair) pair) pair
}

var valueImpls = []struct {
	name string
	new  func(pair) valueLike
}{
	{"cow", func(p pair) valueLike { return cow.NewValue(p) }},
	{"atomic", func(p pair) valueLike { return baseline.NewAtomicValue(p) }},
	{"rwmutex", func(p pair) valueLike { return baseline.NewRWMutexValue(p) }},
}

// TestValueUpdateNeverLosesAnIncrement runs 8 goroutines x 2000 Updates
// while readers check that no value is ever torn (b == -a always).
func TestValueUpdateNeverLosesAnIncrement(t *testing.T) {
	for _, im := range valueImpls {
		t.Run(im.name, func(t *testing.T) {
			v := im.new(pair{})
			stop := make(chan struct{})
			var readers sync.WaitGroup
			for range 4 {
				readers.Go(func() {
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						if i%16 == 0 {
							runtime.Gosched() // let the writers run on 2 cores
						}
						if p := v.Load(); p.b != -p.a {
							t.Errorf("torn value %+v", p)
							return
						}
					}
				})
			}
			var writers sync.WaitGroup
			for range 8 {
				writers.Go(func() {
					for range 2000 {
						v.Update(func(p pair) pair { return pair{p.a + 1, -(p.a + 1)} })
					}
				})
			}
			writers.Wait()
			close(stop)
			readers.Wait()
			if got := v.Load(); got.a != 16000 {
				t.Fatalf("after 8 x 2000 increments, value = %+v, want a = 16000", got)
			}
		})
	}
}

func TestValueSwapVersionAndStats(t *testing.T) {
	v := cow.NewValue("a")
	if v.Version() != 1 {
		t.Fatalf("Version of a new Value = %d, want 1", v.Version())
	}
	if old := v.Swap("b"); old != "a" || v.Load() != "b" {
		t.Fatalf("Swap returned %q, Load %q", old, v.Load())
	}
	if got := v.Update(func(s string) string { return s + "c" }); got != "bc" {
		t.Fatalf("Update returned %q", got)
	}
	if s := v.Stats(); s.Version != 3 || s.Rejected != 0 {
		t.Fatalf("Stats = %+v, want version 3", s)
	}
}

func TestValueTryUpdateKeepsLastGoodValue(t *testing.T) {
	v := cow.NewValue(10)
	errInvalid := errors.New("limit must be positive")
	validate := func(n int) func(int) (int, error) {
		return func(int) (int, error) {
			if n <= 0 {
				return 0, errInvalid
			}
			return n, nil
		}
	}
	changed := v.Changed()
	got, err := v.TryUpdate(validate(-5))
	if !errors.Is(err, errInvalid) || got != 10 || v.Load() != 10 {
		t.Fatalf("TryUpdate(invalid) = %d, %v; Load %d: want the last good value 10 and the error", got, err, v.Load())
	}
	select {
	case <-changed:
		t.Fatal("a rejected update closed Changed()")
	default:
	}
	if got, err := v.TryUpdate(validate(20)); err != nil || got != 20 || v.Load() != 20 {
		t.Fatalf("TryUpdate(valid) = %d, %v", got, err)
	}
	<-changed // closed by the accepted update
	if s := v.Stats(); s.Rejected != 1 || s.Version != 2 {
		t.Fatalf("Stats = %+v, want 1 rejected, version 2", s)
	}
}

func TestValueLoadDoesNotAllocate(t *testing.T) {
	v := cow.NewValue(&pair{1, -1})
	if a := testing.AllocsPerRun(1000, func() { _ = v.Load() }); a != 0 {
		t.Fatalf("Load allocates %v times per call", a)
	}
}

// TestValueWatchSeesFinalValueAndExits: a watcher that is slower than a
// burst of publishes still ends on the final value, never blocks the
// writer, and returns when its context ends.
func TestValueWatchSeesFinalValueAndExits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := cow.NewValue(0)
		ctx, cancel := context.WithCancel(t.Context())
		var seen []int
		done := make(chan struct{})
		go func() {
			defer close(done)
			for x := range v.Watch(ctx) {
				seen = append(seen, x)
			}
		}()
		synctest.Wait() // the watcher has yielded 0 and waits
		for i := 1; i <= 1000; i++ {
			v.Store(i) // never blocks on the watcher
		}
		synctest.Wait()
		if len(seen) == 0 || seen[0] != 0 || seen[len(seen)-1] != 1000 {
			t.Fatalf("watcher saw %v..., want 0 first and 1000 last", seen[:min(len(seen), 5)])
		}
		for i := 1; i < len(seen); i++ {
			if seen[i] <= seen[i-1] {
				t.Fatalf("watcher saw %d after %d", seen[i], seen[i-1])
			}
		}
		cancel()
		<-done
	})
}

func TestValueWatchStopsWhenLoopBreaks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := cow.NewValue("a")
		go func() { v.Store("b") }()
		for x := range v.Watch(t.Context()) {
			if x == "b" {
				break
			}
		}
	})
}
