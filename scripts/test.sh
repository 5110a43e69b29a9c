#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs what is missing, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build
swift test
