package shard

import (
	"hash/maphash"
	"reflect"
	"unsafe"

	"github.com/cespare/xxhash/v2"
)

// hasherFor picks the key hash once, when the map is built: xxhash for keys
// whose underlying type is string (the common case, and xxhash is fast on
// short strings), hash/maphash.Comparable for every other comparable key.
// Both are seeded per map, so which keys share a shard differs from map to
// map and from run to run, and a client cannot aim many keys at one shard.
func hasherFor[K comparable]() func(K) uint64 {
	seed := maphash.MakeSeed()
	if reflect.TypeFor[K]().Kind() == reflect.String {
		salt := maphash.Comparable(seed, 0)
		return func(k K) uint64 {
			// K's underlying type is string, so its memory is a string
			// header; this reads named string types without copying.
			s := *(*string)(unsafe.Pointer(&k))
			return mix(xxhash.Sum64String(s) ^ salt)
		}
	}
	return func(k K) uint64 { return maphash.Comparable(seed, k) }
}

// mix spreads every input bit into the high bits, which pick the shard
// (Fibonacci hashing); xxhash is unseeded, and the xor with the salt alone
// would leave its high bits unchanged.
func mix(h uint64) uint64 { return h * 0x9E3779B97F4A7C15 }
