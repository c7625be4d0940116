//go:build unix

package peerbench

import (
	"runtime"
	"syscall"
	"testing"

	"github.com/breakeven-go/breakeven/internal/benchutil"
)

// BenchmarkMapCPU runs the Map suite (without impl=mutex) as BenchmarkMap
// does and reports, beside wall time, the process's CPU time per operation
// (getrusage, user + system). On a shared machine where the benchmark's
// goroutines queue for a core, wall time per op measures the queue; CPU
// time measures the work, so it separates implementations that wall time
// cannot. It also counts what the runtime spends for the benchmark (GC
// workers), which is part of an implementation's cost.
//
//	go test -run '^$' -bench MapCPU -cpu 2 -count 6 . | benchstat -col /impl -filter '.unit:cpu-ns/op' -
func BenchmarkMapCPU(b *testing.B) {
	for _, w := range Map().Workloads {
		b.Run(w.Name, func(b *testing.B) {
			for _, im := range w.Impls {
				if im.Name == "mutex" {
					continue
				}
				b.Run("impl="+im.Name, func(b *testing.B) {
					body := im.Setup()
					runtime.GC()
					b.ResetTimer()
					start := cpuTime()
					benchutil.RunOps(body, runtime.GOMAXPROCS(0), b.N)
					b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
				})
			}
		})
	}
}

// cpuTime returns the CPU time the process has used, in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
