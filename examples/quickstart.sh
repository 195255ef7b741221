#!/usr/bin/env bash
# The README's quick start: build a vulnerability database from the bundled
# feed mirrors and scan the bundled example image, offline.
set -euo pipefail
cd "$(dirname "$0")/.."
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
go build -o "$cache/vigil" ./cmd/vigil
"$cache/vigil" db build --cache-dir "$cache" --sources alpine,osv:npm \
	--mirror alpine=examples/feeds/alpine --mirror osv=examples/feeds/osv
echo
"$cache/vigil" image --cache-dir "$cache" --offline --input examples/images/demo-alpine-node.tar
echo
echo '$ vigil image --exit-code 1 --ignore-unfixed --severity HIGH,CRITICAL ...'
status=0
"$cache/vigil" image --cache-dir "$cache" --offline --input examples/images/demo-alpine-node.tar \
	--exit-code 1 --ignore-unfixed --severity HIGH,CRITICAL || status=$?
echo "exit code: $status (1: the gate tripped on HIGH/CRITICAL findings with a fix)"
[ "$status" -eq 1 ]
