#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs what is missing (apt packages, the MiniLM
# model, the local LLM server — built once, about 2–6 minutes — and the Python packages the
# reference checks use), builds (while the servers start), runs every test, stops the servers.
set -euo pipefail
cd "$(dirname "$0")/.."

STRATA_SETUP_TESTS=1 STRATA_SETUP_PYTHON=1 scripts/setup.sh
scripts/fetch-model.sh >/dev/null
# A current OpenBLAS for strata to load at run time (optional: the system OpenBLAS is the fallback).
scripts/fetch-openblas.sh >/dev/null || echo "$(basename "$0"): scipy-openblas32 not installed; strata uses the system OpenBLAS" >&2

# serve WHAT VAR CMD…: exports VAR as CMD's output (the server's URL or config), or empty with a warning.
serve() {
    local what=$1 var=$2 out
    shift 2
    echo "▸ $what" >&2
    if out=$("$@"); then export "$var=$out"; else
        echo "test.sh: $what did not start; its tests will fail under CI=true" >&2
        export "$var="
    fi
}
# The build (scripts/build.sh: release, with the test targets) runs while the servers install and start.
echo "▸ build (release with tests, in the background; log: .build/build.log)" >&2
scripts/build.sh --tests &
build_pid=$!
started_llm=0
if ! scripts/llm-server.sh status >/dev/null 2>&1; then started_llm=1; fi
serve "local LLM server" STRATA_TEST_LLM_URL scripts/llm-server.sh start
serve "throwaway PostgreSQL cluster" STRATA_TEST_PG_URL scripts/pg-server.sh start
serve "throwaway single-node Slurm cluster" STRATA_TEST_SLURM_CONF scripts/slurm-cluster.sh start
cleanup() {
    kill "$build_pid" 2>/dev/null || true
    if [ "$started_llm" = 1 ]; then scripts/llm-server.sh stop >/dev/null 2>&1 || true; fi
    scripts/pg-server.sh stop >/dev/null 2>&1 || true
    scripts/slurm-cluster.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

wait $build_pid || { echo "test.sh: the build failed" >&2; exit 1; }
# The static embedder's table in the model cache, distilled once (~15 s; nothing when up to date).
.build/release/strata distill --quiet
# Serial: the end-to-end suites share one local LLM server and two cores; in parallel they starve each
# other into timeouts.
swift test -c release --skip-build -Xswiftc -enable-testing --no-parallel
