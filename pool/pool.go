package pool

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/breakeven-go/breakeven/internal/pin"
)

// Pool is a typed pool of reusable objects with a bound on how many it keeps
// idle, for objects that are costly to build (large structs, encoders,
// connections) and whose use is frequent enough to show in a profile.
//
// Get returns an idle object or a new one from newFn; Put returns one for
// reuse, after the optional Keep and Reset functions. Unlike sync.Pool,
// idle objects are not released by the garbage collector: the pool keeps up
// to MaxIdle of them (default 1024), and with [Cost] and [MaxCost] up to a
// total cost, until they are reused, so memory stays bounded and
// predictable, and a Get after a collection still hits. What the pool does
// not keep it drops, handing it to [OnDrop] if set, so pooled connections or
// files are closed, not leaked. T should be a pointer type: Get and Put
// copy T.
//
// Idle objects are kept in two tiers, as in [Bytes]: each P has a stack of
// up to MaxIdle/(2 x slots) objects that only that P touches (pinned to it,
// without a lock, where the runtime allows), and a shared stack under a
// lock takes the rest, so objects put back on one CPU and taken on another
// are still reused. A Get/Put cycle costs a little more than sync.Pool's
// (the price of the bound) and far less than building a new object each
// time (BenchmarkPool).
//
// The zero Pool is not usable (it has no newFn); build one with [New]. A
// Pool is safe for concurrent use and must not be copied after first use.
type Pool[T any] struct {
	_      noCopy
	newFn  func() T
	reset  func(T)
	keep   func(T) bool
	cost   func(T) int64
	onDrop func(T)
	slots  []poolSlot[T]
	shared poolTier[T]
}

// poolTier is a stack of idle objects with its bounds and counters; a P's
// slot is accessed like a Bytes slot (owned while pinned, or under mu).
type poolTier[T any] struct {
	mu                      sync.Mutex
	idle                    []T
	max                     int
	count                   int64   // len(idle), kept as its own word for Stats
	costs                   []int64 // with Cost: costs[i] is idle[i]'s
	cost, maxCost           int64   // with Cost: sum of costs, its bound
	gets, puts, news, drops uint64
}

type poolSlot[T any] struct {
	poolTier[T]
	_ [(pad - (8+24+8+8+24+16+32)%pad) % pad]byte
}

// pad is the size each slot is padded to, so two slots' locks never share
// a cache line or an adjacent-line prefetch pair (see shard's cellSize).
const pad = 128

// New returns a Pool whose Get calls newFn when no idle object is left. It
// panics, with a message starting "pool:", if newFn is nil, if a Reset,
// Keep, Cost or OnDrop option is for another type than T (Option is not
// generic, so this cannot be a compile error), or if MaxCost and Cost are
// not given together.
func New[T any](newFn func() T, opts ...Option) *Pool[T] {
	if newFn == nil {
		panic("pool: New(nil)")
	}
	cfg := poolConfig{maxIdle: 1024}
	for _, o := range opts {
		o.apply(&cfg)
	}
	p := &Pool[T]{
		newFn:  newFn,
		reset:  optionFn[func(T)]("Reset", cfg.reset),
		keep:   optionFn[func(T) bool]("Keep", cfg.keep),
		cost:   optionFn[func(T) int64]("Cost", cfg.cost),
		onDrop: optionFn[func(T)]("OnDrop", cfg.onDrop),
	}
	switch {
	case p.cost != nil && cfg.maxCost == 0:
		panic("pool: Cost without MaxCost: nothing to bound")
	case p.cost == nil && cfg.maxCost != 0:
		panic(fmt.Sprintf("pool: MaxCost(%d) without Cost: the pool cannot tell what an object costs", cfg.maxCost))
	}
	n := slotCount()
	p.slots = make([]poolSlot[T], n)
	local := cfg.maxIdle / (2 * n)
	localCost := cfg.maxCost / int64(2*n)
	for i := range p.slots {
		p.slots[i].max = local
		p.slots[i].maxCost = localCost
	}
	p.shared.max = cfg.maxIdle - local*n
	p.shared.maxCost = cfg.maxCost - localCost*int64(n)
	return p
}

// optionFn returns an option's function as F, the type a Pool of T needs,
// or panics naming the option and both types.
func optionFn[F any](option string, fn any) F {
	var zero F
	if fn == nil {
		return zero
	}
	f, ok := fn.(F)
	if !ok {
		panic(fmt.Sprintf("pool: %s(%T) given to a Pool that needs %T", option, fn, zero))
	}
	return f
}

// slotCount is GOMAXPROCS rounded up to a power of two, so a P id or the
// portable build's goroutine hash maps to a slot with a mask; if GOMAXPROCS
// grows later, Ps share slots (correct, as slots are locked).
func slotCount() int {
	n := 1
	for n < runtime.GOMAXPROCS(0) {
		n <<= 1
	}
	return n
}

// Get returns an idle object, or newFn() if none is left. It does not
// allocate when it finds one.
func (p *Pool[T]) Get() T {
	if pin.Owned {
		// Fast path: pop from this P's own slot, no lock (see pin.Owned).
		if i := pin.Index(); i < len(p.slots) {
			s := &p.slots[i]
			s.gets++
			x, ok := s.pop(p.cost != nil)
			pin.Unpin()
			if ok {
				return x
			}
			return p.getShared()
		}
		pin.Unpin()
		p.shared.mu.Lock()
		p.shared.gets++ // a P beyond the slots uses the shared tier only
		p.shared.mu.Unlock()
		return p.getShared()
	}
	i := pin.Index()
	pin.Unpin()
	s := &p.slots[i&(len(p.slots)-1)]
	s.mu.Lock()
	s.gets++
	x, ok := s.pop(p.cost != nil)
	s.mu.Unlock()
	if ok {
		return x
	}
	return p.getShared()
}

