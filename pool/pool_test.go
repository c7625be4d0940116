package pool_test

import (
	"bytes"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/breakeven-go/breakeven/pool"
)

func TestPoolReusesAndResets(t *testing.T) {
	news := 0
	p := pool.New(func() *bytes.Buffer { news++; return new(bytes.Buffer) },
		pool.Reset(func(b *bytes.Buffer) { b.Reset() }))
	b := p.Get()
	b.WriteString("stale")
	p.Put(b)
	b2 := p.Get()
	if b2 != b || b2.Len() != 0 || news != 1 {
		t.Fatalf("Get after Put: same=%v len=%d news=%d; want the reset buffer back", b2 == b, b2.Len(), news)
	}
	if s := p.Stats(); s.Gets != 2 || s.Puts != 1 || s.News != 1 || s.Outstanding != 1 {
		t.Fatalf("Stats() = %+v", s)
	}
}

func TestPoolKeepAndMaxIdle(t *testing.T) {
	p := pool.New(func() []byte { return make([]byte, 0, 16) },
		pool.Keep(func(b []byte) bool { return cap(b) <= 1024 }), pool.MaxIdle(4))
	p.Put(make([]byte, 0, 1<<20)) // too big: Keep refuses it
	for range 100 {
		p.Put(make([]byte, 0, 16))
	}
	s := p.Stats()
	if s.Idle > 4 || s.Idle == 0 || s.Puts != 101 || s.Drops != 101-uint64(s.Idle) {
		t.Fatalf("Stats() = %+v, want at most 4 idle and the rest dropped", s)
	}
	if b := p.Get(); cap(b) > 1024 {
		t.Fatalf("Get returned the buffer Keep refused (cap %d)", cap(b))
	}
}

func TestPoolGetPutDoesNotAllocate(t *testing.T) {
	type obj struct{ _ [64]byte } // a 64-byte object worth pooling
	p := pool.New(func() *obj { return new(obj) })
	p.Put(p.Get())
	if a := testing.AllocsPerRun(1000, func() { p.Put(p.Get()) }); a != 0 {
		t.Fatalf("Get/Put allocates %v times per cycle, want 0", a)
	}
}

// stampedObj carries its holder's id; atomic, so that a broken pool that
// shares it is caught by the stamp check and not only by -race.
type stampedObj struct{ owner atomic.Int64 }

type objPool interface {
	Get() *stampedObj
	Put(*stampedObj)
}

// sharesOne is a planted bug: a pool that hands one object to everyone.
type sharesOne struct{ o stampedObj }

func (p *sharesOne) Get() *stampedObj { return &p.o }
func (p *sharesOne) Put(*stampedObj)  {}

// shares reports whether two goroutines ever held one object of p at
// once: each stamps its object, yields so the others run, and reads the
// stamp back; a shared object has been restamped meanwhile.
func shares(p objPool) bool {
	var shared atomic.Bool
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				o := p.Get()
				o.owner.Store(int64(g))
				if i%4 == 0 {
					runtime.Gosched()
				}
				if o.owner.Load() != int64(g) {
					shared.Store(true)
					return
				}
				p.Put(o)
			}
		})
	}
	wg.Wait()
	return shared.Load()
}

func TestPoolNeverSharesAnObject(t *testing.T) {
	if !shares(&sharesOne{}) {
		t.Fatal("the check missed a pool that hands one object to everyone")
	}
	p := pool.New(func() *stampedObj { return new(stampedObj) }, pool.MaxIdle(8))
	if shares(p) {
		t.Fatal("pool.Pool handed one object to two goroutines at once")
	}
	if s := p.Stats(); s.Outstanding != 0 || s.Gets != 8*2000 {
		t.Fatalf("Stats() = %+v", s)
	}
}

