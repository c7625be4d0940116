package fanout

import (
	"context"
	"iter"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Stream's bounds. Items travel in chunks: one item per chunk unless fn is
// quick, when a chunk holds as many items as take about streamChunkTime (at
// most maxStreamChunk). A chunk costs a few goroutine hand-offs (reader to
// worker to consumer), which park and wake goroutines, so chunks are longer
// than Map's, whose workers take chunks from an atomic cursor without
// parking. At most Limit + streamWindow chunks are read from the source and
// not yet yielded: Limit running, the rest finished but held behind a
// slower one (ordered) or waiting for the consumer.
const (
	streamWindow    = 2
	streamChunkTime = 50 * time.Microsecond
	maxStreamChunk  = 256
)

// Stream calls fn for each item of items, at most Limit at a time, and yields
// the results in the order of items. Memory stays bounded whatever the
// length of items: at most Limit + 2 chunks of items are read from items and
// not yet yielded, where a chunk is one item unless fn is quick (then it is
// as many items as take some tens of microseconds, at most 256).
//
// Order has a price: a slow item holds back every result behind it, so while
// it runs the other calls finish their chunks and wait, and the stream runs
// at the pace of its slowest item until the window drains. [Unordered]
// yields results as they complete instead.
//
// Nothing runs until the sequence is ranged over; each range runs the whole
// stream again. items is read one item at a time, never further ahead than
// the window (plus the one item the reader holds while it waits for room),
// on a goroutine of Stream's, or with Limit(1) on the consumer's. The
// stream ends:
//
//   - when items ends and every result has been yielded;
//   - when the consumer breaks out of the loop (or its body panics, which
//     passes through unchanged): Stream takes no further item from items
//     (the reader's next yield returns false), cancels the context of the
//     calls in flight and returns only when every goroutine it started has
//     ended. A reader blocked inside items (a source waiting for input) is
//     waited for, since Stream cannot interrupt it: for a source that can
//     block for long, make it watch a ctx and cancel that ctx before
//     breaking out;
//   - at the first error of fn (the first to happen, which in order mode
//     need not be the earliest item's), yielded once as (zero, err);
//     results not yet yielded are dropped;
//   - when ctx is cancelled, with (zero, context.Cause(ctx));
//   - when fn panics (or items does, on Stream's reader goroutine): the
//     panic is recovered, the stream stops, and the consumer's goroutine
//     panics with a *[PanicError], even if another call failed first;
//   - when fn calls runtime.Goexit on one of Stream's goroutines, with
//     (zero, [ErrGoexit]). With Limit(1) fn runs on the consumer's
//     goroutine, and Goexit ends it, as in a plain loop.
//
// fn receives a context derived from ctx, cancelled when the stream ends,
// with the error of the first fn that fails (or its *PanicError) as the
// cause, as in Map. [Limit] (default GOMAXPROCS) and [WithBudget] bound the
// calls in flight as in [Map]; a Budget unit is held only while a chunk
// runs, so an idle or slow stream does not sit on a shared budget. Nesting
// follows [Budget]: a fan-out nested in fn runs on fn's unit, and a Stream
// ranged over in an fn that holds a unit of the same Budget runs its chunks
// on that fn's unit (one chunk at a time) and on whatever other units are
// free, so it never waits for a unit that only its own caller could give
// back. Unlike a nested Map, that fn goes on running while the stream does
// (the loop body), and the Budget counts the two as one: downstream calls
// made in the loop body are not bounded by the Budget.
// [Chunk](n) hands out up to n items at a time instead of the adaptive size;
// [CollectErrors] has no meaning for a stream, and Stream panics on it.
// [Meter] counts items in flight, held and yielded for a metrics page.
//
// Costs: with Limit(1) (and so with the default on one CPU) Stream is a
// plain loop on the consumer's goroutine. Otherwise it starts one goroutine
// that reads items and up to Limit workers, on demand; on tiny items it
// hands them out in chunks so that the hand-off costs a small fraction of
// the work, but a stream of a few tiny items still pays for starting those
// goroutines, which a plain loop does not.
func Stream[T, R any](ctx context.Context, items iter.Seq[T], fn func(context.Context, T) (R, error), opts ...Option) iter.Seq2[R, error] {
	if ctx == nil || items == nil || fn == nil {
		panic("fanout: Stream: nil ctx, items or fn")
	}
	var sc streamConfig
	rest := make([]Option, 0, len(opts))
	for _, o := range opts {
		if so, ok := o.(streamOption); ok {
			so.set(&sc)
			continue
		}
		rest = append(rest, o)
	}
	cfg := newConfig(rest)
	if cfg.collect {
		panic("fanout: Stream(CollectErrors()): CollectErrors applies to Map and ForEach only")
	}
	return func(yield func(R, error) bool) {
		if ctx.Err() != nil {
			var zero R
			yield(zero, context.Cause(ctx))
			return
		}
		if cfg.limit == 1 {
			streamLoop(ctx, items, fn, cfg, sc.meter, yield)
			return
		}
		newStream(ctx, fn, cfg, sc).run(items, yield)
	}
}

// streamConfig holds the options only Stream takes.
type streamConfig struct {
	unordered bool
	meter     *StreamMeter
}

// streamOption is an Option only Stream understands. Stream takes it out of
// the list before the shared options are applied; given to Map or ForEach,
// where it means nothing, it panics there.
type streamOption struct {
	name string
	set  func(*streamConfig)
}

func (o streamOption) apply(*config) {
	panic("fanout: " + o.name + " is an option of Stream only")
}

// Unordered makes Stream yield each result as soon as its chunk completes
// instead of in the order of items, so a slow item holds back nothing.
func Unordered() Option {
	return streamOption{"Unordered()", func(c *streamConfig) { c.unordered = true }}
}

// Meter makes Stream count its items in m while it runs. One StreamMeter
// may serve many streams at once (all the imports of a service): its
// counts are then their sums.
func Meter(m *StreamMeter) Option {
	if m == nil {
		panic("fanout: Meter(nil)")
	}
	return streamOption{"Meter", func(c *streamConfig) { c.meter = m }}
}

// StreamMeter counts the items of the streams given it with [Meter], for a
// /metrics page. The zero value is ready to use; it is safe for concurrent
// use, and must not be copied after first use. Counts move a chunk at a
// time, so they are exact only between chunks.
type StreamMeter struct {
	inFlight, held, yielded atomic.Int64
}

// StreamStats is a snapshot of a StreamMeter.
type StreamStats struct {
	InFlight int64 // items handed to fn and not finished
	Held     int64 // items finished, waiting for an earlier item (ordered) or for the consumer
	Yielded  int64 // results yielded to the consumer, ever
}

// Stats returns a snapshot of the meter's counts.
func (m *StreamMeter) Stats() StreamStats {
	return StreamStats{InFlight: m.inFlight.Load(), Held: m.held.Load(), Yielded: m.yielded.Load()}
}

// streamLoop is Stream with Limit(1): a plain loop on the consumer's
// goroutine. Each fn call enters the Budget (borrowing the unit of an fn
// the stream is nested in, if free) and gives the unit back before its
// result is yielded, so the loop body never holds one.
func streamLoop[T, R any](parent context.Context, items iter.Seq[T], fn func(context.Context, T) (R, error), cfg config, m *StreamMeter, yield func(R, error) bool) {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	mine := cfg.budget.mark(ctx) // fn's ctx: lends fn's unit to fan-out nested in it
	// One deferred recover for the whole loop, not one per item: inFn says
	// whether a panic came from fn (ours to wrap) or from the consumer's
	// loop body or the source (theirs: passed on as it was). u is the unit
	// fn runs on, given back here if fn panics or calls runtime.Goexit.
	var u unit
	inFn := false
	defer func() {
		if !inFn {
			return
		}
		v := recover()
		if m != nil {
			m.inFlight.Add(-1)
		}
		u.exit()
		if v == nil {
			return // fn called runtime.Goexit on the consumer's goroutine: let it go on
		}
		pe := &PanicError{Value: v, Stack: debug.Stack()}
		cancel(pe)
		panic(pe)
	}()
	var zero R
	done := parent.Done()
	for item := range items {
		select {
		case <-done:
			yield(zero, context.Cause(parent))
			return
		default:
		}
		var err error
		if u, err = cfg.budget.enter(ctx); err != nil {
			yield(zero, err)
			return
		}
		if m != nil {
			m.inFlight.Add(1)
		}
		inFn = true
		r, err := fn(mine, item)
		inFn = false
		u.exit()
		if m != nil {
			m.inFlight.Add(-1)
		}
		if err != nil {
			if parent.Err() != nil {
				err = context.Cause(parent) // what fn made of the cancellation does not matter
			}
			cancel(err)
			yield(zero, err)
			return
		}
		if m != nil {
			m.yielded.Add(1)
		}
		if !yield(r, nil) {
			return
		}
	}
}

// chunk is a run of consecutive items and their results.
type chunk[T, R any] struct {
	seq   int // position among the stream's chunks
	items []T
	res   []R
}

// stream is one run of a parallel Stream.
//
// Three kinds of goroutine: the consumer's (run: yields, in order), one
// reader (read: ranges over items, fills chunks) and up to Limit workers
// (work: call fn over a chunk). A chunk goes reader → worker → consumer →
// free list → reader, so the free list, with window chunks in all, is what
// bounds the items held.
//
// A chunk being filled sits in pending, where an idle worker may take it
// before it is full: the reader may be blocked in items for a long time
// (a slow source), and the items it already read must not wait for the next
// one.
type stream[T, R any] struct {
	parent context.Context
	ctx    context.Context // cancelled when the stream ends, with the failure as cause
	cancel context.CancelCauseFunc
	fn     func(context.Context, T) (R, error)
	cfg    config
	sc     streamConfig
	window int

	work  chan *chunk[T, R] // reader → worker: full chunks
	wake  chan struct{}     // reader → idle worker: pending has items
	done  chan *chunk[T, R] // worker → consumer; never blocks (window slots)
	free  chan *chunk[T, R] // consumer → reader; never blocks
	end   chan struct{}     // closed when the reader has read everything
	total int               // chunks read in all, set before end is closed

	mu      sync.Mutex
	pending *chunk[T, R] // the chunk being filled, once it has an item
	closed  bool         // the reader is done: take pending, then stop
	err     error        // first failure

	perItem  atomic.Int64 // ns per item of the last chunk, 0 until known
	held     atomic.Int64 // items this stream added to the meter's Held
	idle     atomic.Int32 // workers waiting for work
	workers  int          // started (reader's count)
	chunks   int          // allocated (reader's count)
	routines sync.WaitGroup
}

func newStream[T, R any](parent context.Context, fn func(context.Context, T) (R, error), cfg config, sc streamConfig) *stream[T, R] {
	ctx, cancel := context.WithCancelCause(parent)
	w := cfg.limit + streamWindow
	return &stream[T, R]{
		parent: parent, ctx: ctx, cancel: cancel, fn: fn, cfg: cfg, sc: sc, window: w,
		work: make(chan *chunk[T, R]),
		wake: make(chan struct{}, 1),
		done: make(chan *chunk[T, R], w),
		free: make(chan *chunk[T, R], w),
		end:  make(chan struct{}),
	}
}

// fail records the stream's first failure and stops it, with err as the
// cause the other calls see on their ctx (as in Map). An error after ctx
// was cancelled is taken for the cancellation, whatever fn made of it; the
// first panic is always kept, and wins over an earlier error, as in Map.
func (s *stream[T, R]) fail(err error) {
	_, isPanic := err.(*PanicError)
	s.mu.Lock()
	_, hadPanic := s.err.(*PanicError)
	if isPanic && !hadPanic || s.err == nil && s.parent.Err() == nil {
		s.err = err
	}
	s.mu.Unlock()
	s.cancel(err)
}

// run is the consumer's side: it yields finished chunks in order (or as
// they come) and returns once every goroutine of the stream has ended.
func (s *stream[T, R]) run(items iter.Seq[T], yield func(R, error) bool) {
	s.routines.Add(1)
	go s.read(items)
	defer func() {
		s.cancel(nil)
		s.routines.Wait()
		if m := s.sc.meter; m != nil {
			m.held.Add(-s.held.Load()) // dropped, not yielded
		}
	}()
	var ring []*chunk[T, R] // finished chunks by seq % window, ordered only
	if !s.sc.unordered {
		ring = make([]*chunk[T, R], s.window)
	}
	next := 0 // ordered: seq of the next chunk to yield; unordered: chunks yielded
	end := s.end
	ended := false
	stopped := s.ctx.Done()
	for !ended || next < s.total {
		select {
		case c := <-s.done:
			if s.ctx.Err() != nil {
				s.stop(yield)
				return
			}
			if ring == nil {
				if !s.yieldChunk(c, yield) {
					return
				}
				next++
				continue
			}
			ring[c.seq%s.window] = c
			for {
				c := ring[next%s.window]
				if c == nil || c.seq != next {
					break
				}
				ring[next%s.window] = nil
				if !s.yieldChunk(c, yield) {
					return
				}
				next++
			}
		case <-end:
			ended, end = true, nil
		case <-stopped:
			s.stop(yield)
			return
		}
	}
}

// stop ends a stream that failed or whose ctx was cancelled: the goroutines
// end first, then the consumer gets the error once, or the panic.
func (s *stream[T, R]) stop(yield func(R, error) bool) {
	s.cancel(nil)
	s.routines.Wait()
	s.mu.Lock()
	err := s.err
	s.mu.Unlock()
	if err == nil {
		err = context.Cause(s.parent)
	}
	if pe, ok := err.(*PanicError); ok {
		panic(pe)
	}
	var zero R
	yield(zero, err)
}

// yieldChunk yields c's results and returns c to the free list; false if
// the consumer stopped.
func (s *stream[T, R]) yieldChunk(c *chunk[T, R], yield func(R, error) bool) bool {
	m, n := s.sc.meter, len(c.items)
	yielded := 0 // results the loop body got
	if m != nil {
		m.held.Add(-int64(n))
		s.held.Add(-int64(n))
		// By defer, so that a loop body that panics is counted too.
		defer func() { m.yielded.Add(int64(yielded)) }()
	}
	for yielded < n {
		r := c.res[yielded]
		yielded++
		if !yield(r, nil) {
			return false
		}
	}
	clear(c.items) // let the GC have what the items point to
	clear(c.res)
	c.items, c.res = c.items[:0], c.res[:0]
	s.free <- c
	return true
}

// read ranges over items, filling chunks and handing them to workers.
func (s *stream[T, R]) read(items iter.Seq[T]) {
	defer s.routines.Done()
	defer func() {
		if v := recover(); v != nil {
			s.fail(&PanicError{Value: v, Stack: debug.Stack()})
		} else if s.ctx.Err() == nil && !s.readAll() {
			s.fail(errItemsGoexit)
		}
	}()
	var cur *chunk[T, R] // the chunk being filled, nil if none
	seq, size := 0, 1
	stopped := s.ctx.Done()
	for item := range items {
		// Stopped (the consumer broke out, or a call failed): read no
		// further. Without this check a reader blocked in items when the
		// stream stopped would go on filling and handing out chunks, up to
		// the whole window, once items came back.
		select {
		case <-stopped:
			return
		default:
		}
		s.mu.Lock()
		if cur != nil && s.pending != cur {
			cur = nil // an idle worker took it
		}
		fresh := cur == nil
		if fresh {
			s.mu.Unlock()
			if cur = s.newChunk(); cur == nil {
				return // stopped
			}
			cur.seq, seq = seq, seq+1
			size = s.chunkSize()
			if cap(cur.items) < size {
				cur.items = make([]T, 0, size) // once, not by doubling from one
			}
			s.mu.Lock()
		}
		cur.items = append(cur.items, item)
		full := len(cur.items) >= size
		if full {
			s.pending = nil
		} else {
			s.pending = cur
		}
		s.mu.Unlock()
		if full {
			if !s.dispatch(cur) {
				return
			}
			cur = nil
		} else if fresh {
			s.offer()
		}
	}
	s.mu.Lock()
	s.closed = true
	s.total = seq
	s.mu.Unlock()
	close(s.end)
	close(s.work) // idle workers take pending, if any, and end
}

// readAll reports that the reader got to the end of items.
func (s *stream[T, R]) readAll() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// chunkSize is how many items the next chunk takes: what runs in about
// streamChunkTime at the last measured cost per item.
func (s *stream[T, R]) chunkSize() int {
	if s.cfg.chunk > 0 {
		return s.cfg.chunk
	}
	p := s.perItem.Load()
	if p <= 0 {
		return 1
	}
	return int(max(1, min(int64(streamChunkTime)/p, maxStreamChunk)))
}

// newChunk returns a free chunk, waiting for one if all window chunks are
// out; nil if the stream stopped.
func (s *stream[T, R]) newChunk() *chunk[T, R] {
	select {
	case c := <-s.free:
		return c
	default:
	}
	if s.chunks < s.window {
		s.chunks++
		return &chunk[T, R]{}
	}
	select {
	case c := <-s.free:
		return c
	case <-s.ctx.Done():
		return nil
	}
}

// dispatch hands a full chunk to an idle worker, a new one while there are
// fewer than Limit, or else the first to become free; false if the stream
// stopped.
func (s *stream[T, R]) dispatch(c *chunk[T, R]) bool {
	select {
	case s.work <- c:
		return true
	default:
	}
	if s.idle.Load() == 0 && s.workers < s.cfg.limit {
		s.workers++
		s.routines.Add(1)
		go s.worker(c)
		return true
	}
	select {
	case s.work <- c:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// offer tells the workers that pending has items: it starts one if none is
// idle and fewer than Limit run, else wakes an idle one. The wake token
// stays in its buffer if no worker is parked yet, so a worker that checked
// pending just before the item went in still sees it.
func (s *stream[T, R]) offer() {
	if s.idle.Load() == 0 && s.workers < s.cfg.limit {
		s.workers++
		s.routines.Add(1)
		go s.worker(nil)
		return
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// takePending takes the chunk being filled, if it has items; last reports
// that the reader is done and nothing is left.
func (s *stream[T, R]) takePending() (c *chunk[T, R], last bool) {
	s.mu.Lock()
	c, s.pending = s.pending, nil
	last = c == nil && s.closed
	s.mu.Unlock()
	return c, last
}

// worker runs chunks until the reader is done or the stream stops; c, if
// not nil, is its first.
func (s *stream[T, R]) worker(c *chunk[T, R]) {
	defer s.routines.Done()
	// fn's ctx, marked once per worker: while a chunk runs this worker
	// holds a unit of the Budget, and a fan-out nested in fn borrows it.
	mine := s.cfg.budget.mark(s.ctx)
	work := s.work
	for {
		if c == nil {
			var last bool
			if c, last = s.takePending(); last {
				return
			}
		}
		if c == nil {
			s.idle.Add(1)
			select {
			case next, ok := <-work:
				c = next
				if !ok {
					work = nil // closed: what is left is in pending
				}
			case <-s.wake:
			case <-s.ctx.Done():
				s.idle.Add(-1)
				return
			}
			s.idle.Add(-1)
			continue
		}
		if !s.runChunk(mine, c) {
			return
		}
		s.done <- c
		c = nil
	}
}

// runChunk calls fn with ctx over c's items into c.res; false if the
// stream failed or stopped meanwhile. It holds a unit of the Budget, if
// any, while the chunk runs: its own, or the unit of the fn the stream is
// nested in (enter looks at s.ctx, which carries that fn's mark, not at
// ctx, which carries this worker's), given back by defer whether fn
// returns, panics or calls runtime.Goexit.
func (s *stream[T, R]) runChunk(ctx context.Context, c *chunk[T, R]) (ok bool) {
	n := len(c.items)
	if b := s.cfg.budget; b != nil {
		u, err := b.enter(s.ctx)
		if err != nil {
			return false
		}
		defer u.exit()
	}
	m := s.sc.meter
	if m != nil {
		m.inFlight.Add(int64(n))
	}
	returned := false
	defer func() {
		if m != nil {
			m.inFlight.Add(-int64(n))
		}
		if returned {
			return
		}
		if v := recover(); v != nil {
			s.fail(&PanicError{Value: v, Stack: debug.Stack()})
		} else {
			s.fail(ErrGoexit)
		}
	}()
	if cap(c.res) < n {
		c.res = make([]R, n, cap(c.items))
	}
	c.res = c.res[:n]
	done := s.ctx.Done()
	start := time.Now()
	for i, item := range c.items {
		select {
		case <-done:
			returned = true
			return false
		default:
		}
		r, err := s.fn(ctx, item)
		if err != nil {
			returned = true
			s.fail(err)
			return false
		}
		c.res[i] = r
	}
	s.perItem.Store(max(1, int64(time.Since(start))/int64(n)))
	if m != nil {
		m.held.Add(int64(n))
		s.held.Add(int64(n))
	}
	returned = true
	return true
}
