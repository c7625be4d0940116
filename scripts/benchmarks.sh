#!/usr/bin/env bash
# benchmarks.sh regenerates BENCHMARKS.md: every family's suite beside its
# baseline and its peers (internal/peerbench), -cpu 1,2 -count 6, through
# benchstat. It takes about 20 minutes on 2 cores; run it on a quiet machine.
#
#	scripts/benchmarks.sh            # writes BENCHMARKS.md
#	BENCHTIME=1s scripts/benchmarks.sh
#
# The cost suites run -benchtime $BENCHTIME (default 300ms) per benchmark;
# the outcome suites (Hedge: p99, Shed: goodput) run one real-clock trial
# per benchmark, so 6 per point. Then it fills the generated figure blocks
# of doc comments and READMEs (internal/figures) from the new BENCHMARKS.md.
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
echo "benchmarks.sh: cost suites (about 13 minutes on 2 cores)" >&2
go test -run '^$' -bench '^Benchmark(Counter|Map|CowValue|CowMap|Fanout|Stream|Bytes|Pool|RateLimit|Keyed)$' \
	-cpu 1,2 -count 6 -benchtime "${BENCHTIME:-300ms}" -timeout 2h . >"$raw/cost.txt"
echo "benchmarks.sh: outcome suites (about 6 minutes)" >&2
go test -run '^$' -bench '^Benchmark(Hedge|Shed)$' -cpu 1,2 -count 6 -benchtime 1x -timeout 1h . >"$raw/outcome.txt"
go run ./benchmd -raw "$raw/cost.txt,$raw/outcome.txt" -benchstat "$benchstat" >"$root/BENCHMARKS.md.tmp"
mv "$root/BENCHMARKS.md.tmp" "$root/BENCHMARKS.md"
echo "benchmarks.sh: wrote $root/BENCHMARKS.md" >&2
# The figures quoted in doc comments and READMEs come from this same run:
# fill every // breakeven:figures block from the new BENCHMARKS.md.
cd "$root"
go run ./internal/figures/cmd/docfigures -w
