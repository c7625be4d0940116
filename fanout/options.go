package fanout

import (
	"fmt"
	"runtime"
)

// Option configures one Map, ForEach or Stream call, or a Group. A nil
// Option is ignored, so options can be chosen conditionally.
type Option interface{ apply(*config) }

// config is what the options set, shared by every entry point (Map,
// ForEach, Group, Stream); newConfig fills in the defaults.
type config struct {
	limit   int     // at least 1 after newConfig (default GOMAXPROCS)
	chunk   int     // 0: adaptive
	budget  *Budget // nil: none
	collect bool    // run every item and join every error (CollectErrors)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Limit caps the number of fn calls running at once in one Map or ForEach
// call or one Group (and so the goroutines it starts). The default is GOMAXPROCS,
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
// adaptive chunk size, and skips the serial-or-parallel decision (with a
// Limit above 1, fanout then always fans out). A chunk larger than the
// items is all of them. n must be at least 1.
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
	if b.units == nil {
		panic("fanout: WithBudget(&Budget{}): use NewBudget")
	}
	return optionFunc(func(c *config) { c.budget = b })
}

// CollectErrors makes Map and ForEach run every item even when some fail,
// and return every error, joined with errors.Join in item order (nil if
// none failed); Map then returns the results as well, the zero value for each
// item that failed. Without it, the first error cancels the other items and
// Map returns no results. A panic still cancels the other items and reaches
// the caller, and a cancelled ctx still stops new items (the returned error
// then includes its cause, and items that did not run have zero results).
// It has no meaning for a Group, whose NewGroup panics on it.
func CollectErrors() Option {
	return optionFunc(func(c *config) { c.collect = true })
}

func newConfig(opts []Option) config {
	var c config
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if c.limit == 0 {
		c.limit = runtime.GOMAXPROCS(0)
	}
	return c
}
