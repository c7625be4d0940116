package shard

import (
	"hash/maphash"
	"unsafe"
)

// hash returns k's hash under the map's seed: the runtime's own seeded
// hash for K (for strings, AES-based where the CPU has it), which mixes
// every bit of the seed into every bit of the result. So which keys share
// a shard or a bucket is decided by a random seed drawn per map: keys
// chosen offline, without the seed, spread like random keys in every map of
// every process.
//
// Keys of a string type are hashed by the runtime's memhash directly (see
// stringHash), others by maphash.Comparable. Comparable reaches the same
// hash through the generic dictionary, the map type built for K, its
// hasher field and an indirect call: loads that Load's chain waits on
// before the hash even starts, and, with the shard's table reference
// chosen by the hash (see Map), that wait is on every lookup's critical
// path. Load, LoadOrCompute and writeHash write this method out (marked
// "m.hash(k)"): the compiler does not inline one method of a generic type
// into another (go test -gcflags=-m lists no such inlining).
//
// An earlier version hashed strings with unseeded xxhash, xored a salt in and
// multiplied: the low bits of the result, which pick the bucket, depended
// only on the low bits of the unseeded hash, so keys sharing those bits
// (found once, offline) shared a bucket everywhere. TestMapSpreadsCollidingKeys
// builds such keys.
func (m *Map[K, V]) hash(k K) uint64 {
	if m.strSeed != 0 {
		return stringHash(*(*string)(unsafe.Pointer(&k)), m.strSeed)
	}
	return maphash.Comparable(m.seed, k)
}

// stringHash is s's hash with seed: the runtime's memhash, which
// maphash.String also ends in, called directly. Only with memhashLinked.
func stringHash(s string, seed uintptr) uint64 {
	return uint64(memhash(unsafe.Pointer(unsafe.StringData(s)), seed, uintptr(len(s))))
}
