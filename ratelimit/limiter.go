package ratelimit

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/breakeven-go/breakeven/shard"
)

// Limiter admits events at rate r with bursts of up to burst, exactly: in
// any interval of length T it admits at most r*T + burst events, whatever
// the number of goroutines calling it.
//
// It implements GCRA (the generic cell rate algorithm: the token bucket
// expressed as one "theoretical arrival time", tat) on integer nanoseconds.
// The clock is read after tat is loaded; a refusal needs nothing more, and
// an admission takes a mutex and stores the new tat only if tat is still
// what was loaded (else it reads the clock again under the lock). So no
// admission ever uses a clock reading older than the previous admission:
// admission times are monotonic, which keeps the bound exact (x/time/rate
// reads the clock before its lock and can admit against a stale "now").
// An earlier version admitted with a compare-and-swap loop instead of the
// mutex; it cost 1.12x x/time/rate at 2 procs (96.8 against 86.3 ns in one
// run), against 0.74x for this one: failed CASes re-read the clock while
// the mutex lets one core run.
//
// Measured with this repository's suite (BenchmarkRateLimit, 2-core
// x86-64 VM, -count 6, benchstat) against x/time/rate: Allow costs 0.56x
// alone and 0.74x at 2 procs when it admits; when it refuses (the overload
// case) 0.36x alone and 0.17x at 2 procs, as a refusal writes nothing. The
// plain mutex GCRA it is tested against is cheaper still on admissions at 2
// procs (0.64x of this Limiter): the lock-free refusal and the Stats
// counters are what it pays for.
//
// A Limiter is safe for concurrent use; build one with [New].
type Limiter struct {
	params atomic.Pointer[params]
	mu     sync.Mutex   // serializes admissions (writes of tat); refusals take no lock
	tat    atomic.Int64 // ns since epoch when the bucket is full again; see params for r == 0
	epoch  time.Time    // monotonic origin of tat

	allowed, denied, waited shard.Counter
}

// params is the configuration, swapped as a whole by SetLimit and SetBurst.
type params struct {
	limit    rate.Limit
	burst    int
	interval int64 // ns per event; 0 means rate.Inf, -1 means rate 0 (no refill)
	tau      int64 // interval * burst: how far tat may run ahead of now
}

func newParams(r rate.Limit, burst int, fn string) *params {
	switch {
	case burst < 0:
		panic(fmt.Sprintf("ratelimit: %s(%v, %d): negative burst", fn, r, burst))
	case math.IsNaN(float64(r)) || r < 0:
		panic(fmt.Sprintf("ratelimit: %s(%v, %d): rate must be >= 0 (or rate.Inf)", fn, r, burst))
	case r == rate.Inf:
		return &params{limit: r, burst: burst}
	case r == 0:
		return &params{limit: r, burst: burst, interval: -1}
	case r > 1e9:
		panic(fmt.Sprintf("ratelimit: %s(%v, %d): rates above 1e9/s are below the nanosecond resolution; use rate.Inf", fn, r, burst))
	}
	interval := int64(math.Round(1e9 / float64(r)))
	if interval > math.MaxInt64/int64(max(burst, 1))/4 {
		panic(fmt.Sprintf("ratelimit: %s(%v, %d): interval x burst overflows; use a larger rate or smaller burst", fn, r, burst))
	}
	return &params{limit: r, burst: burst, interval: interval, tau: interval * int64(burst)}
}

// New returns a Limiter that admits r events per second with bursts of up
// to burst, starting full (burst events at once), as rate.NewLimiter does.
// r may be rate.Inf (no limit) or 0 (the first burst events, then none).
// A negative r or burst, or an r above 1e9/s other than rate.Inf, panics.
func New(r rate.Limit, burst int) *Limiter {
	l := &Limiter{epoch: time.Now()}
	l.params.Store(newParams(r, burst, "New"))
	return l
}

func (l *Limiter) now() int64 { return int64(time.Since(l.epoch)) }

// Allow reports whether one event may happen now, and counts it if so.
func (l *Limiter) Allow() bool { return l.AllowN(1) }

