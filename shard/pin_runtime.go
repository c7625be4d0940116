//go:build !breakeven_purego

package shard

import _ "unsafe" // for go:linkname

// procPin and procUnpin are the runtime's own per-P pinning, the mechanism
// sync.Pool is built on. The runtime keeps them available to linkname on
// purpose (go.dev/issue/67401). While pinned the goroutine cannot be
// preempted or moved to another P, so the returned id names the P it runs on.
//
// Trade-off: this is the only way to learn the current P without a system
// call, and it makes Add write a cell no other P writes. The price is a
// dependency on a runtime internal that a future Go release could withdraw.
// Build with -tags breakeven_purego to use the portable striping in
// pin_purego.go instead; CI runs the tests both ways.

//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()

// pinned reports whether cellIndex follows the current P (true here) or only
// approximates it (the portable build).
const pinned = true

// cellIndex returns the index of the cell the caller should write and pins
// the goroutine to its P until unpin is called.
func cellIndex() int { return procPin() }

func unpin() { procUnpin() }
