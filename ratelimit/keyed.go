package ratelimit

import (
	"context"
	"fmt"
	"hash/maphash"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Keyed holds one rate limit per key (client, user, API token) with memory
// bounded by default: at most MaxKeys keys are tracked (1M unless set),
// least recently used first out (approximately: see insert).
//
// A key whose bucket is full again (it has been idle for burst/r) is
// indistinguishable from a key never seen, so dropping it is free: Keyed
// drops such keys from the cold end of its LRU list as new keys arrive,
// with no background goroutine, once they have been full for a second (a
// client under its limit comes back with a full bucket every time: keeping
// it that long makes its requests hits instead of an insert and a delete
// each). Only when MaxKeys is reached with every tracked key
// still active does it forget an active key's debt (Stats().EvictedActive
// counts those), which lets that key burst again: size MaxKeys above the
// number of clients active within burst/r.
//
// Keys are spread over shards (a seeded hash picks one; 32 per P), each a
// map and an LRU list under its own lock, so different keys rarely contend.
// MaxKeys is global and exact: skew between shards does not evict keys
// early, and a shard with no key of its own to give up evicts another
// shard's.
//
// Each key's limit is exact in the sense of [Limiter]: its clock is read
// under the shard lock. Against a map of x/time/rate limiters under one
// mutex (BenchmarkKeyed, 100k keys) Allow on a tracked key costs less,
// alone and far less at 2 procs, whether keys are mostly refused (uniform
// and Zipf keys over their limit) or mostly admitted, with no allocation;
// its cost is a few cache misses (the key, its shard's lock, its map slot
// and entry), so it grows with the number of keys like any map. The
// generated figures are in BENCHMARKS.md.
//
// A Keyed is safe for concurrent use; build one with [NewKeyed].
type Keyed[K comparable] struct {
	seed      maphash.Seed
	shards    []keyedShard[K]
	maxKeys   int64
	keys      atomic.Int64 // tracked keys in all shards; changed on insert and evict only
	def       *params
	overrides map[K]*params // read-only after NewKeyed
	epoch     time.Time
}

type keyedShard[K comparable] struct {
	mu     sync.Mutex
	m      map[K]*entry[K]
	lru    entry[K] // sentinel: lru.next is the most recently used
	counts keyedCounts
	_      [64]byte // keeps neighbouring shards' locks off one cache line
}

type keyedCounts struct {
	allowed, denied, evicted, evictedActive uint64
}

type entry[K comparable] struct {
	key        K
	tat        int64
	used       bool // set on every hit; see insert
	prev, next *entry[K]
}

// KeyedOption configures a Keyed limiter.
type KeyedOption interface{ apply(*keyedConfig) }

type keyedConfig struct {
	maxKeys   int
	overrides []any // keyOverride[K], typed in NewKeyed
}

type keyedOptionFunc func(*keyedConfig)

func (f keyedOptionFunc) apply(c *keyedConfig) { f(c) }

// MaxKeys bounds the keys a Keyed limiter tracks (default 1<<20). n must be
// at least 1.
func MaxKeys(n int) KeyedOption {
	if n < 1 {
		panic(fmt.Sprintf("ratelimit: MaxKeys(%d): must be at least 1", n))
	}
	return keyedOptionFunc(func(c *keyedConfig) { c.maxKeys = n })
}

type keyOverride[K comparable] struct {
	key K
	p   *params
}

// Override gives one key its own rate and burst (a partner with a larger
// quota, an abusive client with a smaller one). K must be the limiter's key
// type; NewKeyed panics otherwise.
func Override[K comparable](key K, r rate.Limit, burst int) KeyedOption {
	p := mustParams(r, burst, "Override")
	return keyedOptionFunc(func(c *keyedConfig) { c.overrides = append(c.overrides, keyOverride[K]{key, p}) })
}

// NewKeyed returns a limiter of r events per second with bursts of burst
// for each key, with the validation of [New].
func NewKeyed[K comparable](r rate.Limit, burst int, opts ...KeyedOption) *Keyed[K] {
	cfg := keyedConfig{maxKeys: 1 << 20}
	for _, o := range opts {
		o.apply(&cfg)
	}
	n := 1
	for n < 32*runtime.GOMAXPROCS(0) && n < cfg.maxKeys {
		n <<= 1
	}
	k := &Keyed[K]{
		seed:    maphash.MakeSeed(),
		shards:  make([]keyedShard[K], n),
		maxKeys: int64(cfg.maxKeys),
		def:     mustParams(r, burst, "NewKeyed"),
		epoch:   time.Now(),
	}
	for i := range k.shards {
		s := &k.shards[i]
		s.m = make(map[K]*entry[K])
		s.lru.next, s.lru.prev = &s.lru, &s.lru
	}
	for _, o := range cfg.overrides {
		ov, ok := o.(keyOverride[K])
		if !ok {
			panic(fmt.Sprintf("ratelimit: Override for a %T key given to a Keyed limiter of %T keys", o, *new(K)))
		}
		if k.overrides == nil {
			k.overrides = map[K]*params{}
		}
		k.overrides[ov.key] = ov.p
	}
	return k
}

// Allow reports whether one event for key may happen now, and counts it if
// so. It does not allocate when key is already tracked.
func (k *Keyed[K]) Allow(key K) bool { return k.AllowN(key, 1) }

// AllowN reports whether n events for key may happen now, and counts them
// if so.
func (k *Keyed[K]) AllowN(key K, n int) bool {
	p := k.paramsFor(key)
	switch {
	case p.interval == 0:
		return true
	case n <= 0 || n > p.burst:
		return n == 0
	}
	// Decide without building a Decision: the hot path of the middleware
	// and of most callers.
	s := k.shard(key)
	s.mu.Lock()
	e := k.lookup(s, key)
	next, _, ok := p.gcra(e.tat, int64(time.Since(k.epoch)), n, 0)
	if ok {
		e.tat = next
		s.counts.allowed += uint64(n)
	} else {
		s.counts.denied += uint64(n)
	}
	s.mu.Unlock()
	return ok
}

// lookup returns key's entry in s (locked), tracking key if it is new.
func (k *Keyed[K]) lookup(s *keyedShard[K], key K) *entry[K] {
	if e := s.m[key]; e != nil {
		e.used = true
		return e
	}
	return k.insert(s, key, int64(time.Since(k.epoch)))
}

// Decide is Allow with the details HTTP headers need.
func (k *Keyed[K]) Decide(key K) Decision {
	d, _, _ := k.decide(key, 1, 0)
	return d
}

// Wait blocks until one event for key may happen, then counts it. See
// WaitN.
func (k *Keyed[K]) Wait(ctx context.Context, key K) error { return k.WaitN(ctx, key, 1) }

// WaitN blocks until n events for key may happen, then counts them, with
// the errors of [Limiter.WaitN]: at once if n exceeds the key's burst, if
// its rate is 0 and its burst is spent, or if ctx's deadline comes first
// (matching context.DeadlineExceeded). If ctx is done while waiting, the
// events are given back unless the key was used or evicted meanwhile.
func (k *Keyed[K]) WaitN(ctx context.Context, key K, n int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p := k.paramsFor(key)
	if n > p.burst && p.interval != 0 {
		return fmt.Errorf("ratelimit: WaitN(%d) exceeds the burst of %d", n, p.burst)
	}
	maxWait := time.Duration(math.MaxInt64)
	if dl, ok := ctx.Deadline(); ok {
		maxWait = time.Until(dl)
	}
	d, e, next := k.decide(key, n, maxWait)
	switch {
	case !d.Allowed && p.limit == 0:
		return fmt.Errorf("ratelimit: WaitN(%d): rate 0 and the burst is spent", n)
	case !d.Allowed:
		return fmt.Errorf("ratelimit: WaitN(%d) would have to wait past the context deadline: %w", n, context.DeadlineExceeded)
	case d.RetryAfter == 0:
		return nil
	}
	t := time.NewTimer(d.RetryAfter)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		s := k.shard(key)
		s.mu.Lock()
		if s.m[key] == e && e.tat == next {
			e.tat -= p.interval * int64(n)
		}
		s.mu.Unlock()
		return ctx.Err()
	}
}

