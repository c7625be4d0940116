package cow

import (
	"context"
	"iter"
	"maps"
	"sync"
	"sync/atomic"
)

// Map is a read-mostly map: Load reads an immutable Go map through one
// atomic pointer, with no lock and no write to shared memory, so readers on
// every CPU proceed in parallel. Store, Delete and Apply copy the whole map,
// edit the copy and publish it; Apply batches many edits into one copy.
//
// Where it wins and where it loses (BenchmarkCowMap, against a map under a
// sync.RWMutex and sync.Map):
//
//   - With no writer, or rare writes, Load costs a small fraction of the
//     RWMutex map's at every size once several goroutines read, and less
//     than sync.Map's reads.
//   - With a writer once a millisecond, small and config-sized maps still
//     win by a wide margin; at a hundred thousand keys every write copies
//     them all, and reads lose to the lock.
//   - Writing once a microsecond, copying pays only for a handful of keys.
//   - Store itself costs a full copy of the map and allocates it each time:
//     far more than a locked write, growing with the size.
//
// So the breakeven is write rate x size: for config-sized maps (hundreds of
// entries, changed a few times a second) cow.Map wins; once thousands of
// entries are copied every millisecond, use a lock.
//
// Changes can be awaited without polling, as on a [Value]: [Map.Changed]
// returns a channel closed by the next publish, and [Map.Watch] yields a
// snapshot after each one.
//
// The zero value is ready to use and empty. A Map is safe for concurrent
// use and must not be copied after first use.
type Map[K comparable, V any] struct {
	_   noCopy
	cur atomic.Pointer[mapVersion[K, V]] // never mutated once published
	mu  sync.Mutex                       // serializes writers

	copies atomic.Uint64
}

// mapVersion is one published map with the channel its successor closes.
type mapVersion[K comparable, V any] struct {
	m       map[K]V
	changed chan struct{} // closed when the next version is published
}

// NewMap returns a Map holding a copy of init (which may be nil); later
// changes to init do not show through.
func NewMap[K comparable, V any](init map[K]V) *Map[K, V] {
	m := new(Map[K, V])
	c := maps.Clone(init)
	if c == nil {
		c = map[K]V{}
	}
	m.cur.Store(&mapVersion[K, V]{m: c, changed: make(chan struct{})})
	return m
}

// load returns the current map; nil (empty) for a zero Map never written.
func (m *Map[K, V]) load() map[K]V {
	if c := m.cur.Load(); c != nil {
		return c.m
	}
	return nil
}

// current returns the current version, first installing an empty one in a
// zero Map.
func (m *Map[K, V]) current() *mapVersion[K, V] {
	if c := m.cur.Load(); c != nil {
		return c
	}
	m.cur.CompareAndSwap(nil, &mapVersion[K, V]{m: map[K]V{}, changed: make(chan struct{})})
	return m.cur.Load()
}

// Load returns k's value and whether k is present. It never blocks and does
// not allocate.
func (m *Map[K, V]) Load(k K) (V, bool) {
	v, ok := m.load()[k]
	return v, ok
}

// Store sets k's value, copying the map: O(Len) time and memory.
func (m *Map[K, V]) Store(k K, v V) {
	m.Apply(func(c map[K]V) { c[k] = v })
}

// Delete deletes k, copying the map (O(Len)) if k is present.
func (m *Map[K, V]) Delete(k K) {
	if _, ok := m.Load(k); !ok {
		return // nothing to copy for; a racing Store wins either way
	}
	m.Apply(func(c map[K]V) { delete(c, k) })
}

// Apply copies the map once, lets fn edit the private copy (set, delete,
// clear, any number of keys), and publishes the result in one step: readers
// see all of fn's edits or none. fn must not keep c, and must not call the
// Map's write methods, which would deadlock.
func (m *Map[K, V]) Apply(fn func(c map[K]V)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := maps.Clone(m.current().m)
	fn(c)
	m.copies.Add(1)
	m.publishLocked(c)
}

// publishLocked makes c the current map and wakes Changed's waiters.
func (m *Map[K, V]) publishLocked(c map[K]V) {
	old := m.current()
	m.cur.Store(&mapVersion[K, V]{m: c, changed: make(chan struct{})})
	// Close after the store: a waiter woken by the close always finds the
	// new version (or a later one) in cur.
	close(old.changed)
}

// Len returns the number of keys in the current version.
func (m *Map[K, V]) Len() int { return len(m.load()) }

// All returns an iterator over one version of the map: a consistent
// snapshot, unaffected by writes made during the loop.
func (m *Map[K, V]) All() iter.Seq2[K, V] { return m.Snapshot().All() }

// Snapshot returns a read-only view of the current version. It costs
// nothing (no copy) and stays valid and unchanged however the Map changes
// afterwards.
func (m *Map[K, V]) Snapshot() Snapshot[K, V] { return Snapshot[K, V]{m: m.load()} }

// Reset replaces the whole map with a copy of next in one step, for epoch
// rotation of caches: readers move from the old version to the new one
// without ever blocking, and the old version is returned as a Snapshot (to
// drain, count or discard).
func (m *Map[K, V]) Reset(next map[K]V) (old Snapshot[K, V]) {
	c := maps.Clone(next)
	if c == nil {
		c = map[K]V{}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old = Snapshot[K, V]{m: m.current().m}
	m.publishLocked(c)
	return old
}

// Changed returns a channel that is closed when a version newer than the
// current one is published (by Store, a Delete that deleted, Apply or
// Reset), to use in a select beside other events. A writer never blocks
// on a slow reader: closing tells every waiter at once.
func (m *Map[K, V]) Changed() <-chan struct{} { return m.current().changed }

// Watch returns an iterator over the map's versions: it yields a snapshot
// of the current version at once, then of the latest version after each
// publish, until ctx is done or the loop stops. Publishes made while the
// loop body runs are coalesced into one yield of the newest version, so a
// slow watcher never delays writers and always ends up with the final
// version. Watch starts no goroutine; it blocks the ranging goroutine
// between versions.
func (m *Map[K, V]) Watch(ctx context.Context) iter.Seq[Snapshot[K, V]] {
	return func(yield func(Snapshot[K, V]) bool) {
		for {
			cur := m.current()
			if ctx.Err() != nil || !yield(Snapshot[K, V]{m: cur.m}) {
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

// MapStats is a snapshot of a Map's size and write history.
type MapStats struct {
	Len    int    // keys in the current version
	Copies uint64 // whole-map copies made by Store, Delete and Apply
}

// Stats returns a snapshot of the Map's counters.
func (m *Map[K, V]) Stats() MapStats {
	return MapStats{Len: m.Len(), Copies: m.copies.Load()}
}

// Snapshot is a read-only view of one version of a Map. The zero Snapshot
// is empty.
type Snapshot[K comparable, V any] struct{ m map[K]V }

// Load returns k's value in this version.
func (s Snapshot[K, V]) Load(k K) (V, bool) {
	v, ok := s.m[k]
	return v, ok
}

// Len returns the number of keys in this version.
func (s Snapshot[K, V]) Len() int { return len(s.m) }

// All returns an iterator over this version's keys and values.
func (s Snapshot[K, V]) All() iter.Seq2[K, V] { return maps.All(s.m) }
