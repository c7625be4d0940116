// Package redisrate is one rate limit for a whole fleet: every instance of
// a service asks Redis, and Redis decides with GCRA in one Lua script per
// decision (one round trip), on the Redis server's clock, so the clocks of
// the instances do not matter. It needs Redis 3.2 or later (the script
// reads TIME before writing, which needs effects replication: on by
// default from Redis 5, switched on by the script before).
//
// It implements ratelimit.KeyLimiter, so it plugs into ratelimit.Middleware
// with the same key function and headers as the in-process limiter, and it
// returns ratelimit.Decision. When Redis cannot answer, the FailurePolicy
// set with Failure decides, in this one place: let requests through,
// refuse them, or fall back to a local limiter at a share of the rate. The
// error is returned with the policy's decision (and passed to the OnError
// hook), never swallowed; ratelimit.Middleware applies the decision and
// passes the error to its own OnError.
//
// One Limiter serves several quotas (plans: free, pro) over one client:
// see NewQuota.
//
// It lives in its own module so that the breakeven root module does not
// depend on a Redis client.
package redisrate

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/breakeven-go/breakeven/ratelimit"
)

//go:embed gcra.lua
var gcraSource string

var gcra = redis.NewScript(gcraSource)

// FailurePolicy is what a Limiter answers when Redis does not.
type FailurePolicy int

const (
	// FailClosed refuses requests while Redis is unreachable (the default):
	// the limit protects something that must not be overrun.
	// ratelimit.Middleware answers them 503 Service Unavailable.
	FailClosed FailurePolicy = iota
	// FailOpen admits requests while Redis is unreachable: availability
	// matters more than the limit.
	FailOpen
	// FallbackLocal decides with an in-process limiter at r/N and
	// burst/N for the N instances of the fleet (see LocalShare); its
	// refusals carry a RetryAfter, so ratelimit.Middleware answers 429.
	FallbackLocal
)

// String returns the policy's name ("FailClosed", ...).
func (p FailurePolicy) String() string {
	switch p {
	case FailClosed:
		return "FailClosed"
	case FailOpen:
		return "FailOpen"
	case FallbackLocal:
		return "FallbackLocal"
	}
	return fmt.Sprintf("FailurePolicy(%d)", int(p))
}

// Option configures a Limiter.
type Option interface{ apply(*Limiter) }

type optionFunc func(*Limiter)

func (f optionFunc) apply(l *Limiter) { f(l) }

// Prefix sets the prefix of the Redis keys (default "ratelimit:"). Each key
// is stored as prefix + "{" + key + "}": a hash tag, so in Redis Cluster a
// key's state lives in the slot of the user's key.
func Prefix(p string) Option { return optionFunc(func(l *Limiter) { l.prefix = p }) }

// Timeout bounds each Redis call (default 100 ms), within the caller's
// ctx: past it, the call fails and the FailurePolicy decides.
func Timeout(d time.Duration) Option {
	if d <= 0 {
		panic(fmt.Sprintf("redisrate: Timeout(%v): must be positive", d))
	}
	return optionFunc(func(l *Limiter) { l.timeout = d })
}

// Failure sets the policy for when Redis does not answer (default
// FailClosed).
func Failure(p FailurePolicy) Option {
	if p < FailClosed || p > FallbackLocal {
		panic(fmt.Sprintf("redisrate: Failure(%d): unknown policy", p))
	}
	return optionFunc(func(l *Limiter) { l.policy = p })
}

// LocalShare sets N for FallbackLocal: each instance then allows r/N with
// bursts of burst/N (at least 1) on its own. n must be at least 1.
func LocalShare(n int) Option {
	if n < 1 {
		panic(fmt.Sprintf("redisrate: LocalShare(%d): must be at least 1", n))
	}
	return optionFunc(func(l *Limiter) { l.share = n })
}

// OnError sets a hook called with every Redis error, in addition to its
// return, for logs and metrics. It only observes: the FailurePolicy
// decides.
func OnError(fn func(error)) Option { return optionFunc(func(l *Limiter) { l.onError = fn }) }

