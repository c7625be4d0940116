package pool

import (
	"fmt"
	"math/bits"
)

// Option configures a Pool.
type Option interface{ apply(*poolConfig) }

// poolConfig holds a Pool's options. The functions of the generic options
// are stored as any, because the contract fixes New's signature with a
// non-generic Option: a Reset, Keep, Cost or OnDrop for another type than
// the pool's can therefore not be a compile error, and New checks each
// against T instead, panicking with a "pool:" message at construction.
type poolConfig struct {
	maxIdle int
	maxCost int64 // from MaxCost; 0: no bound on cost
	reset   any   // func(T), from Reset
	keep    any   // func(T) bool, from Keep
	cost    any   // func(T) int64, from Cost
	onDrop  any   // func(T), from OnDrop
}

type optionFunc func(*poolConfig)

func (f optionFunc) apply(c *poolConfig) { f(c) }

// MaxIdle bounds the number of idle objects a Pool keeps (default 1024);
// Puts beyond it drop the object for the garbage collector. n must be at
// least 1.
func MaxIdle(n int) Option {
	if n < 1 {
		panic(fmt.Sprintf("pool: MaxIdle(%d): must be at least 1", n))
	}
	return optionFunc(func(c *poolConfig) { c.maxIdle = n })
}

// Reset makes Put call fn on each object before keeping it (truncate a
// buffer, zero a struct), so Get never returns stale state. T must be the
// pool's element type; New panics otherwise.
func Reset[T any](fn func(T)) Option {
	if fn == nil {
		panic("pool: Reset(nil)")
	}
	return optionFunc(func(c *poolConfig) { c.reset = fn })
}

// Keep makes Put ask fn whether to keep each object; false drops it (a
// buffer that grew too large, a connection that failed). Keep runs before
// Reset. T must be the pool's element type; New panics otherwise.
func Keep[T any](fn func(T) bool) Option {
	if fn == nil {
		panic("pool: Keep(nil)")
	}
	return optionFunc(func(c *poolConfig) { c.keep = fn })
}

// Cost tells the pool what an idle object costs (its bytes, say, or a
// connection's buffers), so that [MaxCost] can bound the sum of what the
// pool keeps: a pool of buffers that grew to different sizes keeps a bounded
// amount of memory, not just a bounded number of objects. Cost is asked once
// per Put, after Keep and Reset; an object costing more than the room left,
// or a negative amount, is dropped. Cost needs MaxCost, and T must be the
// pool's element type: New panics otherwise.
func Cost[T any](fn func(T) int64) Option {
	if fn == nil {
		panic("pool: Cost(nil)")
	}
	return optionFunc(func(c *poolConfig) { c.cost = fn })
}

// MaxCost bounds the total [Cost] of the idle objects a Pool keeps, as
// MaxRetained does for Bytes; Puts beyond it drop the object. It applies
// together with MaxIdle. total must be positive, and Cost must be set.
func MaxCost(total int64) Option {
	if total < 1 {
		panic(fmt.Sprintf("pool: MaxCost(%d): must be positive", total))
	}
	return optionFunc(func(c *poolConfig) { c.maxCost = total })
}

// OnDrop makes the pool call fn on every object it drops instead of
// keeping (refused by Keep, or over MaxIdle or MaxCost), so objects that
// hold resources (connections, files) are closed rather than leaked to the
// garbage collector. fn runs on the goroutine that called Put, after the
// pool has let go of the object and outside its locks. T must be the pool's
// element type: New panics otherwise.
func OnDrop[T any](fn func(T)) Option {
	if fn == nil {
		panic("pool: OnDrop(nil)")
	}
	return optionFunc(func(c *poolConfig) { c.onDrop = fn })
}

// BytesOption configures a Bytes pool.
type BytesOption interface{ apply(*bytesConfig) }

type bytesConfig struct {
	maxRetained int64
	minSize     int
	maxSize     int
}

type bytesOptionFunc func(*bytesConfig)

func (f bytesOptionFunc) apply(c *bytesConfig) { f(c) }

// MaxRetained bounds the bytes (capacity) of the buffers a Bytes pool keeps
// alive, across garbage collections; Puts beyond it drop the buffer. The
// default is 32 MiB. bytes must be positive.
func MaxRetained(bytes int64) BytesOption {
	if bytes < 1 {
		panic(fmt.Sprintf("pool: MaxRetained(%d): must be positive", bytes))
	}
	return bytesOptionFunc(func(c *bytesConfig) { c.maxRetained = bytes })
}

// SizeRange sets the smallest and largest size class, powers of two
// (default 64 bytes and 4 MiB). Get(n) for n above max allocates exactly n
// and Put drops such buffers: pooling rare huge buffers is how pools pin
// memory (golang/go#23199).
func SizeRange(min, max int) BytesOption {
	if min < 1 || max < min || bits.OnesCount(uint(min)) != 1 || bits.OnesCount(uint(max)) != 1 || max > 1<<30 {
		panic(fmt.Sprintf("pool: SizeRange(%d, %d): want powers of two with 1 <= min <= max <= 1 GiB", min, max))
	}
	return bytesOptionFunc(func(c *bytesConfig) { c.minSize, c.maxSize = min, max })
}