// TestPoolGetAfterGCStillHits: the doc promises that idle objects survive
// garbage collections (sync.Pool's do not).
func TestPoolGetAfterGCStillHits(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1)) // one P: the Get sees the Put's slot
	type obj struct{ _ [64]byte }
	p := pool.New(func() *obj { return new(obj) })
	o := p.Get()
	p.Put(o)
	runtime.GC()
	runtime.GC() // sync.Pool would have cleared its victim cache by now
	if got := p.Get(); got != o || p.Stats().News != 1 {
		t.Fatalf("Get after two GCs: same object %v, News %d; want the idle object back", got == o, p.Stats().News)
	}
}

// conn stands for a pooled resource that must be closed.
type conn struct{ closed atomic.Bool }

// TestPoolOnDropClosesEveryDroppedObject: under contention, with Keep
// refusing some objects and MaxIdle dropping others, every object built
// is in the end either idle in the pool or closed by OnDrop, never both,
// never neither (a leaked connection).
func TestPoolOnDropClosesEveryDroppedObject(t *testing.T) {
	var madeSet sync.Map
	var closedTwice atomic.Bool
	p := pool.New(func() *conn { c := new(conn); madeSet.Store(c, true); return c },
		pool.MaxIdle(4),
		pool.Keep(func(c *conn) bool { return uintptr(unsafe.Pointer(c))%3 != 0 }),
		pool.OnDrop(func(c *conn) {
			if c.closed.Swap(true) {
				closedTwice.Store(true)
			}
		}))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range 500 {
				held := []*conn{p.Get(), p.Get(), p.Get()}
				if i%8 == 0 {
					runtime.Gosched()
				}
				for _, c := range held {
					if c.closed.Load() {
						t.Error("Get returned a closed object")
					}
					p.Put(c)
				}
			}
		})
	}
	wg.Wait()
	if closedTwice.Load() {
		t.Fatal("OnDrop called twice for one object")
	}
	var made, closed int
	madeSet.Range(func(k, _ any) bool {
		made++
		if k.(*conn).closed.Load() {
			closed++
		}
		return true
	})
	// Every object made is idle or closed: none leaked, none both (a
	// closed object kept idle would have been handed out by a Get above,
	// or is counted twice here).
	if s := p.Stats(); made != closed+s.Idle || uint64(closed) != s.Drops {
		t.Fatalf("made %d, closed %d, Stats() = %+v: want made = closed + idle and closed = drops", made, closed, s)
	}
	if s := p.Stats(); s.Drops == 0 {
		t.Fatalf("Stats() = %+v: nothing dropped, the test proves nothing", s)
	}
}

// TestPoolMaxCostBoundsWhatIsKept: buffers of different sizes, bounded by
// their bytes, not their number; what is over the bound goes to OnDrop.
func TestPoolMaxCostBoundsWhatIsKept(t *testing.T) {
	var dropped atomic.Int64
	p := pool.New(func() *bytes.Buffer { return new(bytes.Buffer) },
		pool.Cost(func(b *bytes.Buffer) int64 { return int64(b.Cap()) }),
		pool.MaxCost(256<<10),
		pool.OnDrop(func(*bytes.Buffer) { dropped.Add(1) }))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				b := bytes.NewBuffer(make([]byte, 0, (1+(g+i)%4)*16<<10))
				p.Put(b)
				if s := p.Stats(); s.IdleCost > 256<<10 {
					t.Errorf("IdleCost %d over MaxCost %d", s.IdleCost, 256<<10)
					return
				}
			}
		})
	}
	wg.Wait()
	s := p.Stats()
	if s.IdleCost == 0 || s.IdleCost > 256<<10 || s.Drops == 0 || uint64(dropped.Load()) != s.Drops {
		t.Fatalf("Stats() = %+v, OnDrop calls %d: want 0 < IdleCost <= 256 KiB, every drop handed to OnDrop", s, dropped.Load())
	}
}

