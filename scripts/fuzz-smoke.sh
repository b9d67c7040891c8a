#!/usr/bin/env bash
# Runs every Go fuzz target of the module for $FUZZTIME (default 10s) each.
# Minimization is off by default ($FUZZMINIMIZETIME=0s): with Go's default
# (60s) one large seed eats the whole smoke run, and a deadline that falls
# while an input is being minimized makes go test fail with "context
# deadline exceeded" although nothing failed. A real failure always writes
# its input under testdata/fuzz/; a run that fails without one is retried once.
# A failing input is written to the package's testdata/fuzz/<Target>/; the
# script goes on with the other targets and fails at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-10s}
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-0s}
status=0
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	ls "$dir"/*_test.go >/dev/null 2>&1 || continue
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		echo "== fuzz $pkg $target ($FUZZTIME)"
		for attempt in 1 2; do
			log=$(mktemp)
			if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" "$pkg" 2>&1 | tee "$log"; then
				rm -f "$log"
				break
			fi
			if grep -q 'Failing input written to\|failure while testing seed corpus' "$log" || [ $attempt = 2 ]; then
				status=1
				rm -f "$log"
				break
			fi
			echo "== $target: go test failed without a failing input (harness deadline); retrying once"
			rm -f "$log"
		done
	done
done
exit $status
