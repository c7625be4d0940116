#!/usr/bin/env bash
# mutation.sh measures whether the tests can fail: it breaks the code on
# purpose and checks that `go test -race` notices.
#
#	scripts/mutation.sh hand              # the hand-written concurrency mutants (quick; CI runs it)
#	scripts/mutation.sh gremlins [PKG…]   # operator mutants from go-gremlins (slow; as long as it takes)
#	scripts/mutation.sh all
#
# Hand-written mutants are patches in scripts/mutants/*.patch: bugs an
# operator-level tool cannot write (check-then-act in place of a CAS, a dropped
# re-check under a lock, a dropped release, two steps swapped). Each patch
# starts with two header lines, `Package: ./shed` and `Why: …`, then the diff.
# Each is applied to a fresh copy of the tracked tree; the mutant is killed when
# `go test -race` of its package fails (-failfast: the first failing test is
# enough), and it must still compile. The script
# exits 1 when a hand-written mutant lives or does not apply.
#
# Gremlins mutants that cannot change behaviour (equivalent mutants) are listed,
# with why, in scripts/mutants/equivalent.txt; they are set aside before the
# efficacy per package is computed. A TIMED OUT mutant hung the tests, which
# counts as killed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mode=${1:-hand}
shift || true

hand() {
	local lived=0 total=0 patch pkg why tmp out
	for patch in scripts/mutants/*.patch; do
		[[ -e $patch ]] || continue
		total=$((total + 1))
		pkg=$(sed -n 's/^Package: //p' "$patch" | head -1)
		why=$(sed -n 's/^Why: //p' "$patch" | head -1)
		tmp=$(mktemp -d)
		git ls-files -z | xargs -0 cp --parents -t "$tmp"
		if ! (cd "$tmp" && git apply "$root/$patch"); then
			echo "BROKEN  $patch: does not apply to this tree"; lived=$((lived + 1)); rm -rf "$tmp"; continue
		fi
		if ! (cd "$tmp" && go vet "$pkg" >/dev/null 2>&1); then
			echo "BROKEN  $patch: the mutant does not compile"; lived=$((lived + 1)); rm -rf "$tmp"; continue
		fi
		if out=$(cd "$tmp" && go test -race -count=1 -failfast -timeout 5m "$pkg" 2>&1); then
			echo "LIVED   $patch ($pkg): $why"; lived=$((lived + 1))
		else
			echo "KILLED  $patch ($pkg) by $(grep -m1 -oE -- '--- FAIL: [^ ]+|panic: .*|DATA RACE' <<<"$out" || echo 'a failing test')"
		fi
		rm -rf "$tmp"
	done
	echo "hand-written mutants: $((total - lived)) of $total killed"
	[[ $lived -eq 0 ]]
}

operators() {
	local bin pkgs pkg out
	# type -P: the binary on PATH (command -v would also find a function),
	# else the one `go install` put in GOBIN or GOPATH/bin.
	bin=$(type -P gremlins || true)
	[[ -n $bin ]] || bin=$(go env GOBIN)/gremlins
	[[ -x $bin ]] || bin=$(go env GOPATH)/bin/gremlins
	if [[ ! -x $bin ]]; then
		GOBIN="$root/.bin" go install github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0
		bin="$root/.bin/gremlins"
	fi
	pkgs=("$@")
	[[ ${#pkgs[@]} -gt 0 ]] || pkgs=(./shard ./cow ./fanout ./hedge ./shed ./ratelimit ./pool)
	out=$(mktemp -d)
	# -count=1: gremlins sets each mutant's timeout from its coverage run,
	# and a coverage run served from the test cache takes a fraction of a
	# second, which made every slower mutant run a "timeout" (shard: 133).
	# -vet=off: the tests are what is measured, and go test's vet pass costs
	# CPU on every mutant.
	export GOFLAGS="${GOFLAGS:+$GOFLAGS }-count=1 -vet=off"
	for pkg in "${pkgs[@]}"; do
		echo "gremlins: $pkg" >&2
		"$bin" unleash --silent --workers 1 --timeout-coefficient 20 -o "$out/$(basename "$pkg").json" "$pkg" >/dev/null || true
	done
	go run ./scripts/mutation -equivalent scripts/mutants/equivalent.txt "$out"/*.json
}

case $mode in
hand) hand ;;
gremlins) operators "$@" ;;
all) hand; operators "$@" ;;
*) echo "usage: $0 hand|gremlins [PKG…]|all" >&2; exit 2 ;;
esac
