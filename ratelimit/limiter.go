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
// an admission takes a mutex and stores the new tat only if tat (and the
// configuration) are still what was loaded, else it decides again on a
// clock read under the lock. So no admission ever uses a clock reading
// older than the previous admission: admission times are monotonic, which
// keeps the bound exact (x/time/rate reads the clock before its lock and
// can admit against a stale "now"). An earlier version admitted with a
// compare-and-swap loop instead of the mutex; it cost more than
// x/time/rate at 2 procs, as failed CASes re-read the clock while the mutex
// lets one core run.
//
// Against x/time/rate (BenchmarkRateLimit) it costs less alone and at 2
// procs, and far less when it refuses (the overload case), as a refusal
// writes nothing. A plain mutex GCRA is cheaper still on admissions at 2
// procs: the lock-free refusal and the Stats counters are what this one
// pays for. The generated figures are in BENCHMARKS.md.
//
// A Limiter is safe for concurrent use; build one with [New].
type Limiter struct {
	params atomic.Pointer[params]
	mu     sync.Mutex   // serializes admissions, give-backs and reconfiguration; refusals take no lock
	tat    atomic.Int64 // see params; ns since epoch, or on the frozen clock at rate 0
	seq    uint64       // admissions so far, under mu: a Reservation gives back only if it was the last
	epoch  time.Time    // monotonic origin of tat

	allowed, denied, waited shard.Counter
}

