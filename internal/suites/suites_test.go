package suites

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestAllSuitesValid keeps a broken registration from reaching a report.
func TestAllSuitesValid(t *testing.T) {
	names := map[string]bool{}
	for _, s := range All() {
		if err := s.Validate(); err != nil {
			t.Error(err)
		}
		if names[s.Name] {
			t.Errorf("suite %q registered twice", s.Name)
		}
		names[s.Name] = true
	}
}

// TestEveryWorkloadRuns runs each implementation's body briefly on two
// goroutines, so a panic in a workload shows up here and not mid-report.
func TestEveryWorkloadRuns(t *testing.T) {
	for _, s := range All() {
		for _, w := range s.Workloads {
			for _, im := range w.Impls {
				body := im.Setup()
				done := make(chan struct{})
				go func() { defer close(done); body(1, 2) }()
				body(0, 2)
				<-done
			}
		}
	}
}
