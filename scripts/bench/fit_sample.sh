#!/usr/bin/env bash
# Sampled fit against the full fit (issue #27): `strata run --fit-sample S` fits k-means (and chooses
# nothing: k is fixed) on a seeded sample of S documents and assigns every document to its centroids.
# For each corpus, sample size and seed (1, 2, 3) this runs a full refit from scratch on one warm state
# (`--full --cold-start`, static embedder, keyword labels, so vectors come from the cache and only the
# fit is measured), reads the topic column written back (NAME.topics.jsonl), and prints NMI against the truth field (median
# of the 3 seeds) beside the whole fit's, with the fit's wall time.
#
#   scripts/bench/fit_sample.sh                 # WordNet nouns (82,115, k=26, truth lexname), fortunes (15,217, k=43, category)
#   scripts/bench/fit_sample.sh --packages      # also the 700k package corpus (no truth: NMI of each fit against the whole fit of seed 1)
#   scripts/bench/fit_sample.sh --packages-only # the package corpus alone
#
# STRATA_BIN names a folder holding a release strata (default: scripts/build.sh's). OPENBLAS_* are unset
# for this command alone, so the kernel is the one this CPU picks (printed).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
packages=0 labelled=1
for a in "$@"; do
  case "$a" in
    --packages) packages=1 ;;
    --packages-only) packages=1 labelled=0 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fit_sample.sh: unknown argument $a" >&2; exit 2 ;;
  esac
done
if [[ -n "${STRATA_BIN:-}" ]]; then bin="$STRATA_BIN/strata"; else scripts/build.sh >&2; bin="$root/.build/release/strata"; fi
[[ -f corpora/build/wordnet-nouns.jsonl && -f corpora/build/fortunes.jsonl ]] || corpora/build.sh >&2
work="$(mktemp -d /tmp/strata-fit-sample.XXXXXX)"
trap 'rm -rf "$work"' EXIT
echo "strata: $bin; BLAS: $("$bin" --version 2>/dev/null | tr '\n' ' ')" >&2
"$bin" distill >&2

cases=()
(( labelled )) && cases+=("wordnet-nouns 26 lexname 5000 10000 25000 50000 100000" "fortunes 43 category 2000 5000 10000 100000")
if (( packages )); then
  [[ -f corpora/build/packages.jsonl ]] || python3 corpora/build_packages.py >&2
  cases+=("packages 209 - 25000 50000 100000 1000000")
fi
for c in "${cases[@]}"; do
  read -r name k truth sizes <<<"$c"
  cp "corpora/build/$name.jsonl" "$work/$name.jsonl"
  "$bin" run "$work/$name.jsonl" --embedder static --k "$k" --quiet >/dev/null || [[ $? == 3 ]]
  for size in $sizes; do
    for seed in 1 2 3; do
      t0=$(date +%s.%N)
      "$bin" run "$work/$name.jsonl" --embedder static --k "$k" --full --cold-start --seed "$seed" --fit-sample "$size" --quiet >/dev/null || [[ $? == 3 ]]
      t1=$(date +%s.%N)
      python3 - "$work/$name.topics.jsonl" "$work/$name.$size.$seed.topics" <<'PY'
import json, sys
with open(sys.argv[2], "w") as out:
    for line in open(sys.argv[1]):
        out.write(str(json.loads(line)["topic_id"]) + "\n")
PY
      echo "$name $size $seed $(echo "$t1 - $t0" | bc)" >>"$work/times"
    done
  done
  python3 "$here/fit_sample.py" "corpora/build/$name.jsonl" "$truth" "$work" "$name" $sizes
done