// AllowN reports whether n events may happen now, and counts them if so.
// It does not allocate.
func (l *Limiter) AllowN(n int) bool {
	ok, _, _ := l.reserve(n, 0)
	if ok {
		l.allowed.Add(int64(n))
	} else {
		l.denied.Add(int64(n))
	}
	return ok
}

// reserve takes n events if they fit within maxWait from now, returning
// how long the caller must wait for them (0 to admit at once) and the tat
// it set, for giveBack.
func (l *Limiter) reserve(n int, maxWait time.Duration) (ok bool, wait time.Duration, next int64) {
	p := l.params.Load()
	switch {
	case n <= 0:
		return n == 0, 0, 0
	case p.interval == 0: // rate.Inf
		return true, 0, 0
	case n > p.burst:
		return false, 0, 0
	case p.interval < 0: // rate 0: tat counts the events of the one burst
		for {
			used := l.tat.Load()
			if used+int64(n) > int64(p.burst) {
				return false, 0, 0
			}
			if l.tat.CompareAndSwap(used, used+int64(n)) {
				return true, 0, 0
			}
		}
	}
	cost := p.interval * int64(n)
	tat := l.tat.Load()
	now := l.now() // after the load: see the type comment
	next = max(tat, now) + cost
	w := next - p.tau - now // > 0: not enough tokens yet
	if w > int64(maxWait) {
		// Refusing needs no lock: tat only grows between admissions, so
		// a newer tat would refuse too.
		return false, 0, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if cur := l.tat.Load(); cur != tat {
		// Another admission came in between: decide again on a fresh
		// clock read, made under the lock after that admission.
		tat, now = cur, l.now()
		next = max(tat, now) + cost
		if w = next - p.tau - now; w > int64(maxWait) {
			return false, 0, 0
		}
	}
	l.tat.Store(next)
	return true, time.Duration(max(w, 0)), next
}

// Wait blocks until one event may happen, then counts it. See WaitN.
func (l *Limiter) Wait(ctx context.Context) error { return l.WaitN(ctx, 1) }

// WaitN blocks until n events may happen, then counts them. It returns an
// error at once, without waiting or counting, if n exceeds the burst or if
// ctx's deadline comes before the events could happen; that error matches
// context.DeadlineExceeded with errors.Is. If ctx is done while waiting,
// WaitN returns ctx's error and gives the reserved events back, unless
// later reservations were made meanwhile (then they are lost, which errs on
// the side of admitting fewer).
func (l *Limiter) WaitN(ctx context.Context, n int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p := l.params.Load()
	if n > p.burst && p.interval != 0 {
		return fmt.Errorf("ratelimit: WaitN(%d) exceeds the burst of %d", n, p.burst)
	}
	maxWait := time.Duration(math.MaxInt64)
	if dl, ok := ctx.Deadline(); ok {
		maxWait = time.Until(dl)
	}
	ok, wait, next := l.reserve(n, maxWait)
	if !ok {
		if p.interval < 0 {
			return fmt.Errorf("ratelimit: WaitN(%d): rate 0 and the burst is spent", n)
		}
		return fmt.Errorf("ratelimit: WaitN(%d) would have to wait past the context deadline: %w", n, context.DeadlineExceeded)
	}
	if wait == 0 {
		l.allowed.Add(int64(n))
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		l.allowed.Add(int64(n))
		l.waited.Add(int64(n))
		return nil
	case <-ctx.Done():
		l.giveBack(p, n, next)
		return ctx.Err()
	}
}

// giveBack returns n reserved events if no reservation followed theirs
// (tat is still what they set); else they are lost, which errs on the side
// of admitting fewer.
func (l *Limiter) giveBack(p *params, n int, next int64) {
	if p.interval <= 0 {
		return
	}
	l.mu.Lock()
	if l.tat.Load() == next {
		l.tat.Store(next - p.interval*int64(n))
	}
	l.mu.Unlock()
}

// Reservation is a claim on events at a future time, as x/time/rate's
// Reservation: the caller waits Delay itself (or gives up with Cancel).
type Reservation struct {
	l    *Limiter
	p    *params
	ok   bool
	n    int
	next int64
	at   time.Time
}

// Reserve reserves one event; see ReserveN.
func (l *Limiter) Reserve() *Reservation { return l.ReserveN(1) }

// ReserveN reserves n events and says when they may happen; it never
// refuses for lack of tokens, only when n exceeds the burst (OK is then
// false). The events count as admitted now.
func (l *Limiter) ReserveN(n int) *Reservation {
	ok, wait, next := l.reserve(n, time.Duration(math.MaxInt64))
	r := &Reservation{l: l, p: l.params.Load(), ok: ok, n: n, next: next}
	if ok {
		r.at = time.Now().Add(wait)
		l.allowed.Add(int64(n))
		if wait > 0 {
			l.waited.Add(int64(n))
		}
	}
	return r
}

// OK reports whether the reservation holds (false if n exceeded the burst).
func (r *Reservation) OK() bool { return r.ok }

// Delay returns how long to wait before the reserved events may happen: 0
// if now, and rate.InfDuration if the reservation is not OK.
func (r *Reservation) Delay() time.Duration {
	if !r.ok {
		return rate.InfDuration
	}
	return max(0, time.Until(r.at))
}

// Cancel gives the reserved events back, if no later reservation was made
// meanwhile, so events that will not happen do not count against the limit.
func (r *Reservation) Cancel() {
	if r.ok && time.Now().Before(r.at) {
		r.l.giveBack(r.p, r.n, r.next)
		r.ok = false
	}
}

// SetLimit changes the rate from now on, keeping the number of tokens the
// bucket owes (as x/time/rate keeps its tokens). It panics on the values New
// rejects. The window bound is exact for a fixed rate; calls that race with
// SetLimit see either the old rate or the new one.
func (l *Limiter) SetLimit(r rate.Limit) {
	for {
		old := l.params.Load()
		if l.params.CompareAndSwap(old, newParams(r, old.burst, "SetLimit")) {
			l.switched(old)
			return
		}
	}
}

// SetBurst changes the burst from now on. It panics if burst is negative.
func (l *Limiter) SetBurst(burst int) {
	for {
		old := l.params.Load()
		if l.params.CompareAndSwap(old, newParams(old.limit, burst, "SetBurst")) {
			l.switched(old)
			return
		}
	}
}

// switched carries tat over to new params: the debt (how far tat runs
// ahead of now, in events) stays the same when the interval changes, and
// tat restarts when its meaning changes (to or from rate 0, where it counts
// events instead of holding a time).
func (l *Limiter) switched(old *params) {
	p := l.params.Load()
	switch {
	case (old.interval < 0) != (p.interval < 0):
		l.tat.Store(0)
	case old.interval > 0 && p.interval > 0 && old.interval != p.interval:
		l.mu.Lock()
		defer l.mu.Unlock()
		if tat, now := l.tat.Load(), l.now(); tat > now {
			debt := float64(tat-now) / float64(old.interval)
			l.tat.Store(now + int64(debt*float64(p.interval)))
		}
	}
}

// Limit returns the current rate.
func (l *Limiter) Limit() rate.Limit { return l.params.Load().limit }

// Burst returns the current burst.
func (l *Limiter) Burst() int { return l.params.Load().burst }

// Tokens returns how many events could be admitted at once now.
func (l *Limiter) Tokens() int {
	p := l.params.Load()
	switch {
	case p.interval == 0:
		return p.burst
	case p.interval < 0:
		return max(0, p.burst-int(l.tat.Load()))
	}
	ahead := max(l.tat.Load()-l.now(), 0)
	return int((p.tau - ahead) / p.interval)
}

// LimiterStats is a snapshot of a Limiter.
type LimiterStats struct {
	Limit   rate.Limit
	Burst   int
	Tokens  int    // events that could be admitted at once now
	Allowed uint64 // events admitted (by Allow, AllowN, Wait, WaitN)
	Denied  uint64 // events refused by Allow and AllowN
	Waited  uint64 // events admitted after Wait had to block
}

// Stats returns a snapshot of the limiter.
func (l *Limiter) Stats() LimiterStats {
	p := l.params.Load()
	return LimiterStats{Limit: p.limit, Burst: p.burst, Tokens: l.Tokens(),
		Allowed: uint64(l.allowed.Load()), Denied: uint64(l.denied.Load()), Waited: uint64(l.waited.Load())}
}
