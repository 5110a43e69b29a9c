#!/usr/bin/env bash
# Strata vs BERTopic (default settings, and nr_topics=K) vs scikit-learn KMeans on a labelled corpus,
# all on the same MiniLM embeddings (computed once by `strata embed` and shared), in one invocation.
# Prints NMI, AMI, ARI, label fidelity and fit time (embedding excluded) side by side, one table per
# corpus: Strata's default (k auto) and --k K, BERTopic's default and nr_topics=K, KMeans at K; every
# method fitted 3 times (seeds 42, 43, 44; --runs=N to change), medians shown.
#
#   scripts/eval/compare.sh                   # both full corpora (builds them with corpora/build.sh)
#   scripts/eval/compare.sh nouns             # only WordNet nouns (82,115 docs, K=26)
#   scripts/eval/compare.sh fortunes          # only fortunes (15,217 docs, K=43)
#   scripts/eval/compare.sh both --sample     # the shipped 3,000-document samples (quick)
#   scripts/eval/compare.sh fortunes --runs=5 # five fits per method
#
# K per corpus is the number of true classes, as in scripts/eval/quality.sh. The Python side (BERTopic,
# UMAP, HDBSCAN, scikit-learn) lives in its own venv, installed once:
#   ${STRATA_HOME:-~/.cache/strata}/eval-venv
# BERTopic is installed without sentence-transformers (and so without torch): it only ever receives
# precomputed embeddings, and no embedding model can be loaded, let alone downloaded.
# Environment: STRATA_HOME, PYTHON (interpreter that creates the venv; default python3),
# STRATA_BIN (a prebuilt strata binary; default .build/release/strata, built when missing).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

which=both
sample=0
extra=()
for a in "$@"; do
  case "$a" in
    nouns|fortunes|both) which="$a" ;;
    --sample) sample=1 ;;
    -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --*) extra+=("$a") ;;   # passed on to compare.py (e.g. --workdir=DIR, --keep)
    *) echo "compare.sh: unknown argument: $a (use nouns, fortunes or both, and --sample)" >&2; exit 2 ;;
  esac
done

export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
STRATA_HOME="${STRATA_HOME:-$HOME/.cache/strata}"
VENV="$STRATA_HOME/eval-venv"
PYTHON="${PYTHON:-python3}"

# Python packages: bertopic without its sentence-transformers dependency, plus what it needs for the
# default pipeline (UMAP + HDBSCAN + c-TF-IDF). pyyaml: bertopic imports it but does not declare it
# (it normally arrives through sentence-transformers). Idempotent: only when an import fails.
if ! "$VENV/bin/python" -c 'import bertopic, umap, hdbscan, sklearn, numpy, pandas' 2>/dev/null; then
  echo "compare: installing BERTopic, UMAP, HDBSCAN, scikit-learn into $VENV ..." >&2
  mkdir -p "$STRATA_HOME"
  [[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    numpy scikit-learn pandas tqdm plotly pyyaml umap-learn hdbscan
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps bertopic
  "$VENV/bin/python" -c 'import bertopic, umap, hdbscan, sklearn, numpy, pandas'
fi

scripts/fetch-model.sh >/dev/null
strata="${STRATA_BIN:-.build/release/strata}"
if [[ -z "${STRATA_BIN:-}" && ! -x "$strata" ]]; then
  echo "compare: building strata (release) ..." >&2
  flock /tmp/strata-swift-build.lock swift build -c release -Xswiftc -enable-testing --product strata 2>&1 \
    | grep -E "error|Build complete" >&2 || true
fi
[[ -x "$strata" ]] || { echo "compare.sh: no strata binary at $strata" >&2; exit 1; }

if [[ $sample -eq 1 ]]; then
  nouns=corpora/sample/wordnet-nouns-3000.jsonl; fortunes=corpora/sample/fortunes-3000.jsonl
else
  corpora/build.sh >&2
  nouns=corpora/build/wordnet-nouns.jsonl; fortunes=corpora/build/fortunes.jsonl
fi
corpus_args=()
[[ $which == nouns || $which == both ]] && corpus_args+=(--corpus "$nouns:lexname:26")
[[ $which == fortunes || $which == both ]] && corpus_args+=(--corpus "$fortunes:category:43")

# This machine sets OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE for Debian's old OpenBLAS, which Strata links;
# they slow down the current numpy/scikit-learn wheels (see BENCHMARKS.md). Run Python without them and
# hand the original values over, so that compare.py gives them back to every strata process it starts.
saved="$("$VENV/bin/python" -c 'import json, os; print(json.dumps({v: os.environ[v] for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if v in os.environ}))')"
exec env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE STRATA_SAVED_BLAS_ENV="$saved" \
  "$VENV/bin/python" "$here/compare.py" --strata "$strata" "${corpus_args[@]}" "${extra[@]}"
