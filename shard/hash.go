package shard

import (
	"hash/maphash"
	"unsafe"
)

// hash returns k's hash under the map's seed. String keys (any type whose
// underlying type is string) go through maphash.String, the runtime's own
// seeded string hash (AES-based where the CPU has it); other keys through
// maphash.Comparable. Both mix every bit of the seed into every bit of the
// result, so which keys share a shard or a bucket is decided by a random
// seed drawn per map: keys chosen offline, without the seed, spread like
// random keys in every map of every process.
//
// An earlier version hashed strings with unseeded xxhash, xored a salt in and
// multiplied: the low bits of the result, which pick the bucket, depended
// only on the low bits of the unseeded hash, so keys sharing those bits
// (found once, offline) shared a bucket everywhere. TestMapSpreadsCollidingKeys
// builds such keys.
func (m *Map[K, V]) hash(k K) uint64 {
	if m.strKeys {
		// K's underlying type is string, so its memory is a string header;
		// this reads named string types without copying.
		return maphash.String(m.seed, *(*string)(unsafe.Pointer(&k)))
	}
	return maphash.Comparable(m.seed, k)
}
