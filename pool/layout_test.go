package pool

import (
	"runtime"
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

// TestSharesAddUpToTheBound: the per-P shares and the shared tier's add
// up to exactly MaxRetained (and MaxIdle, MaxCost), half of it spread over
// the slots, at any slot count; a wrong split would loosen the bound only
// on machines with several Ps.
func TestSharesAddUpToTheBound(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 3, 4, 8} {
		runtime.GOMAXPROCS(procs)
		n := slotCount()
		b := NewBytes(MaxRetained(1 << 20))
		p := New(func() *int { return new(int) }, MaxIdle(1000),
			Cost(func(*int) int64 { return 1 }), MaxCost(5000))
		if len(b.slots) != n || len(p.slots) != n || n < procs || n >= 2*procs {
			t.Fatalf("GOMAXPROCS %d: %d and %d slots, want %d", procs, len(b.slots), len(p.slots), n)
		}
		var bytes, idle, cost int64
		for i := range b.slots {
			if b.slots[i].share != (1<<20)/int64(2*n) || p.slots[i].max != 1000/(2*n) || p.slots[i].maxCost != 5000/int64(2*n) {
				t.Fatalf("GOMAXPROCS %d: slot %d shares %d, %d, %d; want half the bounds spread over %d slots",
					procs, i, b.slots[i].share, p.slots[i].max, p.slots[i].maxCost, n)
			}
			bytes += b.slots[i].share
			idle += int64(p.slots[i].max)
			cost += p.slots[i].maxCost
		}
		bytes += b.shared.share
		idle += int64(p.shared.max)
		cost += p.shared.maxCost
		if bytes != 1<<20 || idle != 1000 || cost != 5000 {
			t.Fatalf("GOMAXPROCS %d: shares add up to %d bytes, %d idle, %d cost; want 1 MiB, 1000, 5000", procs, bytes, idle, cost)
		}
	}
}
