#!/usr/bin/env bash
# Strata's release build, the one scripts/demo.sh and scripts/test.sh share (same flags, so one build
# serves both): `--tests` adds the test targets. The compiler's output goes to .build/build.log; every
# 30 s one line says where the build is. On failure the log's tail is printed and the exit status is
# the build's. -enable-testing lets the unit tests `@testable import` release modules.
#   scripts/build.sh [--tests]
set -uo pipefail
cd "$(dirname "$0")/.."
args=(-c release -Xswiftc -enable-testing)
if [ "${1:-}" = --tests ]; then args+=(--build-tests); else args+=(--product strata); fi
mkdir -p .build
log=.build/build.log
t0=$(date +%s)
swift build "${args[@]}" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
while kill -0 $pid 2>/dev/null; do
    for _ in $(seq 30); do kill -0 $pid 2>/dev/null || break; sleep 1; done
    kill -0 $pid 2>/dev/null || break
    step=$(grep -oE '^\[[0-9]+/[0-9]+\]' "$log" | tail -1 || true)
    echo "build: ${step:-(resolving packages)} after $(( $(date +%s) - t0 )) s" >&2
done
wait $pid
status=$?
trap - EXIT
if [ $status -ne 0 ]; then tail -40 "$log" >&2; echo "build: swift build ${args[*]} failed (exit $status; log: $log)" >&2; exit $status; fi
grep -E "warning: unre|Build complete" "$log" | tail -2 >&2 || true
echo "build: done in $(( $(date +%s) - t0 )) s" >&2
