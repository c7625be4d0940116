package suites

import (
	"context"
	"errors"
	"strings"
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
// Metric suites (real-clock trials of a second) are tested apart.
func TestEveryWorkloadRuns(t *testing.T) {
	for _, s := range All() {
		if s.Metric != "" {
			continue
		}
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

// TestHedgeTrial runs the hedge suite's trials at 5% slow calls: each
// returns a p99 without error, and the baseline's is a slow call. (That
// hedging cuts it is hedge's own tests' business; a latency bound here would
// measure the machine.)
func TestHedgeTrial(t *testing.T) {
	if testing.Short() {
		t.Skip("real-clock trial")
	}
	w := Hedge().Workloads[0]
	for _, im := range w.Impls {
		p99, err := im.Trial(t.Context(), 5)
		if err != nil || p99 <= 0 {
			t.Fatalf("%s trial: p99 %.1f ms, err %v", im.Name, p99, err)
		}
		t.Logf("p99 at 5%% slow calls: %s %.1f ms", im.Name, p99)
		if im.Name == "plain" && p99 < 60 {
			t.Errorf("plain p99 %.1f ms, want a slow call (>= 60 ms)", p99)
		}
	}
}

// TestShedTrialStopsWithContext checks that a cancelled trial returns the
// context's error instead of a figure.
func TestShedTrialStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Shed().Workloads[0].Impl("adaptive").Trial(ctx, 100); !errors.Is(err, context.Canceled) {
		t.Fatalf("trial with a cancelled context: err = %v, want context.Canceled", err)
	}
}

// TestShedAttackWorkloads checks the Shed suite carries both attacks for
// every impl, that each attacked trial runs and returns a goodput (the
// cancelling client's cancelled requests count for nothing), and that an
// unknown workload is refused at construction.
func TestShedAttackWorkloads(t *testing.T) {
	s := Shed()
	var names []string
	for _, w := range s.Workloads {
		names = append(names, w.Name)
		for _, impl := range []string{"none", "adaptive", "inflight"} {
			if w.Impl(impl).Trial == nil {
				t.Fatalf("workload %s lacks impl=%s", w.Name, impl)
			}
		}
	}
	if strings.Join(names, ",") != "overload,cancels,quiet-then-slow" {
		t.Fatalf("Shed workloads = %v", names)
	}
	if testing.Short() {
		t.Skip("two trials of a few seconds")
	}
	for _, w := range s.Workloads[1:] {
		g, err := w.Impl("adaptive").Trial(t.Context(), 50)
		if err != nil || g <= 0 {
			t.Fatalf("%s trial at half load: goodput %v, err %v", w.Name, g, err)
		}
	}
	defer func() {
		if msg, _ := recover().(string); !strings.HasPrefix(msg, "suites: ShedTrialFor(\"nope\")") {
			t.Fatalf("ShedTrialFor(nope) panicked with %q", msg)
		}
	}()
	ShedTrialFor("nope", nil)
}
