package baseline

import "sync"

// MutexMap is a Go map under one sync.Mutex: the map most code should use.
type MutexMap[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]V
}

// NewMutexMap returns an empty MutexMap.
func NewMutexMap[K comparable, V any]() *MutexMap[K, V] {
	return &MutexMap[K, V]{m: make(map[K]V)}
}

// Load returns k's value and whether k is present.
func (m *MutexMap[K, V]) Load(k K) (V, bool) {
	m.mu.Lock()
	v, ok := m.m[k]
	m.mu.Unlock()
	return v, ok
}

// Store sets k's value.
func (m *MutexMap[K, V]) Store(k K, v V) {
	m.mu.Lock()
	m.m[k] = v
	m.mu.Unlock()
}

// LoadOrStore returns k's value if present, else stores v.
func (m *MutexMap[K, V]) LoadOrStore(k K, v V) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.m[k]; ok {
		return old, true
	}
	m.m[k] = v
	return v, false
}

// Delete deletes k.
func (m *MutexMap[K, V]) Delete(k K) {
	m.mu.Lock()
	delete(m.m, k)
	m.mu.Unlock()
}

// Len returns the number of keys.
func (m *MutexMap[K, V]) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.m)
}

// RWMutexMap is a Go map under one sync.RWMutex: readers share the lock.
type RWMutexMap[K comparable, V any] struct {
	mu sync.RWMutex
	m  map[K]V
}

// NewRWMutexMap returns an empty RWMutexMap.
func NewRWMutexMap[K comparable, V any]() *RWMutexMap[K, V] {
	return &RWMutexMap[K, V]{m: make(map[K]V)}
}

// Load returns k's value and whether k is present.
func (m *RWMutexMap[K, V]) Load(k K) (V, bool) {
	m.mu.RLock()
	v, ok := m.m[k]
	m.mu.RUnlock()
	return v, ok
}

// Store sets k's value.
func (m *RWMutexMap[K, V]) Store(k K, v V) {
	m.mu.Lock()
	m.m[k] = v
	m.mu.Unlock()
}

// LoadOrStore returns k's value if present, else stores v.
func (m *RWMutexMap[K, V]) LoadOrStore(k K, v V) (V, bool) {
	m.mu.RLock()
	old, ok := m.m[k]
	m.mu.RUnlock()
	if ok {
		return old, true
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.m[k]; ok {
		return old, true
	}
	m.m[k] = v
	return v, false
}

// Delete deletes k.
func (m *RWMutexMap[K, V]) Delete(k K) {
	m.mu.Lock()
	delete(m.m, k)
	m.mu.Unlock()
}

// Len returns the number of keys.
func (m *RWMutexMap[K, V]) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.m)
}

// SyncMap is sync.Map with typed methods.
type SyncMap[K comparable, V any] struct{ m sync.Map }

// Load returns k's value and whether k is present.
func (m *SyncMap[K, V]) Load(k K) (V, bool) {
	v, ok := m.m.Load(k)
	if !ok {
		var zero V
		return zero, false
	}
	return v.(V), true
}

// Store sets k's value.
func (m *SyncMap[K, V]) Store(k K, v V) { m.m.Store(k, v) }

// LoadOrStore returns k's value if present, else stores v.
func (m *SyncMap[K, V]) LoadOrStore(k K, v V) (V, bool) {
	a, loaded := m.m.LoadOrStore(k, v)
	return a.(V), loaded
}

// Delete deletes k.
func (m *SyncMap[K, V]) Delete(k K) { m.m.Delete(k) }

// Len counts the keys with Range: O(n), as sync.Map has no Len.
func (m *SyncMap[K, V]) Len() int {
	n := 0
	m.m.Range(func(any, any) bool { n++; return true })
	return n
}
