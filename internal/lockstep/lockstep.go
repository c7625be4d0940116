// Package lockstep is the harness of the contention tests (issue 24): it
// starts two goroutines on one operation at the same instant, round after
// round, so that a check-then-act in place of a CAS, or a release that
// races an enqueue, shows up within a bounded number of rounds whatever
// the machine's speed.
package lockstep

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Rounds runs rounds 1 to n. In round r, prepare(r) runs on the calling
// goroutine, and what it sets up is published to the helper goroutine with
// the round's start; then helper(r), on a helper goroutine that spins on
// the round number (a wake-up would stagger the two), and caller(r), on
// the calling goroutine, run at once; when both have returned, check(r)
// runs on the calling goroutine. A nil function is skipped. GOMAXPROCS is
// at least 2 meanwhile, so the two run on two Ps. If helper(r) has not
// returned 10 s after caller(r), t fails: the operations under test must
// not block. The helper goroutine has ended when Rounds returns, also when
// check fails t.
func Rounds(t testing.TB, n int, prepare, helper, caller, check func(r int)) {
	t.Helper()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	var started, finished atomic.Int64 // rounds the helper was told to start, and has finished
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(stop)
	wg.Go(func() {
		for r := int64(1); r <= int64(n); r++ {
			for started.Load() < r { // spin: a wake-up would stagger the two
				select {
				case <-stop:
					return
				default:
				}
			}
			if helper != nil {
				helper(int(r))
			}
			finished.Store(r)
		}
	})
	for r := 1; r <= n; r++ {
		if prepare != nil {
			prepare(r)
		}
		started.Store(int64(r)) // publishes what prepare set up
		if caller != nil {
			caller(r)
		}
		for deadline := time.Now().Add(10 * time.Second); finished.Load() < int64(r); {
			if time.Now().After(deadline) {
				t.Fatalf("lockstep: round %d: the helper goroutine did not return within 10s", r)
			}
		}
		if check != nil {
			check(r)
		}
	}
}

var sink atomic.Int64

// Sweep delays by r%window atomic adds: called by one side before its
// operation, it moves that operation across the other side's over the
// rounds, so that some rounds land in the narrow window a bug needs.
func Sweep(r, window int) {
	for range r % window {
		sink.Add(1)
	}
}
