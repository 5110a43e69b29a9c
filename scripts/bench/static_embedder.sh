#!/usr/bin/env bash
# Strata's static embedder (`--embedder static`, tables from `strata distill`) vs Strata's MiniLM vs
# model2vec's own distillation of the same all-MiniLM-L6-v2: NMI/AMI at fixed k (median of 3 seeds)
# and encode throughput, in one invocation. Issue #26.
#
#   scripts/bench/static_embedder.sh                  # WordNet nouns (82,115, k=26) and fortunes (15,217, k=43)
#   scripts/bench/static_embedder.sh --quick          # the 3,000-document samples instead
#   scripts/bench/static_embedder.sh --throughput     # also documents/s on the 700k package corpus (static only;
#                                                     # MiniLM on its 20,300 sample)
#
# Builds the full corpora (corpora/build.sh), the release strata (scripts/build.sh) unless STRATA_BIN
# names one, distils tables of 128, 256 and 384 columns (timed), embeds every corpus with each embedder
# through `strata embed` into a fresh state (nothing cached; wall time of the whole command), then
# static_embedder.py scores them. model2vec, torch and transformers go into a throwaway venv
# ($M2V_VENV, default /tmp/strata-m2v-venv; torch's wheel is large). OPENBLAS_* are unset for this
# command alone, so each side picks its kernel for this CPU (printed).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
quick=0 throughput=0
for a in "$@"; do
  case "$a" in
    --quick) quick=1 ;;
    --throughput) throughput=1 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "static_embedder.sh: unknown argument $a" >&2; exit 2 ;;
  esac
done

model_dir="$(scripts/fetch-model.sh)"
venv="${M2V_VENV:-/tmp/strata-m2v-venv}"
if ! "$venv/bin/python" -c 'import model2vec.distill, torch, transformers, sklearn' 2>/dev/null; then
  echo "installing model2vec[distill], torch, transformers, scikit-learn into $venv ..." >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'model2vec[distill]==0.10.0' torch transformers scikit-learn
fi
if [[ -n "${STRATA_BIN:-}" ]]; then bin="$STRATA_BIN/strata"; else scripts/build.sh >&2; bin="$root/.build/release/strata"; fi

if [[ $quick = 1 ]]; then
  corpora=("nouns=corpora/sample/wordnet-nouns-3000.jsonl:lexname:26" "fortunes=corpora/sample/fortunes-3000.jsonl:category:43")
else
  corpora/build.sh >&2
  corpora=("nouns=corpora/build/wordnet-nouns.jsonl:lexname:26" "fortunes=corpora/build/fortunes.jsonl:category:43")
fi
embedders=(minilm static:128 static static:384)
work="$(mktemp -d /tmp/strata-static-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }

echo "== distil (strata distill --force)"
for d in 128 256 384; do
  t0=$(now); "$bin" distill --dimension "$d" --force --quiet; t1=$(now)
  printf 'distill %d columns: %.1f s\n' "$d" "$(echo "$t1 - $t0" | bc)"
done
"$bin" run --help >/dev/null
echo "== embed (strata embed into a fresh state; wall of the whole command)"
printf '{' > "$work/times.json"; sep=""
for spec in "${corpora[@]}"; do
  name="${spec%%=*}"; rest="${spec#*=}"; path="${rest%%:*}"
  for e in "${embedders[@]}"; do
    state="$(mktemp -d "$work/state.XXXX")"
    t0=$(now)
    "$bin" embed "$path" --embedder "$e" --state "$state" --out "$work/$name.${e//:/-}.npy" --quiet
    t1=$(now)
    s=$(printf %.3f "$(echo "$t1 - $t0" | bc)")
    printf '%s: %s %.2f s\n' "$name" "$e" "$s"
    printf '%s"%s.%s": %s' "$sep" "$name" "$e" "$s" >> "$work/times.json"; sep=", "
    rm -rf "$state"
  done
done
printf '}\n' >> "$work/times.json"
args=()
for spec in "${corpora[@]}"; do args+=(--corpus "$spec"); done
OMP_NUM_THREADS=2 "$venv/bin/python" "$here/static_embedder.py" --work "$work" --model-dir "$model_dir" \
  --embedders "$(IFS=,; echo "${embedders[*]}")" "${args[@]}"

if [[ $throughput = 1 ]]; then
  echo "== throughput on package summaries"
  [[ -f corpora/build/packages.jsonl ]] || python3 corpora/build_packages.py >&2
  gunzip -c corpora/sample/packages-20300.jsonl.gz > "$work/p20k.jsonl"
  for run in "minilm $work/p20k.jsonl" "static $work/p20k.jsonl" "static corpora/build/packages.jsonl"; do
    set -- $run
    state="$(mktemp -d "$work/state.XXXX")"
    n=$(wc -l < "$2")
    t0=$(now); "$bin" embed "$2" --embedder "$1" --state "$state" --out "$work/t.npy" --quiet; t1=$(now)
    s=$(printf %.3f "$(echo "$t1 - $t0" | bc)")
    printf '%s on %s (%d documents): %.1f s, %.0f documents/s\n' "$1" "$(basename "$2")" "$n" "$s" "$(echo "$n / $s" | bc -l)"
    rm -rf "$state"
  done
fi
