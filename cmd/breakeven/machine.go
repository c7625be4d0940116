package main

import (
	"bufio"
	"os"
	"runtime"
	"strings"
	"time"
)

// Machine names the hardware and toolchain a report was measured on.
type Machine struct {
	CPU        string    `json:"cpu"`
	Cores      int       `json:"cores"` // runtime.NumCPU
	GOMAXPROCS int       `json:"gomaxprocs"`
	GOOS       string    `json:"goos"`
	GOARCH     string    `json:"goarch"`
	Go         string    `json:"go"`
	Date       time.Time `json:"date"`
}

func thisMachine() Machine {
	return Machine{
		CPU:        cpuModel(),
		Cores:      runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		GOOS:       runtime.GOOS,
		GOARCH:     runtime.GOARCH,
		Go:         runtime.Version(),
		Date:       time.Now().UTC().Truncate(time.Second),
	}
}

// cpuModel reads the model name on Linux; elsewhere it says only the
// architecture, which is better than guessing.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown " + runtime.GOARCH + " CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(key) == "model name" {
			return strings.TrimSpace(val)
		}
	}
	return "unknown " + runtime.GOARCH + " CPU"
}

func (m Machine) String() string {
	return m.CPU + ", " + itoa(m.Cores) + " cores, GOMAXPROCS=" + itoa(m.GOMAXPROCS) +
		", " + m.GOOS + "/" + m.GOARCH + ", " + m.Go
}
