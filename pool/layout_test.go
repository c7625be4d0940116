package pool

import (
	"testing"
	"unsafe"
)

// TestSlotPadding: per-P slots tile their slices in whole pads, so two
// slots' locks and counters never share a cache line.
func TestSlotPadding(t *testing.T) {
	for name, size := range map[string]uintptr{
		"bytesSlot":         unsafe.Sizeof(bytesSlot{}),
		"poolSlot[*int]":    unsafe.Sizeof(poolSlot[*int]{}),
		"poolSlot[[4]int]":  unsafe.Sizeof(poolSlot[[4]int]{}),
		"poolSlot[[]byte]":  unsafe.Sizeof(poolSlot[[]byte]{}),
		"poolSlot[float64]": unsafe.Sizeof(poolSlot[float64]{}),
	} {
		if size%pad != 0 {
			t.Errorf("%s is %d bytes, not a multiple of %d", name, size, pad)
		}
	}
}
