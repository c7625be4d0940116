//go:build breakeven_purego

package pin

import "unsafe"

// The portable build cannot ask which P it runs on. It stripes by goroutine
// instead: the address of a local variable lies in the calling goroutine's
// stack, so it is stable for that goroutine (until its stack grows and moves)
// and different for others. Hashing it spreads goroutines over the cells.
// Two goroutines may land on one slot, so callers must use atomics or
// locks (Exact, and so Owned, is false); the result is a large number, to be
// reduced with a mask.

// Exact is false: Index is a per-goroutine hash, not a P id.
const Exact = false

// stackShift drops the low bits that vary within one goroutine's stack frames
// (the minimum stack is 2 KiB, and frames of Add's callers differ by less).
const stackShift = 11

// Index returns a hash of the calling goroutine; it pins nothing.
func Index() int {
	var local byte
	h := uint64(uintptr(unsafe.Pointer(&local)) >> stackShift)
	// Fibonacci hashing: multiply by 2^64/phi and keep the high bits, which
	// mix all the input bits.
	return int((h * 0x9E3779B97F4A7C15) >> 32)
}

// Unpin does nothing in the portable build.
func Unpin() {}