func (k *Keyed[K]) paramsFor(key K) *params {
	if k.overrides != nil {
		if p, ok := k.overrides[key]; ok {
			return p
		}
	}
	return k.def
}

func (k *Keyed[K]) shard(key K) *keyedShard[K] {
	return &k.shards[maphash.Comparable(k.seed, key)&uint64(len(k.shards)-1)]
}

// decide admits n events for key if they fit within maxWait, returning the
// wait in RetryAfter when admitted with a delay, and the entry and tat it
// set, for a give-back.
func (k *Keyed[K]) decide(key K, n int, maxWait time.Duration) (d Decision, e *entry[K], next int64) {
	p := k.paramsFor(key)
	d = Decision{Limit: p.burst, Window: p.window()}
	switch {
	case p.interval == 0:
		d.Allowed, d.Remaining = true, p.burst
		return d, nil, 0
	case n <= 0:
		d.Allowed = n == 0
		return d, nil, 0
	case n > p.burst:
		d.RetryAfter = rate.InfDuration // never fits
		return d, nil, 0
	}
	maxWait = p.maxWait(maxWait)
	s := k.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	e = k.lookup(s, key)
	now := int64(time.Since(k.epoch))
	next, wait, ok := p.gcra(e.tat, now, n, maxWait)
	if !ok {
		s.counts.denied += uint64(n)
		d.RetryAfter = time.Duration(wait - int64(maxWait))
		if p.limit == 0 {
			d.RetryAfter = rate.InfDuration
		}
		d.Remaining = int(max(0, math.Floor(p.tokens(e.tat, now))))
		d.ResetAfter = p.resetAfter(e.tat, now)
		return d, e, 0
	}
	e.tat = next
	s.counts.allowed += uint64(n)
	d.Allowed = true
	d.RetryAfter = time.Duration(max(wait, 0))
	d.Remaining = int(max(0, math.Floor(p.tokens(next, now))))
	d.ResetAfter = p.resetAfter(next, now)
	return d, e, next
}

