package lockstep

import (
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRoundsRunsEachSideOncePerRound: every round runs prepare, both
// sides and check, in that order for the calling goroutine, and check sees
// the helper's work of the same round.
func TestRoundsRunsEachSideOncePerRound(t *testing.T) {
	const n = 500
	var prepared, helped, called int
	var helperDone atomic.Int64
	Rounds(t, n,
		func(r int) { prepared++ },
		func(r int) { Sweep(r, 8); helperDone.Store(int64(r)) },
		func(r int) { called++ },
		func(r int) {
			helped++
			if prepared != r || called != r || helperDone.Load() != int64(r) {
				t.Fatalf("round %d: prepare %d, caller %d, helper at round %d", r, prepared, called, helperDone.Load())
			}
		})
	if helped != n {
		t.Fatalf("check ran %d times, want %d", helped, n)
	}
}
