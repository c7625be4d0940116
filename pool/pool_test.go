package pool_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"

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
	if s.Idle > 4 || s.Idle == 0 || s.Drops != 101-uint64(s.Idle) {
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

func TestPoolNeverSharesAnObject(t *testing.T) {
	type obj struct{ owner int }
	p := pool.New(func() *obj { return new(obj) }, pool.MaxIdle(8))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for range 5000 {
				o := p.Get()
				o.owner = g
				if o.owner != g {
					t.Error("object shared between goroutines")
					return
				}
				p.Put(o)
			}
		})
	}
	wg.Wait()
	if s := p.Stats(); s.Outstanding != 0 || s.Gets != 40000 {
		t.Fatalf("Stats() = %+v", s)
	}
}

func TestPoolOptionsRejectBadValues(t *testing.T) {
	for name, f := range map[string]func(){
		"MaxIdle(0)":  func() { pool.MaxIdle(0) },
		"New(nil)":    func() { pool.New[int](nil) },
		"Reset(nil)":  func() { pool.Reset[int](nil) },
		"Reset(func(": func() { pool.New(func() int { return 0 }, pool.Reset(func(string) {})) },
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
