#!/usr/bin/env bash
# Corpus-fitted static table (`--embedder fitted`) against MiniLM and the distilled static table: NMI/AMI
# at fixed k (scikit-learn KMeans, n_init=1, median of 3 seeds) and wall time of `strata embed` into a
# fresh state (the fitted rows include MiniLM on the sample), in one invocation. Issue #26.
#
#   scripts/bench/fitted_embedder.sh                 # WordNet nouns (82,115, k=26), fortunes (15,217, k=43)
#   scripts/bench/fitted_embedder.sh --quick         # the 3,000-document samples
#   FITTED_SHARES="0.02 0.05 0.1" (default)           # shares tried
#
# Builds the full corpora (corpora/build.sh) and the release strata unless STRATA_BIN names a folder
# holding one. OPENBLAS_* are unset for this command alone; the kernel is printed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
shares=(${FITTED_SHARES:-0.02 0.05 0.1})
if [[ "${1:-}" = --quick ]]; then
  corpora=("nouns=corpora/sample/wordnet-nouns-3000.jsonl:lexname:26" "fortunes=corpora/sample/fortunes-3000.jsonl:category:43")
else
  corpora/build.sh >&2
  corpora=("nouns=corpora/build/wordnet-nouns.jsonl:lexname:26" "fortunes=corpora/build/fortunes.jsonl:category:43")
fi
if [[ -n "${STRATA_BIN:-}" ]]; then bin="$STRATA_BIN/strata"; else scripts/build.sh >&2; bin="$root/.build/release/strata"; fi
"$bin" --version
work="$(mktemp -d /tmp/strata-fitted-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
printf '{' > "$work/times.json"; sep=""
for spec in "${corpora[@]}"; do
  name="${spec%%=*}"; rest="${spec#*=}"; path="${rest%%:*}"
  for e in minilm static "${shares[@]/#/fitted@}"; do
    args=(--embedder "${e%%@*}"); [[ $e == fitted@* ]] && args+=(--fitted-share "${e#fitted@}")
    state="$(mktemp -d "$work/state.XXXX")"
    t0=$(now); "$bin" embed "$path" "${args[@]}" --state "$state" --out "$work/$name.$e.npy" --quiet; t1=$(now)
    s=$(printf %.3f "$(echo "$t1 - $t0" | bc)")
    printf '%s: %s %.2f s\n' "$name" "$e" "$s"
    printf '%s"%s.%s": %s' "$sep" "$name" "$e" "$s" >> "$work/times.json"; sep=", "
    rm -rf "$state"
  done
done
printf '}\n' >> "$work/times.json"
args=()
for spec in "${corpora[@]}"; do args+=(--corpus "$spec"); done
OMP_NUM_THREADS=2 python3 "$here/fitted_embedder.py" --work "$work" --embedders "minilm,static,$(IFS=,; echo "${shares[*]/#/fitted@}")" "${args[@]}"
