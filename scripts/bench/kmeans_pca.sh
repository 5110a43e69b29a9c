#!/usr/bin/env bash
# Strata vs scikit-learn vs FAISS: k-means (d=384 and d=64) and PCA, in one invocation.
#
#   scripts/bench/kmeans_pca.sh                    # full run: n=200,000, k=100, 3 repeats
#   scripts/bench/kmeans_pca.sh --n 20000          # quick run
#   scripts/bench/kmeans_pca.sh --skip-strata      # Python side only (no Swift build)
#
# Builds strata-bench (release), installs the Python packages when they are missing, then runs
# kmeans_pca.py. All arguments go to kmeans_pca.py (see `kmeans_pca.py --help`).
# Environment: PYTHON (default python3), STRATA_BIN (directory with a prebuilt strata-bench;
# skips the build).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
PYTHON="${PYTHON:-python3}"

skip_strata=0
have_bin_arg=0
for a in "$@"; do
  case "$a" in
    --skip-strata) skip_strata=1 ;;
    --strata-bin|--strata-bin=*) have_bin_arg=1 ;;
  esac
done

# Python packages (quiet, only when an import fails).
if ! "$PYTHON" -c 'import numpy, sklearn, faiss, threadpoolctl' 2>/dev/null; then
  echo "installing scikit-learn faiss-cpu threadpoolctl ..." >&2
  "$PYTHON" -m pip install --quiet --disable-pip-version-check \
    scikit-learn faiss-cpu threadpoolctl
fi

extra=()
if [[ $skip_strata -eq 0 && $have_bin_arg -eq 0 ]]; then
  if [[ -n "${STRATA_BIN:-}" ]]; then
    bin="$STRATA_BIN"
  else
    echo "building strata-bench (release) ..." >&2
    flock /tmp/strata-swift-build.lock swift build -c release -Xswiftc -enable-testing --product strata-bench >&2
    bin="$(flock /tmp/strata-swift-build.lock swift build -c release --show-bin-path)"
  fi
  extra=(--strata-bin "$bin")
fi

# The BLAS variables that this machine sets slow down a current numpy: run the Python side
# without them and hand their original values over, so that strata-bench (and FAISS's old
# bundled OpenBLAS) still gets them.
saved="$("$PYTHON" -c 'import json, os; print(json.dumps({v: os.environ[v] for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if v in os.environ}))')"
exec env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE STRATA_BENCH_SAVED_BLAS_ENV="$saved" \
  "$PYTHON" "$here/kmeans_pca.py" "${extra[@]}" "$@"
