package shed

import (
	"testing"
	"time"
)

// TestRetryAfterRoundsUpToWholeSeconds: the header counts whole seconds,
// rounded up, so a client never comes back before the time it was given.
func TestRetryAfterRoundsUpToWholeSeconds(t *testing.T) {
	for _, tc := range []struct {
		base   time.Duration
		jitter int64
		want   string
	}{
		{time.Second, 0, "1"},
		{time.Second, 1, "2"},
		{time.Second, int64(time.Second) - 1, "2"},
		{time.Second, int64(time.Second), "2"},
		{24 * time.Hour, int64(24 * time.Hour), "172800"},
	} {
		if got := retryAfterSeconds(tc.base, tc.jitter); got != tc.want {
			t.Errorf("retryAfterSeconds(%v, %dns) = %s, want %s", tc.base, tc.jitter, got, tc.want)
		}
	}
}
