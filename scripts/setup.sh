#!/usr/bin/env bash
# Installs what Strata needs on a fresh Debian machine. Idempotent and quiet when everything is present.
#   scripts/setup.sh            system packages for building and testing
#   STRATA_SETUP_PYTHON=1 ...   also the Python packages that tests and reference scripts use
#                               (pyyaml: DeployManifestTests reads deploy/kubernetes/*.yaml)
#   STRATA_SETUP_TESTS=1 ...    also the system packages only the test suite needs (chromium, postgresql)
# (benchmark scripts install their own extras: faiss-cpu, sentence-transformers, threadpoolctl).
set -euo pipefail

APT_PACKAGES=(libopenblas-dev liblapacke-dev pkg-config libsqlite3-dev libcurl4-openssl-dev libpq-dev libssl-dev)
# The test suite also renders the HTML report in headless Chromium and runs a throwaway PostgreSQL.
if [ "${STRATA_SETUP_TESTS:-0}" = "1" ]; then APT_PACKAGES+=(chromium postgresql); fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
    echo "setup: the Swift toolchain (6.x) is not on PATH; install it from swift.org and retry" >&2
    exit 1
fi

if [ "${STRATA_SETUP_PYTHON:-0}" = "1" ]; then
    python3 - <<'PY' 2>/dev/null || { echo "setup: installing Python packages (numpy, scikit-learn, scipy, jsonschema, mcp, pyarrow, duckdb, lancedb, pyyaml)" >&2; python3 -m pip install -q numpy scikit-learn scipy jsonschema mcp pyarrow duckdb lancedb pyyaml; }
import numpy, sklearn, scipy, jsonschema, mcp, pyarrow, duckdb, lancedb, yaml
PY
fi
