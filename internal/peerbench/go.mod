module github.com/breakeven-go/breakeven/internal/peerbench

go 1.26.0

require (
	github.com/breakeven-go/breakeven v0.1.0
	go.uber.org/goleak v1.3.0
)

require (
	github.com/destel/rill v0.8.0
	github.com/failsafe-go/failsafe-go v0.9.8
	github.com/puzpuzpuz/xsync/v4 v4.5.0
	github.com/sourcegraph/conc v0.3.0
)

require (
	github.com/bits-and-blooms/bitset v1.24.4 // indirect
	github.com/influxdata/tdigest v0.0.1 // indirect
	go.uber.org/atomic v1.7.0 // indirect
	go.uber.org/multierr v1.9.0 // indirect
	golang.org/x/sync v0.25.0 // indirect
	golang.org/x/time v0.16.0 // indirect
)

replace github.com/breakeven-go/breakeven => ../..