// TestPoolMaxCostExactBound: with one P, a cost bound is reached exactly
// and never passed, and a negative cost is dropped, not kept for free.
func TestPoolMaxCostExactBound(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	// One slot: it keeps up to 50, the shared tier the other 50.
	p := pool.New(func() *int64 { return new(int64) },
		pool.Cost(func(c *int64) int64 { return *c }), pool.MaxCost(100))
	for _, c := range []int64{25, 25, 0, 25, 25, 1, -1} {
		p.Put(&c)
	}
	if s := p.Stats(); s.IdleCost != 100 || s.Idle != 5 || s.Drops != 2 {
		t.Fatalf("Stats() = %+v, want IdleCost 100 in 5 objects (one free) and 2 drops", s)
	}
	for range 5 {
		if c := *p.Get(); c != 25 && c != 0 {
			t.Fatalf("Get returned an object of cost %d, which was not kept", c)
		}
	}
	if s := p.Stats(); s.IdleCost != 0 || s.News != 0 {
		t.Fatalf("after taking every idle object, Stats() = %+v, want IdleCost 0 and no News", s)
	}
}

func TestPoolOptionsRejectBadValues(t *testing.T) {
	for name, f := range map[string]func(){
		"MaxIdle(0)":   func() { pool.MaxIdle(0) },
		"New(nil)":     func() { pool.New[int](nil) },
		"Reset(nil)":   func() { pool.Reset[int](nil) },
		"Reset(func(":  func() { pool.New(func() int { return 0 }, pool.Reset(func(string) {})) },
		"Keep(func(":   func() { pool.New(func() int { return 0 }, pool.Keep(func(string) bool { return true })) },
		"Cost(func(":   func() { pool.New(func() int { return 0 }, pool.Cost(func(string) int64 { return 1 }), pool.MaxCost(1)) },
		"OnDrop(func(": func() { pool.New(func() int { return 0 }, pool.OnDrop(func(*int) {})) },
		"Cost(nil)":    func() { pool.Cost[int](nil) },
		"OnDrop(nil)":  func() { pool.OnDrop[int](nil) },
		"MaxCost(0)":   func() { pool.MaxCost(0) },
		"Cost without MaxCost": func() {
			pool.New(func() int { return 0 }, pool.Cost(func(int) int64 { return 1 }))
		},
		"MaxCost(5) without Cost": func() { pool.New(func() int { return 0 }, pool.MaxCost(5)) },
	} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.HasPrefix(msg, "pool: "+name) {
					t.Errorf("%s panicked with %q, want a pool: %s… message", name, msg, name)
				}
			}()
			f()
		}()
	}
}

// TestPoolSurvivesGOMAXPROCSGrowth: Ps beyond the slots made at New use
// the shared tier, and nothing is lost or shared.
func TestPoolSurvivesGOMAXPROCSGrowth(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	p := pool.New(func() *stampedObj { return new(stampedObj) }) // one slot
	// 2 first: P 1, the first P past the slots, surely runs some of it.
	for _, procs := range []int{2, 8} {
		runtime.GOMAXPROCS(procs)
		if shares(p) {
			t.Fatalf("GOMAXPROCS %d: one object handed to two goroutines", procs)
		}
	}
	// Then Puts and Gets in bursts, without yielding, from 16 goroutines
	// on 2 Ps, so some surely run whole on P 1.
	runtime.GOMAXPROCS(2)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 2000 {
				p.Put(new(stampedObj))
				p.Get()
			}
		})
	}
	wg.Wait()
	if s := p.Stats(); s.Gets != 2*8*2000+16*2000 || s.Puts != s.Gets {
		t.Fatalf("Stats() = %+v, want every Get and Put counted", s)
	}
}

// TestOptionsAcceptTheirLimits: the smallest and largest values each
// option allows are accepted (the rejections are in the tests above).
func TestOptionsAcceptTheirLimits(t *testing.T) {
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("a valid option panicked: %v", r)
		}
	}()
	pool.New(func() int { return 0 }, pool.MaxIdle(1), pool.Cost(func(int) int64 { return 1 }), pool.MaxCost(1))
	for _, o := range []pool.BytesOption{
		pool.MaxRetained(1), pool.SizeRange(1, 1), pool.SizeRange(64, 64), pool.SizeRange(1<<30, 1<<30),
	} {
		pool.NewBytes(o)
	}
}