// getShared pops from the shared tier, or builds a new object.
func (p *Pool[T]) getShared() T {
	p.shared.mu.Lock()
	x, ok := p.shared.pop(p.cost != nil)
	if !ok {
		p.shared.news++
	}
	p.shared.mu.Unlock()
	if ok {
		return x
	}
	return p.newFn()
}

func (t *poolTier[T]) pop(costed bool) (T, bool) {
	var zero T
	n := len(t.idle)
	if n == 0 {
		return zero, false
	}
	x := t.idle[n-1]
	t.idle[n-1] = zero // drop the reference the spare capacity would keep
	t.idle = t.idle[:n-1]
	t.count--
	if costed {
		t.cost -= t.costs[n-1]
		t.costs = t.costs[:n-1]
	}
	return x, true
}

// push keeps x, of cost c, if the tier is under both bounds with it: the
// count never exceeds max, nor (with Cost) the sum of costs maxCost.
func (t *poolTier[T]) push(x T, costed bool, c int64) bool {
	if len(t.idle) >= t.max {
		return false
	}
	if costed {
		if c < 0 || t.cost+c > t.maxCost {
			return false
		}
		t.costs = append(t.costs, c)
		t.cost += c
	}
	t.idle = append(t.idle, x)
	t.count++
	return true
}

// Put offers x for reuse: Keep (if set) may refuse it, Reset (if set)
// clears it, and it is kept if there is room under MaxIdle (and MaxCost),
// else dropped and handed to OnDrop (if set). Put does not allocate at
// steady state.
func (p *Pool[T]) Put(x T) {
	if p.keep != nil && !p.keep(x) {
		p.shared.mu.Lock()
		p.shared.puts++
		p.shared.drops++
		p.shared.mu.Unlock()
		p.drop(x)
		return
	}
	if p.reset != nil {
		p.reset(x)
	}
	costed := p.cost != nil
	var c int64
	if costed {
		c = p.cost(x)
	}
	if pin.Owned {
		// Fast path: push onto this P's own slot, no lock (see pin.Owned).
		if i := pin.Index(); i < len(p.slots) {
			s := &p.slots[i]
			s.puts++
			kept := s.push(x, costed, c)
			pin.Unpin()
			if !kept {
				p.putShared(x, c)
			}
			return
		}
		pin.Unpin()
		p.shared.mu.Lock()
		p.shared.puts++ // a P beyond the slots uses the shared tier only
		p.shared.mu.Unlock()
		p.putShared(x, c)
		return
	}
	i := pin.Index()
	pin.Unpin()
	s := &p.slots[i&(len(p.slots)-1)]
	s.mu.Lock()
	s.puts++
	kept := s.push(x, costed, c)
	s.mu.Unlock()
	if !kept {
		p.putShared(x, c)
	}
}

// putShared offers x, of cost c, to the shared tier, dropping it if full.
func (p *Pool[T]) putShared(x T, c int64) {
	p.shared.mu.Lock()
	kept := p.shared.push(x, p.cost != nil, c)
	if !kept {
		p.shared.drops++
	}
	p.shared.mu.Unlock()
	if !kept {
		p.drop(x)
	}
}

// drop hands x, which the pool did not keep, to OnDrop.
func (p *Pool[T]) drop(x T) {
	if p.onDrop != nil {
		p.onDrop(x)
	}
}

// PoolStats is a snapshot of a Pool's counters.
type PoolStats struct {
	Gets  uint64 // Get calls
	Puts  uint64 // Put calls
	News  uint64 // Gets that found nothing idle and called newFn (misses)
	Drops uint64 // Puts refused by Keep or over MaxIdle or MaxCost
	Idle  int    // objects kept now
	// IdleCost is the total Cost of the objects kept now (0 without Cost);
	// never above MaxCost.
	IdleCost int64
	// Outstanding is Gets minus Puts: objects handed out and not yet
	// returned. If it keeps growing, callers do not Put, and the pool
	// only adds cost (the reference text's appendix PP).
	Outstanding int64
}

// Stats returns the pool's counters, summed over its slots.
func (p *Pool[T]) Stats() PoolStats {
	var st PoolStats
	add := func(t *poolTier[T]) {
		st.Gets += atomic.LoadUint64(&t.gets)
		st.Puts += atomic.LoadUint64(&t.puts)
		st.News += atomic.LoadUint64(&t.news)
		st.Drops += atomic.LoadUint64(&t.drops)
		st.Idle += int(atomic.LoadInt64(&t.count))
		st.IdleCost += atomic.LoadInt64(&t.cost)
	}
	for i := range p.slots {
		s := &p.slots[i].poolTier
		if pin.Owned {
			add(s) // counters are words: see Bytes.Stats
			continue
		}
		s.mu.Lock()
		add(s)
		s.mu.Unlock()
	}
	p.shared.mu.Lock()
	add(&p.shared)
	p.shared.mu.Unlock()
	st.Outstanding = int64(st.Gets) - int64(st.Puts)
	return st
}

// noCopy makes go vet's copylocks check flag copies (see sync.noCopy).
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
