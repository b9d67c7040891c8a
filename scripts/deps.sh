#!/usr/bin/env bash
# Installs what building and testing edr needs on Debian/Ubuntu, and nothing
# when it is already there:
#   - Go 1.26 (checked, not installed: get it from https://go.dev/dl/ and put
#     /usr/local/go/bin on PATH; Debian's golang package is too old),
#   - a C compiler, pkg-config and libyara-dev (YARA through cgo),
#   - xmllint (libxml2-utils: JUnit report schema check),
#   - python3-distributed (Dask: scripts/edr-dask and its cluster test),
#   - with --with-node: Node.js/npm and the DuckDB module of scripts/duckdb
#     (only the recording's DuckDB interop test needs them), and chromium
#     (only the bench HTML report's headless-browser test needs it).
# Uses sudo for apt-get when not run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

with_node=false
for arg in "$@"; do
	case "$arg" in
	--with-node) with_node=true ;;
	*) echo "deps.sh: unknown argument $arg (want --with-node)" >&2; exit 2 ;;
	esac
done

export PATH="$PATH:/usr/local/go/bin"
if ! command -v go >/dev/null 2>&1; then
	echo "deps.sh: Go is not installed: install Go 1.26 from https://go.dev/dl/ (tarball into /usr/local/go)" >&2
	exit 1
fi
gover=$(go env GOVERSION)
case "$gover" in
go1.2[6-9]* | go1.[3-9][0-9]* | go[2-9]*) ;;
*) echo "deps.sh: $gover is too old: edr needs Go 1.26 (https://go.dev/dl/)" >&2; exit 1 ;;
esac

missing=()
command -v gcc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
dpkg -s libyara-dev >/dev/null 2>&1 || missing+=(libyara-dev)
# xmllint validates edr test's JUnit reports against cmd/edr/testdata/junit.xsd
# (the test checks the structure itself and skips the schema without it).
command -v xmllint >/dev/null 2>&1 || missing+=(libxml2-utils)
dpkg -s python3-distributed >/dev/null 2>&1 || missing+=(python3-distributed)
if $with_node; then
	command -v node >/dev/null 2>&1 || missing+=(nodejs)
	command -v npm >/dev/null 2>&1 || missing+=(npm)
	command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fi

if [ ${#missing[@]} -gt 0 ]; then
	if ! command -v apt-get >/dev/null 2>&1; then
		echo "deps.sh: missing ${missing[*]} and no apt-get: install them with your package manager" >&2
		exit 1
	fi
	sudo=""
	if [ "$(id -u)" -ne 0 ]; then
		sudo="sudo"
	fi
	echo "deps.sh: installing ${missing[*]}"
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq || true
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

if $with_node && [ ! -d scripts/duckdb/node_modules/@duckdb/node-api ]; then
	npm ci --prefix scripts/duckdb --no-audit --no-fund
fi
