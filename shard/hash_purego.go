//go:build breakeven_purego

package shard

import "unsafe"

// memhashLinked is false in the portable build: every key is hashed with
// maphash.Comparable, and memhash is never called (Map.strSeed stays 0).
const memhashLinked = false

func memhash(p unsafe.Pointer, seed, n uintptr) uintptr {
	panic("shard: memhash called in the breakeven_purego build")
}
