package shard_test

import (
	"math"
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

// TestWithCapacityLeavesRoomForTheSpread: the first table WithCapacity(n)
// builds holds, under the load limit (7/8 of the slots), each shard's mean
// share of n plus five standard deviations (keys fall into shards like balls
// into bins), for every n up to a few thousand: so a map filled to its hint
// grows only if a shard draws more than five deviations above its mean;
// and not much more than that (the table is not oversized for the hint).
func TestWithCapacityLeavesRoomForTheSpread(t *testing.T) {
	for _, shards := range []int{1, 4} {
		for n := 1; n <= 4000; n++ {
			m := shard.NewMap[int, int](shard.WithShards(shards), shard.WithCapacity(n))
			m.Store(0, 0) // builds one shard's table
			slots := 0
			for _, s := range m.Stats().Shards {
				slots = max(slots, s.Slots)
			}
			mean := float64(n) / float64(shards)
			need := mean + 5*math.Sqrt(mean)
			if room := float64(slots * 7 / 8); room < need || room > 2*need+2*7*7 {
				t.Fatalf("WithShards(%d), WithCapacity(%d): %d slots hold %.0f keys under the load limit, want at least %.1f (mean %.1f plus five deviations) and not twice that (the table size rounds up to a power of two, at least two buckets)",
					shards, n, slots, room, need, mean)
			}
		}
	}
}
