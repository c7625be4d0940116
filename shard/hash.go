package shard

import "hash/maphash"

// hash returns k's hash under the map's seed: maphash.Comparable, the
// runtime's own seeded hash for K (for strings, AES-based where the CPU has
// it), which mixes every bit of the seed into every bit of the result. So
// which keys share a shard or a bucket is decided by a random seed drawn per
// map: keys chosen offline, without the seed, spread like random keys in
// every map of every process.
//
// maphash.Comparable, not maphash.String, even for string keys: it inlines
// into the caller and reaches the runtime's string hash in one call, where
// maphash.String takes three, which Load pays for on every lookup. Load,
// LoadOrCompute and writeHash write this call out (marked "m.hash(k)"):
// the compiler does not inline hash into them, one method of a generic
// type into another (go test -gcflags=-m lists no such inlining).
//
// An earlier version hashed strings with unseeded xxhash, xored a salt in and
// multiplied: the low bits of the result, which pick the bucket, depended
// only on the low bits of the unseeded hash, so keys sharing those bits
// (found once, offline) shared a bucket everywhere. TestMapSpreadsCollidingKeys
// builds such keys.
func (m *Map[K, V]) hash(k K) uint64 {
	return maphash.Comparable(m.seed, k)
}
