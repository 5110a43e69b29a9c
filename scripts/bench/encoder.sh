#!/usr/bin/env bash
# Strata's MiniLM encoder vs sentence-transformers (PyTorch CPU, 2 threads) on the same 5,000
# texts from the shipped corpus sample, in one invocation.
#
#   scripts/bench/encoder.sh                  # full run: 5,000 texts, 3 repeats
#   scripts/bench/encoder.sh --n 500          # quick run
#   scripts/bench/encoder.sh --skip-strata    # Python side only (no Swift build)
#
# Fetches the model when missing (scripts/fetch-model.sh), installs sentence-transformers and a
# CPU PyTorch when they are missing, builds strata-bench (release), then runs encoder.py; all
# arguments go to encoder.py (see `encoder.py --help`). Last line:
#   ratios: encoder_vs_sentence_transformers=X
# Environment: PYTHON (default python3), STRATA_BIN (directory with a prebuilt strata-bench;
# skips the build), STRATA_HOME (model cache). OPENBLAS_* are unset for this command (see below).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
PYTHON="${PYTHON:-python3}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

skip_strata=0
have_bin_arg=0
for a in "$@"; do
  case "$a" in
    --skip-strata) skip_strata=1 ;;
    --strata-bin|--strata-bin=*) have_bin_arg=1 ;;
  esac
done

model_dir="$(scripts/fetch-model.sh)"

# Python packages (quiet, only when an import fails). Prefer a CPU-only torch wheel when the
# machine provides one (pip's find-links); PyPI's default Linux torch pulls the CUDA libraries.
if ! "$PYTHON" -c 'import torch, sentence_transformers' 2>/dev/null; then
  echo "installing sentence-transformers (and torch, CPU) ..." >&2
  torch_req=()
  if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
    cpu_wheel="$(ls /opt/wheels/torch-*+cpu-*.whl 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -n "$cpu_wheel" ]]; then
      torch_req=("$cpu_wheel")
    fi
  fi
  "$PYTHON" -m pip install --quiet --disable-pip-version-check "${torch_req[@]}" \
    sentence-transformers
fi

extra=()
if [[ $skip_strata -eq 0 && $have_bin_arg -eq 0 ]]; then
  if [[ -n "${STRATA_BIN:-}" ]]; then
    bin="$STRATA_BIN"
  else
    echo "building strata-bench (release) ..." >&2
    flock /tmp/strata-swift-build.lock swift build -c release --product strata-bench >&2
    bin="$(flock /tmp/strata-swift-build.lock swift build -c release --show-bin-path)"
  fi
  extra=(--strata-bin "$bin")
fi

# Same OpenBLAS generation on both sides: OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are unset for this
# benchmark command alone, so Strata's runtime OpenBLAS (scripts/fetch-openblas.sh) and PyTorch pick
# their kernels for this CPU; each side's library is printed.
scripts/fetch-openblas.sh >/dev/null || echo "encoder.sh: scipy-openblas32 not installed; Strata runs on the system OpenBLAS" >&2
exec env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PYTHON" "$here/encoder.py" --model-dir "$model_dir" "${extra[@]}" "$@"
