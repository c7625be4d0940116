package baseline

import (
	"sync"
	"sync/atomic"
)

// AtomicCounter is the counter most code should use: one atomic.Int64.
type AtomicCounter struct{ n atomic.Int64 }

// Add adds delta.
func (c *AtomicCounter) Add(delta int64) { c.n.Add(delta) }

// Load returns the current value.
func (c *AtomicCounter) Load() int64 { return c.n.Load() }

// MutexCounter is an int64 under a sync.Mutex.
type MutexCounter struct {
	mu sync.Mutex
	n  int64
}

// Add adds delta.
func (c *MutexCounter) Add(delta int64) {
	c.mu.Lock()
	c.n += delta
	c.mu.Unlock()
}

// Load returns the current value.
func (c *MutexCounter) Load() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
