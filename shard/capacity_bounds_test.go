package shard_test

import (
	"strings"
	"testing"

	"github.com/breakeven-go/breakeven/shard"
)

// TestWithCapacityBoundsAreInclusive: WithCapacity takes 0 to 2^40 keys
// (2^30 on 32-bit platforms), both ends included, and panics with a
// "shard: " message one step outside.
func TestWithCapacityBoundsAreInclusive(t *testing.T) {
	maxCapacity := 1 << (30 + 10*(^uint(0)>>63))
	shard.WithCapacity(0)
	shard.WithCapacity(maxCapacity)
	for _, n := range []int{-1, maxCapacity + 1} {
		func() {
			defer func() {
				if msg, _ := recover().(string); !strings.HasPrefix(msg, "shard: WithCapacity(") {
					t.Errorf("WithCapacity(%d): panic %q, want a shard: WithCapacity panic", n, msg)
				}
			}()
			shard.WithCapacity(n)
		}()
	}
}

// TestStatsSlotsIsTheTableSize: a shard's Slots is its table's size in
// slots (seven per bucket), at least its Entries, so that Entries/Slots is
// its load factor.
func TestStatsSlotsIsTheTableSize(t *testing.T) {
	m := shard.NewMap[int, int](shard.WithShards(1))
	for i := range 100 {
		m.Store(i, i)
	}
	s := m.Stats().Shards[0]
	if s.Entries != 100 || s.Slots < s.Entries || s.Slots%7 != 0 {
		t.Fatalf("one shard with 100 keys: %+v, want Entries 100 and Slots a multiple of 7, at least 100", s)
	}
}
