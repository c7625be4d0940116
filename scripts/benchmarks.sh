#!/usr/bin/env bash
# benchmarks.sh regenerates BENCHMARKS.md: every family's suite beside its
# baseline and its peers (internal/peerbench), -cpu 1,2, six samples per
# point, through benchstat. It takes about 40 minutes on 2 cores; run it on
# a quiet machine.
#
#	scripts/benchmarks.sh            # writes BENCHMARKS.md
#	BENCHTIME=1s scripts/benchmarks.sh
#
# The six samples come from six passes over every suite with -count 1 each,
# not from one -count 6 run: go test runs a benchmark's samples back to back,
# so a slow spell of a shared machine (seconds to a minute in which
# everything costs twice as much) would bias all six samples of one
# implementation against its neighbours; across passes it lands on single
# samples minutes apart, which benchstat's median and test absorb.
#
# The cost suites run -benchtime $BENCHTIME (default 300ms) per benchmark;
# the outcome suites (Hedge: p99, Shed: goodput) run one real-clock trial
# per benchmark and pass. Then it fills the generated figure blocks of doc
# comments and READMEs (internal/figures) from the new BENCHMARKS.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/internal/peerbench"

benchstat=$(command -v benchstat || true)
if [[ -z $benchstat ]]; then
	GOBIN="$root/.bin" go install golang.org/x/perf/cmd/benchstat@latest
	benchstat="$root/.bin/benchstat"
fi

raw=$(mktemp -d)
trap 'rm -rf "$raw"' EXIT
# One binary for every pass, run from the package directory like go test.
go test -c -o "$raw/peerbench.test" .
passes=6
for pass in $(seq "$passes"); do
	echo "benchmarks.sh: pass $pass/$passes: cost suites" >&2
	"$raw/peerbench.test" -test.run '^$' \
		-test.bench '^Benchmark(Counter|Map|CowValue|CowMap|Fanout|Stream|Bytes|Pool|RateLimit|Keyed)$' \
		-test.cpu 1,2 -test.count 1 -test.benchtime "${BENCHTIME:-300ms}" -test.timeout 30m >>"$raw/cost.txt"
	echo "benchmarks.sh: pass $pass/$passes: outcome suites" >&2
	"$raw/peerbench.test" -test.run '^$' -test.bench '^Benchmark(Hedge|Shed)$' \
		-test.cpu 1,2 -test.count 1 -test.benchtime 1x -test.timeout 15m >>"$raw/outcome.txt"
done
go run ./benchmd -raw "$raw/cost.txt,$raw/outcome.txt" -benchstat "$benchstat" >"$root/BENCHMARKS.md.tmp"
mv "$root/BENCHMARKS.md.tmp" "$root/BENCHMARKS.md"
echo "benchmarks.sh: wrote $root/BENCHMARKS.md" >&2
# The figures quoted in doc comments and READMEs come from this same run:
# fill every // breakeven:figures block from the new BENCHMARKS.md.
cd "$root"
go run ./internal/figures/cmd/docfigures -w
