package fanout

import (
	"fmt"
	"runtime"
)

// Option configures one Map or ForEach call.
type Option interface{ apply(*config) }

type config struct {
	limit  int     // 0: GOMAXPROCS
	chunk  int     // 0: adaptive
	budget *Budget // nil: none
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Limit caps the number of fn calls running at once in one Map or ForEach
// call (and so the worker goroutines it starts). The default is GOMAXPROCS,
// right for CPU-bound fn; I/O-bound fn usually wants more (Limit(100) for
// calls to a service that can take 100 in flight from this caller). n must
// be at least 1.
func Limit(n int) Option {
	if n < 1 {
		panic(fmt.Sprintf("fanout: Limit(%d): must be at least 1", n))
	}
	return optionFunc(func(c *config) { c.limit = n })
}

// Chunk makes each worker take n consecutive items at a time instead of the
// adaptive chunk size, and skips the serial-or-parallel decision (fanout
// then always fans out). n must be at least 1.
func Chunk(n int) Option {
	if n < 1 {
		panic(fmt.Sprintf("fanout: Chunk(%d): must be at least 1", n))
	}
	return optionFunc(func(c *config) { c.chunk = n })
}

// WithBudget makes the call draw its concurrency from b, a limit shared with
// every other call that names b, so fan-out across all requests of a
// service stays under one cap. Each running fn call holds one unit of b.
func WithBudget(b *Budget) Option {
	if b == nil {
		panic("fanout: WithBudget(nil)")
	}
	return optionFunc(func(c *config) { c.budget = b })
}

func newConfig(opts []Option) config {
	var c config
	for _, o := range opts {
		o.apply(&c)
	}
	if c.limit == 0 {
		c.limit = runtime.GOMAXPROCS(0)
	}
	return c
}
