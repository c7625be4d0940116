//go:build race

package pin

// Race reports a -race build.
const Race = true
