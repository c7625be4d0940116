#!/usr/bin/env bash
# stability.sh runs cmd/breakeven's quick report twice in a row and counts
# contradictions: points whose definite classes (win, lose, tie) differ
# between the two runs. A verdict an adopter can trust does not flip from
# one run to the next; an undecided point says "inconclusive" instead.
#
#	scripts/stability.sh                       # every suite (about two quick runs)
#	scripts/stability.sh 'Counter|RateLimit'   # a -run pattern, as in CI
#	MAX_CONTRADICTIONS=1 scripts/stability.sh
#	OUT_DIR=/tmp/st scripts/stability.sh       # keep run1.json, run2.json, compare.txt
#
# It prints both runs' verdicts, the -compare table between them, and one
# summary line; it exits 1 when contradictions exceed $MAX_CONTRADICTIONS
# (default 0) or the share of inconclusive points in either run exceeds
# $MAX_INCONCLUSIVE_PCT (default 100: reported, not enforced).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
pattern=${1:-}
if [[ -n ${OUT_DIR:-} ]]; then # keep the runs there
	out=$OUT_DIR
	mkdir -p "$out"
else
	out=$(mktemp -d)
	trap 'rm -rf "$out"' EXIT
fi

go build -o "$out/breakeven" ./cmd/breakeven
for run in 1 2; do
	start=$(date +%s)
	"$out/breakeven" -run "$pattern" -json >"$out/run$run.json" 2>"$out/run$run.err" || {
		cat "$out/run$run.err" >&2
		exit 1
	}
	echo "stability.sh: run $run took $(($(date +%s) - start))s: $(tail -1 "$out/run$run.err" | sed 's/^breakeven: //')" >&2
done
# -compare exits 1 on a significant change of a ratio beyond its threshold;
# between two runs of the same build that is noise, not a regression, so
# only its class counts matter here.
"$out/breakeven" -compare "$out/run1.json" "$out/run2.json" -threshold 1000% | tee "$out/compare.txt"

points=$(sed -n 's/^\([0-9]*\) points compared.*/\1/p' "$out/compare.txt")
contradictions=$(sed -n 's/^classes: \([0-9]*\) contradictions.*/\1/p' "$out/compare.txt")
inc1=$(sed -n 's/.*inconclusive: \([0-9]*\) old, \([0-9]*\) new.*/\1/p' "$out/compare.txt")
inc2=$(sed -n 's/.*inconclusive: \([0-9]*\) old, \([0-9]*\) new.*/\2/p' "$out/compare.txt")
pct1=$((100 * inc1 / points))
pct2=$((100 * inc2 / points))
echo "stability.sh: ${pattern:-every suite}: $points points, $contradictions contradictions, inconclusive $inc1 ($pct1%) and $inc2 ($pct2%)"
if ((contradictions > ${MAX_CONTRADICTIONS:-0})); then
	echo "stability.sh: FAIL: $contradictions contradictions (allowed ${MAX_CONTRADICTIONS:-0})" >&2
	exit 1
fi
if ((pct1 > ${MAX_INCONCLUSIVE_PCT:-100} || pct2 > ${MAX_INCONCLUSIVE_PCT:-100})); then
	echo "stability.sh: FAIL: more than ${MAX_INCONCLUSIVE_PCT}% of points inconclusive" >&2
	exit 1
fi
