package pool

import (
	"fmt"
	"math/bits"
)

// Option configures a Pool.
type Option interface{ apply(*poolConfig) }

type poolConfig struct {
	maxIdle int
	reset   any // func(T), from Reset; checked against T in New
	keep    any // func(T) bool, from Keep
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