// New returns a Limiter that admits r events per second with bursts of up
// to burst, starting full (burst events at once), as rate.NewLimiter does.
// r may be rate.Inf (no limit) or 0 (the first burst events, then none).
// A negative r or burst, an r above 1e9/s other than rate.Inf, an r whose
// interval is not within 1% of whole nanoseconds, or an interval x burst
// beyond the int64 nanosecond range panics.
func New(r rate.Limit, burst int) *Limiter {
	l := &Limiter{epoch: time.Now()}
	l.params.Store(mustParams(r, burst, "New"))
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

// gcra decides n (1 <= n <= burst) events on a bucket at tat, at real time
// now, admitting them if the caller can wait up to maxWait: it returns the
// new tat and the wait (negative or zero: at once). A tat that would pass
// the int64 horizon refuses instead of wrapping around.
func (p *params) gcra(tat, now int64, n int, maxWait time.Duration) (next, wait int64, ok bool) {
	now = p.clock(now)
	cost := p.interval * int64(n) // at most tau: no overflow
	base := max(tat, now)
	if base > math.MaxInt64-cost {
		return 0, math.MaxInt64, false // saturated: reservations 292 years ahead
	}
	next = base + cost
	wait = next - p.tau - now
	return next, wait, wait <= int64(maxWait)
}

// reserve takes n events if they fit within maxWait from now, returning
// how long the caller must wait for them (0 to admit at once) and the
// admission's sequence number, for giveBack.
func (l *Limiter) reserve(n int, maxWait time.Duration) (ok bool, wait time.Duration, seq uint64) {
	p := l.params.Load()
	switch {
	case n <= 0:
		return n == 0, 0, 0
	case p.interval == 0: // rate.Inf
		return true, 0, 0
	case n > p.burst:
		return false, 0, 0
	}
	tat := l.tat.Load()
	now := l.now() // after the load: see the type comment
	next, w, fits := p.gcra(tat, now, n, p.maxWait(maxWait))
	if !fits {
		// Refusing needs no lock: tat only grows between admissions, so
		// a newer tat would refuse too.
		return false, 0, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if p2 := l.params.Load(); p2 != p || l.tat.Load() != tat {
		// Another admission or a SetLimit came in between: decide again on
		// a fresh clock read, made under the lock after it.
		p, tat, now = p2, l.tat.Load(), l.now()
		if p.interval == 0 || n > p.burst {
			return p.interval == 0, 0, 0
		}
		if next, w, fits = p.gcra(tat, now, n, p.maxWait(maxWait)); !fits {
			return false, 0, 0
		}
	}
	l.tat.Store(next)
	l.seq++
	return true, time.Duration(max(w, 0)), l.seq
}

// maxWait is how long a caller willing to wait d may wait: at rate 0 no
// wait brings a token back, so only the burst is left (as in x/time/rate).
func (p *params) maxWait(d time.Duration) time.Duration {
	if p.limit == 0 {
		return 0
	}
	return max(d, 0)
}

// Wait blocks until one event may happen, then counts it. See WaitN.
func (l *Limiter) Wait(ctx context.Context) error { return l.WaitN(ctx, 1) }

// WaitN blocks until n events may happen, then counts them. It returns an
// error at once, without waiting or counting, if n exceeds the burst, if
// the rate is 0 and the burst is spent, or if ctx's deadline comes before
// the events could happen; that last error matches context.DeadlineExceeded
// with errors.Is. If ctx is done while waiting, WaitN returns ctx's error
// and gives the reserved events back, unless later reservations were made
// meanwhile (then they are lost, which errs on the side of admitting fewer).
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
	ok, wait, seq := l.reserve(n, maxWait)
	if !ok {
		if p.limit == 0 {
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
		l.giveBack(n, seq)
		return ctx.Err()
	}
}

// giveBack returns n reserved events if no admission followed theirs
// (seq is still the last); else they are lost, which errs on the side of
// admitting fewer. The events are given back at the current interval, so a
// SetLimit in between neither hides nor inflates them.
func (l *Limiter) giveBack(n int, seq uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p := l.params.Load(); l.seq == seq && p.interval != 0 {
		l.tat.Store(l.tat.Load() - p.interval*int64(n))
	}
}

// Reservation is a claim on events at a future time, as x/time/rate's
// Reservation: the caller waits Delay itself (or gives up with Cancel).
type Reservation struct {
	l   *Limiter
	ok  bool
	n   int
	seq uint64
	at  time.Time
}

// Reserve reserves one event; see ReserveN.
func (l *Limiter) Reserve() *Reservation { return l.ReserveN(1) }

// ReserveN reserves n events and says when they may happen. It refuses
// (OK is then false) only when n exceeds the burst, when the rate is 0 and
// the burst is spent, or when the reservation would lie beyond the int64
// nanosecond horizon (about 292 years of reservations queued): it
// saturates, it never wraps around. The events count as admitted now.
func (l *Limiter) ReserveN(n int) *Reservation {
	ok, wait, seq := l.reserve(n, time.Duration(math.MaxInt64))
	r := &Reservation{l: l, ok: ok, n: n, seq: seq}
	if ok {
		r.at = time.Now().Add(wait)
		l.allowed.Add(int64(n))
		if wait > 0 {
			l.waited.Add(int64(n))
		}
	}
	return r
}

// OK reports whether the reservation holds.
func (r *Reservation) OK() bool { return r.ok }

// Delay returns how long to wait before the reserved events may happen: 0
// if now, and rate.InfDuration if the reservation is not OK.
func (r *Reservation) Delay() time.Duration {
	if !r.ok {
		return rate.InfDuration
	}
	return max(0, time.Until(r.at))
}

// Cancel gives the reserved events back, if their time has not come and
// no later reservation was made meanwhile, so events that will not happen
// do not count against the limit. A SetLimit or SetBurst in between does
// not prevent it.
func (r *Reservation) Cancel() {
	if r.ok && time.Now().Before(r.at) {
		r.l.giveBack(r.n, r.seq)
		r.ok = false
	}
}

// SetLimit changes the rate from now on, keeping the tokens the bucket
// holds (as x/time/rate does), also to and from rate 0. A value New would
// reject returns an error and leaves the limiter as it was, so a bad
// config reload cannot crash a service. The window bound is exact for a
// fixed rate; calls that race with SetLimit see either the old rate or the
// new one.
func (l *Limiter) SetLimit(r rate.Limit) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.params.Load()
	p, err := makeParams(r, old.burst)
	if err != nil {
		return fmt.Errorf("ratelimit: SetLimit(%v): %w", r, err)
	}
	l.switchTo(old, p)
	return nil
}

// SetBurst changes the burst from now on, keeping the tokens the bucket
// holds (at most the new burst), as x/time/rate does: raising it does not
// fill the bucket. A negative burst returns an error and leaves the limiter
// as it was.
func (l *Limiter) SetBurst(burst int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.params.Load()
	p, err := makeParams(old.limit, burst)
	if err != nil {
		return fmt.Errorf("ratelimit: SetBurst(%d): %w", burst, err)
	}
	l.switchTo(old, p)
	return nil
}

// switchTo installs p (l.mu held), carrying the tokens over: tat moves so
// that the bucket holds under p what it held under old.
func (l *Limiter) switchTo(old, p *params) {
	now := l.now()
	l.tat.Store(p.tatFor(old.tokens(l.tat.Load(), now), now))
	l.params.Store(p)
}

// Limit returns the current rate.
func (l *Limiter) Limit() rate.Limit { return l.params.Load().limit }

// Burst returns the current burst.
func (l *Limiter) Burst() int { return l.params.Load().burst }

// Tokens returns how many events could be admitted at once now: 0 while
// reservations are queued beyond the burst.
func (l *Limiter) Tokens() int {
	p := l.params.Load()
	return int(max(0, math.Floor(p.tokens(l.tat.Load(), l.now()))))
}

// LimiterStats is a snapshot of a Limiter.
type LimiterStats struct {
	Limit   rate.Limit // events per second, as set by New or SetLimit
	Burst   int        // the bucket's size, as set by New or SetBurst
	Tokens  int        // events that could be admitted at once now
	Allowed uint64     // events admitted (by Allow, AllowN, Wait, WaitN)
	Denied  uint64     // events refused by Allow and AllowN
	Waited  uint64     // events admitted after Wait had to block
}

// Stats returns a snapshot of the limiter.
func (l *Limiter) Stats() LimiterStats {
	p := l.params.Load()
	return LimiterStats{Limit: p.limit, Burst: p.burst, Tokens: l.Tokens(),
		Allowed: uint64(l.allowed.Load()), Denied: uint64(l.denied.Load()), Waited: uint64(l.waited.Load())}
}
