// Package fanout runs a function over many items at once, with a bound on
// how many run together, results in input order, the first error cancelling
// the rest (or, with [CollectErrors], every error collected), and panics
// delivered to the caller.
//
// It is built for the failures the reference text's case studies describe:
// goroutines spawned before a slot is free (memory blow-ups), per-request
// limits that multiply under load and flood the downstream (use a shared
// [Budget]), and fan-out of work too small to pay for a goroutine. fanout
// starts at most Limit worker goroutines per call, never one per item, and
// measures the first items before it fans out at all: when the whole job is
// too small to pay for a second goroutine it runs as a plain loop on the
// caller's goroutine, and when items are tiny it hands them out in chunks.
//
// For input that does not fit in a slice (a file, a cursor, any iter.Seq),
// [Stream] does the same over an iterator with memory bounded by Limit, not
// by the length of the input, and [Batch] groups a stream into slices by
// size and age (for batched inserts).
//
// # When not to use it
//
// A plain loop is the right tool for a few items or cheap ones; fanout's
// adaptive rule only keeps the loss small: with one P it runs that loop and
// costs about the same, and with more it wins once the items add up to more
// than a goroutine costs (see [Map]). For a handful of tasks of different
// types, [Group] gives the same limits, budget and panic rules with typed
// results ([Spawn]).
//
// # Nothing is lost silently
//
// A task that did not run is reported, a panic reaches the caller (and wins
// over errors), and an fn that calls runtime.Goexit is reported as
// [ErrGoexit]. A fan-out nested in an fn under a Budget runs on that fn's
// unit, so nesting never deadlocks on the Budget and never exceeds it.
package fanout
