package pool_test

import (
	"bytes"
	"fmt"

	"github.com/breakeven-go/breakeven/pool"
)

func ExampleNew() {
	buffers := pool.New(func() *bytes.Buffer { return new(bytes.Buffer) },
		pool.Reset(func(b *bytes.Buffer) { b.Reset() }), // Get never sees old contents
		pool.MaxIdle(64))
	b := buffers.Get()
	b.WriteString("hello")
	fmt.Println(b.String())
	buffers.Put(b)
	fmt.Println(buffers.Get().Len())
	// Output:
	// hello
	// 0
}

func ExampleKeep() {
	buffers := pool.New(func() *bytes.Buffer { return new(bytes.Buffer) },
		pool.Keep(func(b *bytes.Buffer) bool { return b.Cap() <= 64<<10 })) // drop buffers that grew past 64 KiB
	b := buffers.Get()
	b.Grow(1 << 20)
	buffers.Put(b)
	fmt.Println(buffers.Stats().Drops)
	// Output: 1
}

func ExampleNewBytes() {
	bufs := pool.NewBytes(pool.MaxRetained(16 << 20)) // keep at most 16 MiB
	b := bufs.Get(1500)
	fmt.Println(len(b), cap(b))
	bufs.Put(b)
	// Output: 1500 2048
}

func ExampleBytes_Stats() {
	bufs := pool.NewBytes()
	for range 3 {
		b := bufs.Get(4096)
		bufs.Put(b)
	}
	_ = bufs.Get(4096) // never put back
	s := bufs.Stats()
	fmt.Println(s.Gets, s.Puts, s.News, s.Outstanding)
	// Output: 4 3 1 1
}

func ExampleMaxRetained() {
	bufs := pool.NewBytes(pool.MaxRetained(1 << 20))
	held := make([][]byte, 8)
	for i := range held {
		held[i] = bufs.Get(512 << 10)
	}
	for _, b := range held {
		bufs.Put(b)
	}
	fmt.Println(bufs.Stats().Retained <= 1<<20)
	// Output: true
}

func ExampleSizeRange() {
	bufs := pool.NewBytes(pool.SizeRange(256, 64<<10))
	b := bufs.Get(100 << 10) // above the largest class: allocated exactly, never pooled
	fmt.Println(cap(b))
	bufs.Put(b)
	fmt.Println(bufs.Stats().Drops)
	// Output:
	// 102400
	// 1
}

func ExampleMaxIdle() {
	// Keep at most 2 idle objects: a burst of 10 leaves 2 behind, not 10.
	p := pool.New(func() *bytes.Buffer { return new(bytes.Buffer) }, pool.MaxIdle(2))
	var bufs []*bytes.Buffer
	for range 10 {
		bufs = append(bufs, p.Get())
	}
	for _, b := range bufs {
		p.Put(b)
	}
	fmt.Println("idle:", p.Stats().Idle)
	// Output: idle: 2
}

func ExampleReset() {
	p := pool.New(func() *bytes.Buffer { return new(bytes.Buffer) },
		pool.Reset(func(b *bytes.Buffer) { b.Reset() }))
	b := p.Get()
	b.WriteString("secret")
	p.Put(b)
	fmt.Printf("%q\n", p.Get().String()) // never the previous user's data
	// Output: ""
}

func ExampleBytes() {
	var bufs pool.Bytes // the zero value is ready to use, with NewBytes' defaults
	b := bufs.Get(10)
	fmt.Println(len(b), cap(b)) // sizes up to 64 bytes come from the 64-byte class
	bufs.Put(b)
	fmt.Println(cap(bufs.Get(50)))
	// Output:
	// 10 64
	// 64
}

// file stands for a resource that must be closed when the pool drops it.
type file struct{ name string }

func (f *file) Close() { fmt.Println("closed", f.name) }

func ExampleOnDrop() {
	files := pool.New(func() *file { return &file{} },
		pool.MaxIdle(1),
		pool.OnDrop(func(f *file) { f.Close() })) // close what the pool does not keep
	a, b := files.Get(), files.Get()
	a.name, b.name = "a", "b"
	files.Put(a) // kept
	files.Put(b) // over MaxIdle: dropped, and closed
	// Output: closed b
}

func ExampleCost() {
	// Bound the bytes of the idle buffers, not their number: one buffer
	// that grew to 1 MiB would otherwise stay pinned in the pool.
	buffers := pool.New(func() *bytes.Buffer { return new(bytes.Buffer) },
		pool.Cost(func(b *bytes.Buffer) int64 { return int64(b.Cap()) }),
		pool.MaxCost(256<<10))
	b := buffers.Get()
	b.Grow(1 << 20)
	buffers.Put(b) // costs more than the bound: dropped
	fmt.Println(buffers.Stats().Drops, buffers.Stats().IdleCost)
	// Output: 1 0
}

func ExampleMaxCost() {
	buffers := pool.New(func() *bytes.Buffer { return new(bytes.Buffer) },
		pool.Cost(func(b *bytes.Buffer) int64 { return int64(b.Cap()) }),
		pool.MaxCost(1<<20)) // at most 1 MiB of idle buffers
	for range 100 {
		buffers.Put(bytes.NewBuffer(make([]byte, 0, 64<<10)))
	}
	fmt.Println(buffers.Stats().IdleCost <= 1<<20)
	// Output: true
}

func ExamplePool_Stats() {
	p := pool.New(func() *bytes.Buffer { return new(bytes.Buffer) })
	b := p.Get() // nothing idle yet: built by newFn
	p.Put(b)
	_ = p.Get() // handed out and never put back
	s := p.Stats()
	fmt.Println(s.Gets, s.Puts, s.Outstanding)
	// Output: 2 1 1
}