// resetAfter is how long until a bucket at tat is full again.
func (p *params) resetAfter(tat, now int64) time.Duration {
	owed := max(0, tat-p.clock(now))
	if owed > 0 && p.limit == 0 {
		return rate.InfDuration
	}
	return time.Duration(owed)
}

// insert tracks a new key in s (locked). It first drops every idle key
// (full bucket) at the cold end of s's LRU list, each key being dropped at
// most once, so this costs O(1) amortized. Then it takes one of the
// MaxKeys slots with a compare-and-swap on the global count, so no race
// between shards can go over MaxKeys; with none free, it evicts s's least
// recently used key, or another shard's when s has none. It reuses a
// dropped entry, so a Keyed at capacity does not allocate for new keys.
func (k *Keyed[K]) insert(s *keyedShard[K], key K, now int64) *entry[K] {
	var e *entry[K]
	for tail := s.lru.prev; tail != &s.lru && tail.tat+idleGrace <= now; tail = s.lru.prev {
		e = s.remove(tail) // full bucket: forgetting it changes nothing
		s.counts.evicted++
		k.keys.Add(-1)
	}
	for {
		if c := k.keys.Load(); c < k.maxKeys {
			if k.keys.CompareAndSwap(c, c+1) {
				break
			}
			continue
		}
		if s.lru.prev != &s.lru {
			e = s.evict(now) // its slot becomes the new key's: the count stays
			break
		}
		k.evictElsewhere(s, now)
	}
	if e == nil {
		e = new(entry[K])
	}
	*e = entry[K]{key: key}
	s.m[key] = e
	s.pushFront(e)
	return e
}

// evict drops s's least recently used key (s locked), with a second chance
// (the CLOCK approximation of LRU): a key used since it last reached the
// cold end goes back to the front once. A hit then only sets a flag in its
// own entry instead of relinking three list neighbours, which on 100k keys
// meant three more cache misses.
func (s *keyedShard[K]) evict(now int64) *entry[K] {
	tail := s.lru.prev
	for tail.used {
		tail.used = false
		s.touch(tail)
		tail = s.lru.prev
	}
	s.remove(tail)
	s.counts.evicted++
	if tail.tat > now {
		s.counts.evictedActive++
	}
	return tail
}

// evictElsewhere frees one MaxKeys slot from another shard than own (which
// is locked and empty). It only try-locks, so two shards doing this at once
// cannot deadlock; if every other shard is busy or empty it yields and the
// caller tries again (the keys counted are then being inserted, under their
// shards' locks, which are released soon).
func (k *Keyed[K]) evictElsewhere(own *keyedShard[K], now int64) {
	for i := range k.shards {
		o := &k.shards[i]
		if o == own || !o.mu.TryLock() {
			continue
		}
		if o.lru.prev != &o.lru {
			o.evict(now)
			o.mu.Unlock()
			k.keys.Add(-1)
			return
		}
		o.mu.Unlock()
	}
	runtime.Gosched()
}

func (s *keyedShard[K]) remove(e *entry[K]) *entry[K] {
	e.prev.next, e.next.prev = e.next, e.prev
	delete(s.m, e.key)
	return e
}

func (s *keyedShard[K]) pushFront(e *entry[K]) {
	e.prev, e.next = &s.lru, s.lru.next
	s.lru.next.prev = e
	s.lru.next = e
}

func (s *keyedShard[K]) touch(e *entry[K]) {
	if s.lru.next == e {
		return
	}
	e.prev.next, e.next.prev = e.next, e.prev
	s.pushFront(e)
}

// KeyedStats is a snapshot of a Keyed limiter.
type KeyedStats struct {
	Keys          int    // keys tracked now
	Allowed       uint64 // events admitted
	Denied        uint64 // events refused
	Evicted       uint64 // keys dropped (idle, or to stay under MaxKeys)
	EvictedActive uint64 // of those, keys whose bucket was not yet full
}

// Stats returns a snapshot, locking each shard in turn.
func (k *Keyed[K]) Stats() KeyedStats {
	var st KeyedStats
	for i := range k.shards {
		s := &k.shards[i]
		s.mu.Lock()
		st.Keys += len(s.m)
		st.Allowed += s.counts.allowed
		st.Denied += s.counts.denied
		st.Evicted += s.counts.evicted
		st.EvictedActive += s.counts.evictedActive
		s.mu.Unlock()
	}
	return st
}

// idleGrace is how long a key stays tracked after its bucket is full
// again. Forgetting a full bucket changes no decision, but a client under
// its limit comes back with a full bucket every time: dropping it at once
// would make every such request an insert and a delete instead of a hit.
const idleGrace = int64(time.Second)
