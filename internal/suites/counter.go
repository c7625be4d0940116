package suites

import (
	"github.com/breakeven-go/breakeven/internal/baseline"
	"github.com/breakeven-go/breakeven/internal/benchutil"
	"github.com/breakeven-go/breakeven/shard"
)

// Counter compares shard.Counter with atomic.Int64 (the baseline) and a
// mutex-guarded int64 on two workloads: "add", every op an Add (shard's
// regime), and "load10", every tenth op an Add and the rest Load (the
// atomic's regime).
//
// The loops call each type's methods directly rather than through an
// interface: at a few ns per op, a dynamic call would be a visible share of
// the cost and flatter every ratio.
func Counter() benchutil.Suite {
	return benchutil.Suite{
		Name:         "Counter",
		Primitive:    "shard.Counter",
		Impl:         "shard",
		Baseline:     "atomic",
		BaselineDesc: "atomic.Int64",
		Workloads: []benchutil.Workload{
			{Name: "add", Impls: []benchutil.Impl{
				{Name: "atomic", Setup: func() benchutil.Body {
					c := new(baseline.AtomicCounter)
					return func(_, n int) {
						for range n {
							c.Add(1)
						}
					}
				}},
				{Name: "mutex", Setup: func() benchutil.Body {
					c := new(baseline.MutexCounter)
					return func(_, n int) {
						for range n {
							c.Add(1)
						}
					}
				}},
				{Name: "shard", Setup: func() benchutil.Body {
					c := shard.NewCounter()
					return func(_, n int) {
						for range n {
							c.Add(1)
						}
					}
				}},
			}},
			{Name: "load10", Impls: []benchutil.Impl{
				{Name: "atomic", Setup: func() benchutil.Body {
					c := new(baseline.AtomicCounter)
					return func(_, n int) { load10(n, c.Add, c.Load) }
				}},
				{Name: "mutex", Setup: func() benchutil.Body {
					c := new(baseline.MutexCounter)
					return func(_, n int) { load10(n, c.Add, c.Load) }
				}},
				{Name: "shard", Setup: func() benchutil.Body {
					c := shard.NewCounter()
					return func(_, n int) { load10(n, c.Add, c.Load) }
				}},
			}},
		},
	}
}

// load10 runs n ops, one Add for every nine Loads. The method values cost an
// indirect call each, for every implementation alike; "add" is the workload
// that measures Add at its leanest.
func load10(n int, add func(int64), load func() int64) {
	var sink int64
	for i := range n {
		if i%10 == 0 {
			add(1)
		} else {
			sink += load()
		}
	}
	_ = sink
}
