package fanout_test

import (
	"fmt"
	"runtime/debug"
	"testing"
	"testing/synctest"
	"time"
)

// bubbleLimit is the real time a synctest bubble in these tests may take.
// Each needs milliseconds; the limit is generous for a loaded machine and
// -race.
const bubbleLimit = 15 * time.Second

// bubble runs f in a synctest bubble with a real-time deadline. synctest
// turns a deadlock into a failure, but not a livelock: code that re-arms a
// zero-length timer, or one that fires every nanosecond, keeps the bubble
// busy while its fake clock stands still or crawls, and the test would hang
// until the package's -timeout. Past the deadline the whole test binary
// stops at once, with every goroutine's stack, as -timeout would; nothing
// short of that can stop a goroutine that never blocks.
func bubble(t *testing.T, f func(*testing.T)) {
	t.Helper()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-done:
		case <-time.After(bubbleLimit):
			debug.SetTraceback("all")
			panic(fmt.Sprintf("%s: still running after %v of real time: a livelock under synctest's fake clock (code that keeps waking without the fake time moving on)", t.Name(), bubbleLimit))
		}
	}()
	synctest.Test(t, f)
}
