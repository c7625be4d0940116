// Package breakeven is the map of a library of production concurrency
// primitives, each shipped beside the plain baseline it replaces and a
// benchmark that shows where it wins and where it loses on your hardware.
//
// Concurrency machinery must earn its keep. On most services most of the
// time, a sync.Mutex, an atomic, or a plain loop is fast enough, simpler, and
// easier to reason about; the primitives here pay only past a measurable
// point (enough goroutines hitting one cache line, enough per-item work to
// amortise a goroutine). Measure first:
//
//	go run github.com/breakeven-go/breakeven/cmd/breakeven@latest
//
// runs every suite on the machine at hand and prints, for each primitive, its
// cost against its baseline from 1 goroutine to twice GOMAXPROCS and the
// point where it starts to win.
//
// # Which primitive when
//
//   - [github.com/breakeven-go/breakeven/shard.Counter]: a counter that
//     goroutines on several CPUs increment at once (request or byte counts on
//     a hot path). Not when reads are about as frequent as writes, when an
//     exact value at an instant matters, or for thousands of counters: use
//     atomic.Int64.
//
//   - [github.com/breakeven-go/breakeven/shard.Map]: a read-mostly map read
//     by many goroutines (lock-free reads beat a map under a sync.RWMutex
//     once several goroutines read). Not for write-heavy maps on few cores
//     or a single goroutine, where the RWMutex map costs less.
//
//   - [github.com/breakeven-go/breakeven/cow.Value] and
//     [github.com/breakeven-go/breakeven/cow.Map]: configuration and other
//     read-mostly data read on every request (a read is one atomic load, a
//     small fraction of an RWMutex map's under contention). Not when writes
//     are frequent or the map is large: every write copies it.
//
//   - [github.com/breakeven-go/breakeven/fanout.Map] and
//     [github.com/breakeven-go/breakeven/fanout.ForEach]: run a slice of
//     independent calls a bounded number at a time, results in order, the
//     first error cancelling the rest; [github.com/breakeven-go/breakeven/fanout.NewBudget]
//     caps fan-out across every request of a service. A job too small to
//     pay for a goroutine runs as a plain loop.
//     [github.com/breakeven-go/breakeven/fanout.Stream] does the same over an
//     iter.Seq of any length with bounded memory, results in order, and
//     [github.com/breakeven-go/breakeven/fanout.Batch] groups a stream into
//     bounded batches (size or time).
//
//   - [github.com/breakeven-go/breakeven/pool.Bytes] and
//     [github.com/breakeven-go/breakeven/pool.Pool]: reuse buffers and costly
//     objects with a hard bound on the memory kept, where sync.Pool keeps
//     everything until two collections pass. Not on cold paths or for small
//     objects, where make per call is as fast and simpler.
//
//   - [github.com/breakeven-go/breakeven/ratelimit.New] and
//     [github.com/breakeven-go/breakeven/ratelimit.NewKeyed]: rate limits
//     that stay exact under contention, per-key limits with bounded memory,
//     and HTTP middleware. Create them at the scope of what they protect,
//     never per handler or per request.
//
//   - [github.com/breakeven-go/breakeven/hedge.Do]: hedge idempotent calls to
//     a backend with a slow tail; a Budget bounds the extra load. Not for
//     overloaded backends, where hedges add to the problem.
//
//   - [github.com/breakeven-go/breakeven/shed.Middleware] with
//     [github.com/breakeven-go/breakeven/shed.NewAdaptive]: reject at the door
//     when offered more than capacity, with 503 and Retry-After, learning
//     the limit from latency. Not for work that should queue.
//
// Each package doc names its baseline and the regime where the baseline is
// the better choice; the numbers are in BENCHMARKS.md, written by
// scripts/benchmarks.sh from one run, and on your machine in the report.
//
// # One convention
//
// Every package follows the same API rules (constructor and option names,
// error hooks, failure policies, zero values, Stats): CONTRIBUTING.md in the
// repository states them.
package breakeven
