// Package panics is the one implementation behind the exported PanicError
// types of fanout and hedge: both recover a panic from a goroutine they
// own and re-panic with it on the caller's, and both describe and unwrap
// it the same way. Each package keeps its own exported type (its own name
// in the message, its own doc), so neither's API depends on the other.
package panics

import "fmt"

// Message is the Error text of a PanicError of package pkg.
func Message(pkg string, value any, stack []byte) string {
	return fmt.Sprintf("%s: fn panicked: %v\n\n%s", pkg, value, stack)
}

// Unwrap returns value if it is an error, so errors.Is and errors.As see
// through a recovered PanicError; nil otherwise.
func Unwrap(value any) error {
	err, _ := value.(error)
	return err
}
