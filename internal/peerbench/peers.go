package peerbench

import (
	"github.com/puzpuzpuz/xsync/v4"

	"github.com/breakeven-go/breakeven/internal/benchutil"
	"github.com/breakeven-go/breakeven/internal/suites"
)

// withPeers returns s with peers(workload) appended to each workload's
// implementations.
func withPeers(s benchutil.Suite, peers func(workload string) []benchutil.Impl) benchutil.Suite {
	ws := make([]benchutil.Workload, len(s.Workloads))
	for i, w := range s.Workloads {
		w.Impls = append(append([]benchutil.Impl(nil), w.Impls...), peers(w.Name)...)
		ws[i] = w
	}
	s.Workloads = ws
	return s
}

// Counter is the Counter suite plus impl=xsync (xsync.Counter).
func Counter() benchutil.Suite {
	return withPeers(suites.Counter(), func(workload string) []benchutil.Impl {
		switch workload {
		case "add":
			return []benchutil.Impl{{Name: "xsync", Setup: func() benchutil.Body {
				c := xsync.NewCounter()
				return func(_, n int) {
					for range n {
						c.Add(1)
					}
				}
			}}}
		case "load10":
			return []benchutil.Impl{{Name: "xsync", Setup: func() benchutil.Body {
				c := xsync.NewCounter()
				return func(_, n int) {
					var sink int64
					for i := range n {
						if i%10 == 0 {
							c.Add(1)
						} else {
							sink += c.Value()
						}
					}
					_ = sink
				}
			}}}
		}
		return nil
	})
}

// Map is the Map suite plus impl=xsync (xsync.Map).
func Map() benchutil.Suite {
	s := suites.Map()
	s.Workloads = suites.MapWorkloads(append(suites.MapImpls(),
		suites.MapImpl{Name: "xsync", New: func() suites.KV { return xsync.NewMap[string, int]() }}))
	return s
}
