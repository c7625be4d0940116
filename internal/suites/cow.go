package suites

import (
	"fmt"
	"time"

	"github.com/breakeven-go/breakeven/cow"
	"github.com/breakeven-go/breakeven/internal/baseline"
	"github.com/breakeven-go/breakeven/internal/benchutil"
)

// config is the value the CowValue workloads publish: a pointer, as a real
// config would be, so Load copies one word.
type config struct {
	limit   int
	enabled bool
}

// CowValue compares cow.Value.Load with a hand-rolled atomic.Pointer (the
// baseline) and an RWMutex-guarded value, with readers on every goroutine
// and, in "load/w1us", goroutine 0 also publishing about once a microsecond.
func CowValue() benchutil.Suite {
	type valueLike interface {
		Load() *config
		Store(*config)
	}
	impls := func(every time.Duration) []benchutil.Impl {
		mk := func(name string, v func() valueLike) benchutil.Impl {
			return benchutil.Impl{Name: name, Setup: func() benchutil.Body {
				x := v()
				return func(worker, n int) {
					var w writeTicker
					w.start(worker, every)
					for range n {
						if x.Load().limit < 0 {
							panic("unreachable")
						}
						if w.due() {
							x.Store(&config{limit: n, enabled: true})
						}
					}
				}
			}}
		}
		initial := &config{limit: 1, enabled: true}
		return []benchutil.Impl{
			mk("atomic", func() valueLike { return baseline.NewAtomicValue(initial) }),
			mk("rwmutex", func() valueLike { return baseline.NewRWMutexValue(initial) }),
			mk("cow", func() valueLike { return cow.NewValue(initial) }),
		}
	}
	return benchutil.Suite{
		Name: "CowValue", Primitive: "cow.Value", Impl: "cow", Baseline: "atomic", BaselineDesc: "atomic.Pointer",
		Workloads: []benchutil.Workload{
			{Name: "load", Impls: impls(0)},
			{Name: "load/w1us", Impls: impls(time.Microsecond)},
		},
	}
}

// writeTicker makes goroutine 0 of a workload the writer: due reports true
// about once per interval, checking the clock only every 64 calls so the
// check costs little beside a read.
type writeTicker struct {
	every time.Duration
	next  time.Time
	calls int
}

func (w *writeTicker) start(worker int, every time.Duration) {
	if worker == 0 && every > 0 {
		w.every, w.next = every, time.Now().Add(every)
	}
}

func (w *writeTicker) due() bool {
	if w.every == 0 {
		return false
	}
	if w.calls++; w.calls&63 != 0 {
		return false
	}
	if now := time.Now(); now.After(w.next) {
		w.next = now.Add(w.every)
		return true
	}
	return false
}

// CowMap compares cow.Map with a map under an RWMutex (the baseline) and
// sync.Map: reads with goroutine 0 also writing never, once a millisecond or
// once a microsecond, and writes alone, at 16, 1k and 100k keys. Copying
// loses once write rate x map size gets large: the "store" and "w1us" rows
// at 100k keys show where.
func CowMap() benchutil.Suite { return CowMapWith(nil) }

// CowMapWith is CowMap with more maps beside it (internal/peerbench's
// peers), each filled with the workload's keys before it runs.
func CowMapWith(extra []MapImpl) benchutil.Suite {
	s := benchutil.Suite{Name: "CowMap", Primitive: "cow.Map", Impl: "cow", Baseline: "rwmutex", BaselineDesc: "map+RWMutex"}
	for _, size := range []int{16, 1 << 10, 100_000} {
		keys := benchutil.StringKeys(size)
		init := make(map[string]int, size)
		for i, k := range keys {
			init[k] = i
		}
		impls := func(body func(m KV) benchutil.Body) []benchutil.Impl {
			list := []benchutil.Impl{
				{Name: "rwmutex", Setup: func() benchutil.Body {
					m := baseline.NewRWMutexMap[string, int]()
					for k, v := range init {
						m.Store(k, v)
					}
					return body(m)
				}},
				{Name: "syncmap", Setup: func() benchutil.Body {
					m := new(baseline.SyncMap[string, int])
					for k, v := range init {
						m.Store(k, v)
					}
					return body(m)
				}},
				{Name: "cow", Setup: func() benchutil.Body { return body(cow.NewMap(init)) }},
			}
			for _, im := range extra {
				list = append(list, benchutil.Impl{Name: im.Name, Setup: func() benchutil.Body {
					m := im.New()
					for k, v := range init {
						m.Store(k, v)
					}
					return body(m)
				}})
			}
			return list
		}
		idx := benchutil.Uniform.Indexes(uint64(size), size, streamLen)
		for _, wr := range []struct {
			name  string
			every time.Duration
		}{{"w0", 0}, {"w1ms", time.Millisecond}, {"w1us", time.Microsecond}} {
			every := wr.every
			name := fmt.Sprintf("load/%s/%s", sizeName(size), wr.name)
			s.Workloads = append(s.Workloads, benchutil.Workload{Name: name, Impls: impls(func(m KV) benchutil.Body {
				return func(worker, n int) {
					var w writeTicker
					w.start(worker, every)
					j := worker * 997
					for i := range n {
						j = (j + 1) % len(idx)
						m.Load(keys[idx[j]])
						if w.due() {
							m.Store(keys[idx[j]], i)
						}
					}
				}
			})})
		}
		s.Workloads = append(s.Workloads, benchutil.Workload{Name: fmt.Sprintf("store/%s", sizeName(size)), Impls: impls(func(m KV) benchutil.Body {
			return func(worker, n int) {
				j := worker * 997
				for i := range n {
					j = (j + 1) % len(idx)
					m.Store(keys[idx[j]], i)
				}
			}
		})})
	}
	return s
}

func sizeName(n int) string {
	switch {
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	case n >= 1024 && n%1024 == 0:
		return fmt.Sprintf("%dk", n/1024)
	}
	return fmt.Sprint(n)
}
