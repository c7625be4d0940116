package baseline

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// MutexGCRA is the simplest correct rate limiter: GCRA on integer
// nanoseconds under a mutex, with the clock read under the lock so
// admission times can never go backwards.
type MutexGCRA struct {
	mu       sync.Mutex
	epoch    time.Time
	interval int64 // ns per event
	tau      int64 // interval * burst
	tat      int64
}

// NewMutexGCRA returns a limiter of r events per second (0 < r <= 1e9) with
// bursts of burst, starting full.
func NewMutexGCRA(r rate.Limit, burst int) *MutexGCRA {
	interval := int64(1e9 / float64(r))
	return &MutexGCRA{epoch: time.Now(), interval: interval, tau: interval * int64(burst)}
}

// AllowN reports whether n events may happen now, and counts them if so.
func (m *MutexGCRA) AllowN(n int) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := int64(time.Since(m.epoch))
	next := max(m.tat, now) + m.interval*int64(n)
	if next-m.tau > now {
		return false
	}
	m.tat = next
	return true
}

// Allow is AllowN(1).
func (m *MutexGCRA) Allow() bool { return m.AllowN(1) }