// Limiter is a fleet-wide keyed rate limiter on Redis. Each decision is one
// EVALSHA round trip, so it costs a network round trip where the
// in-process ratelimit.Keyed costs a map lookup: use it where the limit
// must hold across instances, not for speed (BenchmarkAllow measures both).
// It is safe for concurrent use; build one with New.
type Limiter struct {
	rdb     redis.UniversalClient
	def     *Quota
	prefix  string
	timeout time.Duration
	policy  FailurePolicy
	share   int
	onError func(error)
}

// Quota is one rate and burst on a Limiter: a plan ("free": 10/s, "pro":
// 1000/s) sharing the Limiter's client, key prefix and failure policy. A
// key's state is the same whatever quota checks it, so a client moving to
// another plan keeps what it owes. Quota implements ratelimit.KeyLimiter,
// so each plan can have its own ratelimit.Middleware. Build one with
// Limiter.NewQuota; it is safe for concurrent use.
type Quota struct {
	l        *Limiter
	limit    rate.Limit
	burst    int
	interval int64 // ns per event
	tau      int64 // interval * burst, ns
	local    *ratelimit.Keyed[string]
}

// maxTau keeps interval x burst exact in the script's doubles (2^53
// nanoseconds, about 104 days to refill the burst).
const maxTau = 1 << 53

// New returns a limiter of r events per second with bursts of burst per
// key, for every client of rdb together. r must be positive and at most
// 1e6/s, burst at least 1, and burst/r at most about 104 days; New panics
// otherwise. A go-redis client must have ContextTimeoutEnabled set (New
// panics if not): without it the client ignores the deadline Timeout sets,
// and a slow Redis would hold every request for the client's ReadTimeout
// before the FailurePolicy applies.
func New(rdb redis.UniversalClient, r rate.Limit, burst int, opts ...Option) *Limiter {
	if rdb == nil {
		panic("redisrate: New(nil client)")
	}
	if ignoresDeadlines(rdb) {
		panic("redisrate: New: the client ignores context deadlines, so Timeout cannot bound a call to a slow Redis and the FailurePolicy would wait for its read timeout: set ContextTimeoutEnabled in the client's options")
	}
	l := &Limiter{rdb: rdb, prefix: "ratelimit:", timeout: 100 * time.Millisecond, share: 1}
	for _, o := range opts {
		o.apply(l)
	}
	q, err := l.newQuota(r, burst)
	if err != nil {
		panic(fmt.Sprintf("redisrate: New(%v, %d): %v", r, burst, err))
	}
	l.def = q
	return l
}

// ignoresDeadlines reports whether rdb is a go-redis client built without
// ContextTimeoutEnabled: it then reads a reply until its own ReadTimeout
// (3 s by default) whatever the context says. Other implementations of
// redis.UniversalClient are trusted to honour the context.
func ignoresDeadlines(rdb redis.UniversalClient) bool {
	switch c := rdb.(type) {
	case *redis.Client:
		return !c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return !c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		return !c.Options().ContextTimeoutEnabled
	}
	return false
}

// NewQuota returns another rate and burst on l's client, with l's options,
// or an error for the values New rejects. Create quotas once (one per
// plan), not per call: each holds its own local limiter for FallbackLocal.
func (l *Limiter) NewQuota(r rate.Limit, burst int) (*Quota, error) {
	q, err := l.newQuota(r, burst)
	if err != nil {
		return nil, fmt.Errorf("redisrate: NewQuota(%v, %d): %w", r, burst, err)
	}
	return q, nil
}

func (l *Limiter) newQuota(r rate.Limit, burst int) (*Quota, error) {
	if !(r > 0 && r <= 1e6) || burst < 1 {
		return nil, errors.New("want 0 < r <= 1e6 and burst >= 1")
	}
	// Nanoseconds: at most 1e6/s the interval is at least 1000 ns, so
	// rounding it moves the rate by at most 0.05% (whole microseconds
	// moved 700,000/s to 1,000,000/s).
	interval := int64(math.Round(1e9 / float64(r)))
	if float64(interval)*float64(burst) > maxTau {
		return nil, errors.New("interval x burst overflows the script's exact range (burst/r above about 104 days)")
	}
	q := &Quota{l: l, limit: r, burst: burst, interval: interval, tau: interval * int64(burst)}
	if l.policy == FallbackLocal {
		q.local = ratelimit.NewKeyed[string](r/rate.Limit(l.share), max(1, burst/l.share))
	}
	return q, nil
}

