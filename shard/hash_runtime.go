//go:build !breakeven_purego

package shard

import "unsafe"

// memhashLinked says memhash is the runtime's: string keys are hashed with
// it (see hash).
const memhashLinked = true

// memhash is the runtime's seeded hash of n bytes at p, the one its maps
// and hash/maphash use. The runtime keeps it available to linkname on
// purpose (go.dev/issue/67401; xsync v2 and v3 among its users). Build
// with -tags breakeven_purego to hash every key with maphash.Comparable
// instead; CI runs the tests both ways.
//
//go:linkname memhash runtime.memhash
//go:noescape
func memhash(p unsafe.Pointer, seed, n uintptr) uintptr
