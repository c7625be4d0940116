package baseline

import (
	"sync"
	"sync/atomic"
)

// AtomicValue is the hand-rolled copy-on-write value most code writes: an
// atomic.Pointer to an immutable T, with a CAS loop for updates.
type AtomicValue[T any] struct{ p atomic.Pointer[T] }

// NewAtomicValue returns an AtomicValue holding v.
func NewAtomicValue[T any](v T) *AtomicValue[T] {
	a := new(AtomicValue[T])
	a.p.Store(&v)
	return a
}

// Load returns the current value.
func (a *AtomicValue[T]) Load() T { return *a.p.Load() }

// Store publishes x.
func (a *AtomicValue[T]) Store(x T) { a.p.Store(&x) }

// Update publishes fn(current), retrying fn if another update won the race.
func (a *AtomicValue[T]) Update(fn func(T) T) T {
	for {
		old := a.p.Load()
		x := fn(*old)
		if a.p.CompareAndSwap(old, &x) {
			return x
		}
	}
}

// RWMutexValue is a value under a sync.RWMutex.
type RWMutexValue[T any] struct {
	mu sync.RWMutex
	v  T
}

// NewRWMutexValue returns an RWMutexValue holding v.
func NewRWMutexValue[T any](v T) *RWMutexValue[T] { return &RWMutexValue[T]{v: v} }

// Load returns the current value.
func (r *RWMutexValue[T]) Load() T {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.v
}

// Store sets the value.
func (r *RWMutexValue[T]) Store(x T) {
	r.mu.Lock()
	r.v = x
	r.mu.Unlock()
}

// Update sets the value to fn(current) under the write lock.
func (r *RWMutexValue[T]) Update(fn func(T) T) T {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.v = fn(r.v)
	return r.v
}
