// Package pin tells a goroutine which P (logical CPU) it runs on and keeps
// it there for a moment, so per-CPU structures (shard.Counter, pool's
// per-P caches) can write a slot no other CPU writes.
//
// The default build uses the runtime's own procPin (pin_runtime.go); the
// breakeven_purego build tag swaps in a portable per-goroutine hash
// (pin_purego.go) that approximates it. Callers use Exact and Owned to
// choose between a plain write to their slot and an atomic or locked one.
package pin

// Owned reports whether a pinned goroutine may update its P's slot with
// plain reads and writes. It holds when three things do:
//
//   - Exact: Index is the current P's id and the goroutine stays on that P
//     until Unpin, so no other goroutine runs there and touches the slot
//     meanwhile: each slot has one writer at a time, provided every write
//     to it happens pinned, by its own P;
//   - a 64-bit platform: the Go memory model guarantees that a racing read
//     of a word-sized location observes some complete write, so another
//     goroutine reading a counter word atomically never sees it torn;
//   - not the race detector: it cannot see the ordering pinning gives and
//     would (by the letter of the model) report the plain accesses, so race
//     builds take the atomic or locked path everywhere.
const Owned = Exact && !Race && ^uint(0)>>63 == 1