// Allow reports whether one event for key may happen now under the
// default quota. On a Redis failure it returns the policy's answer
// together with the error.
func (l *Limiter) Allow(ctx context.Context, key string) (bool, error) {
	d, err := l.def.AllowN(ctx, key, 1)
	return d.Allowed, err
}

// AllowN reports whether n events for key may happen now under the
// default quota, and counts them if so. See Quota.AllowN.
func (l *Limiter) AllowN(ctx context.Context, key string, n int) (ratelimit.Decision, error) {
	return l.def.AllowN(ctx, key, n)
}

// Check implements ratelimit.KeyLimiter for ratelimit.Middleware with the
// default quota. On a Redis failure it returns the policy's decision and
// the error: the middleware applies the decision.
func (l *Limiter) Check(ctx context.Context, key string) (ratelimit.Decision, error) {
	return l.def.AllowN(ctx, key, 1)
}

// Reset forgets key's state in Redis: its next request finds a full
// bucket (an operator lifting a block, a user who upgraded). The state of
// a FallbackLocal limiter is not touched.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	cctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	if err := l.rdb.Del(cctx, l.redisKey(key)).Err(); err != nil {
		return l.report(fmt.Errorf("redisrate: resetting %q: %w", key, err))
	}
	return nil
}

func (l *Limiter) redisKey(key string) string { return l.prefix + "{" + key + "}" }

func (l *Limiter) report(err error) error {
	if l.onError != nil {
		l.onError(err)
	}
	return err
}

// Check implements ratelimit.KeyLimiter with this quota.
func (q *Quota) Check(ctx context.Context, key string) (ratelimit.Decision, error) {
	return q.AllowN(ctx, key, 1)
}

// AllowN reports whether n events for key may happen now under this
// quota, and counts them if so. On a Redis failure it returns the policy's
// decision together with the error.
func (q *Quota) AllowN(ctx context.Context, key string, n int) (ratelimit.Decision, error) {
	d := ratelimit.Decision{Limit: q.burst, Window: time.Duration(q.tau)}
	if n < 1 || n > q.burst {
		return d, fmt.Errorf("redisrate: AllowN(%d): want 1 <= n <= burst (%d)", n, q.burst)
	}
	l := q.l
	cctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	v, err := gcra.Run(cctx, l.rdb, []string{l.redisKey(key)}, q.interval, q.tau, n).Int64Slice()
	if err == nil && len(v) != 4 {
		err = fmt.Errorf("unexpected script reply %v", v)
	}
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, context.DeadlineExceeded) {
			// The client reports the deadline it set on the connection as
			// a network timeout: make it match the context's error too.
			err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
		}
		err = l.report(fmt.Errorf("redisrate: deciding for %q: %w", key, err))
		return q.fallback(d, key, n), err
	}
	d.Allowed = v[0] == 1
	d.Remaining = int(max(0, v[1])) // another quota may have left more owed than this burst
	d.RetryAfter = time.Duration(v[2])
	d.ResetAfter = time.Duration(v[3])
	return d, nil
}

// fallback is the policy's decision when Redis did not answer.
func (q *Quota) fallback(d ratelimit.Decision, key string, n int) ratelimit.Decision {
	switch q.l.policy {
	case FailOpen:
		d.Allowed = true
	case FallbackLocal:
		if n == 1 {
			local := q.local.Decide(key)
			d.Allowed, d.Remaining, d.RetryAfter, d.ResetAfter = local.Allowed, local.Remaining, local.RetryAfter, local.ResetAfter
		} else {
			d.Allowed = q.local.AllowN(key, n)
		}
	}
	return d
}
