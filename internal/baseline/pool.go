package baseline

import "sync"

// MakeBytes "pools" by allocating every buffer: the baseline a pool must
// beat to be worth having.
type MakeBytes struct{}

// Get returns a new zeroed slice of length n.
func (MakeBytes) Get(n int) []byte { return make([]byte, n) }

// Put drops buf for the garbage collector.
func (MakeBytes) Put([]byte) {}

// SyncPoolBytes is the usual sync.Pool of *[]byte for buffers of one size:
// pointers, because putting a []byte into sync.Pool boxes it (an allocation
// per Put, staticcheck SA6002). Nothing bounds what it keeps until the next
// two garbage collections.
type SyncPoolBytes struct {
	size int
	p    sync.Pool
}

// NewSyncPoolBytes returns a SyncPoolBytes for buffers of capacity size.
func NewSyncPoolBytes(size int) *SyncPoolBytes { return &SyncPoolBytes{size: size} }

// GetPtr returns a pooled or new buffer of length n (n <= size).
func (s *SyncPoolBytes) GetPtr(n int) *[]byte {
	if p, ok := s.p.Get().(*[]byte); ok {
		*p = (*p)[:n]
		return p
	}
	b := make([]byte, n, s.size)
	return &b
}

// PutPtr returns a buffer from GetPtr.
func (s *SyncPoolBytes) PutPtr(p *[]byte) { s.p.Put(p) }

// Get returns a buffer of length n, as GetPtr, for code written against
// []byte; sizes above the pool's come from make.
func (s *SyncPoolBytes) Get(n int) []byte {
	if n > s.size {
		return make([]byte, n)
	}
	return *s.GetPtr(n)
}

// Put keeps buf if it has the pool's capacity. It allocates the pointer
// holder each time, which is why benchmarks use PutPtr.
func (s *SyncPoolBytes) Put(buf []byte) {
	if cap(buf) == s.size {
		s.PutPtr(&buf)
	}
}
