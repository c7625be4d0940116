package shard

import (
	"reflect"
	"sync/atomic"
	"unsafe"
)

// valueCell holds an entry's value. For most value types it is written once,
// before the entry is published, and never again. For word-sized values
// (see wordKindOf) an overwrite writes the new value into the cell in place
// with one atomic store, and lock-free readers load it with one atomic load:
// that is what keeps an overwrite from allocating a new entry. The zero-size
// array makes the cell 8-byte aligned, which 64-bit atomics need.
type valueCell[V any] struct {
	_ [0]uint64
	v V
}

// wordKind says how a value type's cell is read and written.
type wordKind uint8

const (
	wordNone    wordKind = iota // larger than a word: immutable, replaced by a new entry on overwrite
	wordBits                    // at most 8 bytes holding no pointer: atomic 64-bit load and store
	wordPointer                 // exactly one pointer: atomic pointer load and store (with the GC's write barrier)
)

// wordKindOf classifies V. Only 64-bit platforms update in place: elsewhere
// a uint64 is not guaranteed the alignment its atomics need, and pointers
// are half a word.
func wordKindOf[V any]() wordKind {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		return wordNone
	}
	t := reflect.TypeFor[V]()
	if t.Size() == 0 || t.Size() > 8 {
		return wordNone // nothing to write, or more than a word
	}
	switch ptrs := pointerWords(t); {
	case ptrs == 0:
		return wordBits
	case ptrs == 1 && t.Size() == 8:
		return wordPointer
	}
	return wordNone
}

// pointerWords counts the pointer-holding words of a type of at most 8
// bytes: 0, 1, or -1 when it cannot tell (then the cell stays immutable).
func pointerWords(t reflect.Type) int {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64:
		return 0
	case reflect.Pointer, reflect.UnsafePointer, reflect.Map, reflect.Chan, reflect.Func:
		return 1
	case reflect.Array:
		if t.Len() == 0 {
			return 0
		}
		n := pointerWords(t.Elem())
		if n <= 0 || t.Len() == 1 {
			return n
		}
		return -1
	case reflect.Struct:
		n := 0
		for i := range t.NumField() {
			f := pointerWords(t.Field(i).Type)
			if f < 0 {
				return -1
			}
			n += f
		}
		return n
	}
	return -1
}

// load reads the cell; readers without the shard lock must use it.
func (c *valueCell[V]) load(kind wordKind) V {
	switch kind {
	case wordBits:
		x := atomic.LoadUint64((*uint64)(unsafe.Pointer(c)))
		return *(*V)(unsafe.Pointer(&x))
	case wordPointer:
		p := atomic.LoadPointer((*unsafe.Pointer)(unsafe.Pointer(c)))
		return *(*V)(unsafe.Pointer(&p))
	}
	return c.v
}

// store writes v into a published cell in place (shard lock held); only for
// kind != wordNone.
func (c *valueCell[V]) store(kind wordKind, v V) {
	if kind == wordBits {
		var x uint64
		*(*V)(unsafe.Pointer(&x)) = v
		atomic.StoreUint64((*uint64)(unsafe.Pointer(c)), x)
		return
	}
	atomic.StorePointer((*unsafe.Pointer)(unsafe.Pointer(c)), *(*unsafe.Pointer)(unsafe.Pointer(&v)))
}
