package main

import (
	"github.com/breakeven-go/breakeven/internal/benchutil"
)

// Report is everything one run measured; -json prints it.
type Report struct {
	Machine Machine       `json:"machine"`
	Mode    string        `json:"mode"` // "quick" or "full"
	Suites  []SuiteResult `json:"suites"`
}

// SuiteResult is one primitive's measurements.
type SuiteResult struct {
	Name         string `json:"name"`
	Primitive    string `json:"primitive"`
	Impl         string `json:"impl"`
	Baseline     string `json:"baseline"`
	BaselineDesc string `json:"baseline_desc"`
	Unit         string `json:"unit"`    // "ns/op", or the suite's Metric
	XLabel       string `json:"x_label"` // "goroutines", or the suite's XName
	// HigherIsBetter is set when the unit improves upwards (goodput).
	HigherIsBetter bool             `json:"higher_is_better,omitempty"`
	Workloads      []WorkloadResult `json:"workloads"`
}

// WorkloadResult is one workload's sweep for every implementation.
type WorkloadResult struct {
	Name     string            `json:"name"`
	Series   []Series          `json:"series"`
	Verdict  benchutil.Verdict `json:"verdict"`
	Sentence string            `json:"sentence"`
}

// Series is one implementation's values along the suite's sweep.
type Series struct {
	Impl   string            `json:"impl"`
	Points []benchutil.Point `json:"points"`
}

// better says which way the suite's values improve, for table headings.
func (s SuiteResult) better() string {
	if s.HigherIsBetter {
		return "higher"
	}
	return "lower"
}
