package cow_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/breakeven-go/breakeven/cow"
	"github.com/breakeven-go/breakeven/internal/suites"
)

// TestValueCompareAndSwapUnderContention: 8 goroutines increment with a
// read, a yield, and a CompareAndSwap retried until it wins. A CAS that
// compared outside the writers' lock would let two increments from one
// value both win, and the total would fall short. A CAS fails only when
// another increment won since its Load, and each win can fail each of the
// 7 other goroutines once, so more than 7 x 4000 failures means a CAS
// failed with nothing to lose to: the test fails then instead of spinning.
func TestValueCompareAndSwapUnderContention(t *testing.T) {
	var v cow.Value[int] // the zero value, holding 0
	var wins, failures atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 500 {
				for {
					old := v.Load()
					runtime.Gosched() // let the others move the value meanwhile
					if v.CompareAndSwap(old, old+1) {
						wins.Add(1)
						break
					}
					if failures.Add(1) > 7*4000 {
						t.Errorf("more than 7 x 4000 failed CompareAndSwaps for 4000 increments: CompareAndSwap(%d, %d) fails with no increment to lose to", old, old+1)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if got := v.Load(); got != 4000 || wins.Load() != 4000 || v.Version() != 4001 {
		t.Fatalf("after 4000 CAS increments: value %d, wins %d, version %d; want 4000, 4000, 4001", got, wins.Load(), v.Version())
	}
	if v.CompareAndSwap(3999, 0) || v.Load() != 4000 || v.Version() != 4001 {
		t.Fatal("CompareAndSwap with a stale old value published")
	}
}

func TestValueCompareAndSwapRejectsIncomparableT(t *testing.T) {
	defer func() {
		if msg, _ := recover().(string); !strings.HasPrefix(msg, "cow: Value[[]int].CompareAndSwap") {
			t.Fatalf("panic %q, want a cow: message naming the type", msg)
		}
	}()
	cow.NewValue([]int{1}).CompareAndSwap(nil, nil)
}

// TestValueZeroValueIsUsable: a zero Value holds the zero T at version 1,
// and concurrent first writes neither lose an update nor a waiter.
func TestValueZeroValueIsUsable(t *testing.T) {
	var v cow.Value[int]
	if v.Load() != 0 || v.Version() != 1 {
		t.Fatalf("zero Value: Load %d, Version %d; want 0, 1", v.Load(), v.Version())
	}
	changed := v.Changed()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				v.Update(func(x int) int { return x + 1 })
			}
		})
	}
	wg.Wait()
	select {
	case <-changed:
	default:
		t.Fatal("Changed of a zero Value not closed by the writes")
	}
	if v.Load() != 800 || v.Version() != 801 {
		t.Fatalf("zero Value after 800 Updates: %d at version %d", v.Load(), v.Version())
	}
}

// TestMapConcurrentWritesAreNeverLost: 8 writers each set their own keys
// with Store and Apply (yielding inside Apply, while holding the writers'
// lock) and delete half of them again: every write lands exactly. Without
// the lock, two copies made from one version would drop each other's keys.
func TestMapConcurrentWritesAreNeverLost(t *testing.T) {
	var m cow.Map[string, int] // the zero value, empty
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				k := fmt.Sprint(g, "/", i)
				if i%2 == 0 {
					m.Store(k, i)
				} else {
					m.Apply(func(c map[string]int) {
						runtime.Gosched()
						c[k] = i
					})
				}
				if i%4 == 0 {
					m.Delete(k)
				}
			}
		})
	}
	wg.Wait()
	if m.Len() != 8*(50-13) {
		t.Fatalf("Len = %d after concurrent writes, want %d", m.Len(), 8*(50-13))
	}
	for g := range 8 {
		for i := range 50 {
			_, ok := m.Load(fmt.Sprint(g, "/", i))
			if ok != (i%4 != 0) {
				t.Fatalf("key %d/%d present = %v", g, i, ok)
			}
		}
	}
}

// TestMapWatchSeesEveryWriterFinishAndExits: 4 writers race on the map
// while a watcher ranges Watch; the watcher ends up with the final version
// (all 400 keys), never holds up a writer, and returns when its context
// ends (goleak, in TestMain, checks that nothing is left running). A
// deadline turns a lost wake-up into a failure, not a hang.
func TestMapWatchSeesEveryWriterFinishAndExits(t *testing.T) {
	m := cow.NewMap[int, int](nil)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	sawAll := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for s := range m.Watch(ctx) {
			if s.Len() == 400 {
				close(sawAll)
				<-ctx.Done() // keep watching until cancelled
			}
		}
	}()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 100 {
				m.Store(g*100+i, i)
			}
		})
	}
	wg.Wait()
	select {
	case <-sawAll:
	case <-done:
		t.Fatal("the watch ended before the final version")
	case <-ctx.Done():
		t.Fatal("the watcher never saw the final version")
	}
	cancel()
	<-done
}

// TestMapWatchCoalescesAndStopsWhenLoopBreaks: a watcher slower than a
// burst sees versions in order, ending on the last one; breaking the loop
// returns.
func TestMapWatchCoalescesAndStopsWhenLoopBreaks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := cow.NewMap(map[string]int{"n": 0})
		var seen []int
		done := make(chan struct{})
		go func() {
			defer close(done)
			for s := range m.Watch(t.Context()) {
				n, _ := s.Load("n")
				seen = append(seen, n)
				if n == 1000 {
					break
				}
			}
		}()
		synctest.Wait()
		for i := 1; i <= 1000; i++ {
			m.Store("n", i)
		}
		<-done
		if seen[0] != 0 || seen[len(seen)-1] != 1000 {
			t.Fatalf("watcher saw %v..., want 0 first and 1000 last", seen[:min(len(seen), 5)])
		}
		for i := 1; i < len(seen); i++ {
			if seen[i] <= seen[i-1] {
				t.Fatalf("watcher saw %d after %d", seen[i], seen[i-1])
			}
		}
	})
}

// TestMapChangedOnlyOnAChange: Changed is closed by a publish, not by a
// Delete of a missing key (which publishes nothing).
func TestMapChangedOnlyOnAChange(t *testing.T) {
	var m cow.Map[string, int]
	ch := m.Changed()
	m.Delete("missing")
	select {
	case <-ch:
		t.Fatal("Changed closed by a Delete that changed nothing")
	default:
	}
	m.Reset(map[string]int{"a": 1})
	select {
	case <-ch:
	default:
		t.Fatal("Changed not closed by Reset")
	}
}

// TestDocRunPatternMatchesASuite: the command the package doc suggests
// selects cow's suites in cmd/breakeven.
func TestDocRunPatternMatchesASuite(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("-run ([^` ]+)").FindSubmatch(doc)
	if m == nil {
		t.Fatal("doc.go suggests no -run pattern")
	}
	re := regexp.MustCompile(string(m[1]))
	var matched []string
	for _, s := range suites.All() {
		if re.MatchString(s.Name) {
			matched = append(matched, s.Name)
		}
	}
	if strings.Join(matched, " ") != "CowValue CowMap" && strings.Join(matched, " ") != "CowMap CowValue" {
		t.Fatalf("-run %s selects suites %v, want CowValue and CowMap", m[1], matched)
	}
}
