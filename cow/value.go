package cow

import (
	"context"
	"fmt"
	"iter"
	"reflect"
	"sync"
	"sync/atomic"
)

// Value holds a value of type T that many goroutines read and few write.
//
// Load is one atomic pointer load plus a copy of T (so make T a pointer or a
// small struct). It costs the same as a bare atomic.Pointer load, alone and
// on many cores, and far less than a value under a sync.RWMutex once
// several goroutines read, as the RWMutex's reader count bounces between
// cores (BenchmarkCowValue). Under frequent publishes it costs somewhat more
// than the bare pointer: each publish also closes the channel behind
// Changed.
//
// Store, Swap, CompareAndSwap, Update and TryUpdate allocate a new version
// and are serialized by a mutex, so Update's fn runs exactly once per call
// and never loses a concurrent update. T should be treated as immutable once stored: if it
// holds maps, slices or pointers, build new ones in Update instead of
// mutating what Load returned, or readers will see the mutation.
//
// Changes can be awaited without polling: [Value.Changed] returns a channel
// closed by the next publish, and [Value.Watch] yields each new value.
//
// The zero value is ready to use and holds the zero T, as if made by
// NewValue with it. A Value is safe for concurrent use and must not be
// copied after first use.
type Value[T any] struct {
	_   noCopy
	cur atomic.Pointer[version[T]]
	mu  sync.Mutex // serializes writers

	rejected atomic.Uint64
}

// version is one published value. It is immutable once published, so a
// reader holding it sees the value, its number and its channel consistently.
type version[T any] struct {
	val     T
	n       uint64
	changed chan struct{} // closed when the next version is published
}

// NewValue returns a Value holding v.
func NewValue[T any](v T) *Value[T] {
	x := new(Value[T])
	x.cur.Store(&version[T]{val: v, n: 1, changed: make(chan struct{})})
	return x
}

// Load returns the current value. It never blocks and does not allocate.
func (v *Value[T]) Load() T {
	if c := v.cur.Load(); c != nil {
		return c.val
	}
	var zero T // a zero Value never written to
	return zero
}

// current returns the current version, first installing version 1 with the
// zero T in a zero Value.
func (v *Value[T]) current() *version[T] {
	if c := v.cur.Load(); c != nil {
		return c
	}
	v.cur.CompareAndSwap(nil, &version[T]{n: 1, changed: make(chan struct{})})
	return v.cur.Load()
}

// Store publishes x.
func (v *Value[T]) Store(x T) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.publishLocked(x)
}

// Swap publishes x and returns the value it replaced.
func (v *Value[T]) Swap(x T) (old T) {
	v.mu.Lock()
	defer v.mu.Unlock()
	old = v.current().val
	v.publishLocked(x)
	return old
}

// CompareAndSwap publishes new if the current value equals old (by ==, as
// sync.Map's CompareAndSwap) and reports whether it did. It lets a writer
// that read a value publish a change made from it only if no other write
// came in between, without holding anything while it computes. T must be
// comparable: CompareAndSwap panics, with a "cow:" message, on a T whose
// values cannot be compared with == (a struct holding a map or slice), and
// the run-time panic of == if T is an interface holding such a value.
func (v *Value[T]) CompareAndSwap(old, new T) (swapped bool) {
	if !reflect.TypeFor[T]().Comparable() {
		panic(fmt.Sprintf("cow: Value[%v].CompareAndSwap: type not comparable", reflect.TypeFor[T]()))
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if any(v.current().val) != any(old) {
		return false
	}
	v.publishLocked(new)
	return true
}

// Update publishes fn(current) and returns it. Writers are serialized, so fn
// sees the latest value and runs exactly once; keep it short, as other
// writers wait for it (readers do not). fn must not call Store, Swap or
// Update on the same Value, which would deadlock.
func (v *Value[T]) Update(fn func(old T) T) T {
	v.mu.Lock()
	defer v.mu.Unlock()
	x := fn(v.current().val)
	v.publishLocked(x)
	return x
}

// TryUpdate is Update for changes that can be refused, such as a config
// reload that fails validation: if fn returns an error, nothing is
// published, the last good value stays, and TryUpdate returns the current
// value with fn's error (counted in Stats().Rejected).
func (v *Value[T]) TryUpdate(fn func(old T) (T, error)) (T, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	cur := v.current().val
	x, err := fn(cur)
	if err != nil {
		v.rejected.Add(1)
		return cur, err
	}
	v.publishLocked(x)
	return x, nil
}

func (v *Value[T]) publishLocked(x T) {
	old := v.current()
	v.cur.Store(&version[T]{val: x, n: old.n + 1, changed: make(chan struct{})})
	// Close after the store: a reader woken by the close always finds the
	// new version (or a later one) in cur.
	close(old.changed)
}

// Version returns the number of the current value: 1 for the value given
// to NewValue, then one more per publish.
// A zero Value never written to is at version 1 too.
func (v *Value[T]) Version() uint64 {
	if c := v.cur.Load(); c != nil {
		return c.n
	}
	return 1
}

// Changed returns a channel that is closed when a value newer than the
// current one is published, to use in a select beside other events.
// Closing is how every waiter is told at once, so a writer never blocks on
// a slow reader.
func (v *Value[T]) Changed() <-chan struct{} { return v.current().changed }

// Watch returns an iterator over the value: it yields the current value at
// once, then the latest value after each publish, until ctx is done or the
// loop stops. A burst of publishes while the loop body runs is coalesced
// into one yield of the newest value, so a slow watcher never delays
// writers and always ends up with the final value. Watch starts no
// goroutine; it blocks the ranging goroutine between values.
func (v *Value[T]) Watch(ctx context.Context) iter.Seq[T] {
	return func(yield func(T) bool) {
		for {
			cur := v.current()
			if ctx.Err() != nil || !yield(cur.val) {
				return
			}
			select {
			case <-cur.changed:
			case <-ctx.Done():
				return
			}
		}
	}
}

// ValueStats is a snapshot of a Value's history.
type ValueStats struct {
	Version  uint64 // as Version returns
	Rejected uint64 // TryUpdate calls whose fn returned an error
}

// Stats returns a snapshot of the Value's counters.
func (v *Value[T]) Stats() ValueStats {
	return ValueStats{Version: v.Version(), Rejected: v.rejected.Load()}
}

// noCopy makes go vet's copylocks check flag copies (see sync.noCopy).
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
