//go:build !breakeven_purego

package pin

import _ "unsafe" // for go:linkname

// procPin and procUnpin are the runtime's own per-P pinning, the mechanism
// sync.Pool is built on. The runtime keeps them available to linkname on
// purpose (go.dev/issue/67401). While pinned the goroutine cannot be
// preempted or moved to another P, so the returned id names the P it runs on.
//
// Trade-off: this is the only way to learn the current P without a system
// call, and it lets per-CPU structures write a slot no other P writes. The price is a
// dependency on a runtime internal that a future Go release could withdraw.
// Build with -tags breakeven_purego to use the portable hash in
// pin_purego.go instead; CI runs the tests both ways.

//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()

// Exact reports whether Index is the current P's id (true here) or only a
// per-goroutine hash (the portable build).
const Exact = true

// Index returns the current P's id, in [0, GOMAXPROCS), and pins the
// goroutine to that P until Unpin: no preemption, no other goroutine on
// that P. Call Unpin promptly and do not block, lock or allocate much in
// between.
func Index() int { return procPin() }

// Unpin ends the pin Index started.
func Unpin() { procUnpin() }
