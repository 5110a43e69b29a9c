#!/usr/bin/env bash
# Wall time and peak RSS of a first `strata run --embedder static` (defaults otherwise: k auto, keyword
# labels) at growing corpus sizes, each in a fresh state (nothing cached), with the stage timings from
# topics.json (issue #27: time should grow linearly, memory stay flat).
#
#   scripts/bench/scale.sh [N…]     (default: 100000 700000 1039469 — prefixes of the package corpus,
#                                    a fair sample each; 1,039,469 is every package with a summary)
#   STRATA_SCALE_CORPUS=corpora/build/large-10000000.jsonl scripts/bench/scale.sh 100000 700000 2000000 10000000
#
# The package corpus comes from corpora/build_packages.py --limit (deterministic, sha256 printed); with
# STRATA_SCALE_CORPUS the sizes are prefixes of that file (corpora/build_large.py writes it in hash order).
# STRATA_SCALE_DELTA=1 adds, after each first run, the nightly over a 1% delta of the same documents
# (scripts/bench/delta_corpus.py: every 100th text changed) in the same state: its wall time and peak RSS.
# STRATA_BIN names a folder holding a release strata (default: scripts/build.sh's). OPENBLAS_* are
# unset for this command alone, so the kernel is the one this CPU picks (printed).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
sizes=("$@")
(( ${#sizes[@]} )) || sizes=(100000 700000 1039469)
if [[ -n "${STRATA_BIN:-}" ]]; then bin="$STRATA_BIN/strata"; else scripts/build.sh >&2; bin="$root/.build/release/strata"; fi
work="$(mktemp -d /tmp/strata-scale-run.XXXXXX)"
trap 'rm -rf "$work"' EXIT
echo "strata: $bin; $("$bin" --version 2>/dev/null | tail -1)" >&2
"$bin" distill >&2
largest=0
for n in "${sizes[@]}"; do (( n > largest )) && largest=$n; done
if [[ -n "${STRATA_SCALE_CORPUS:-}" ]]; then
  ln -s "$(realpath "$STRATA_SCALE_CORPUS")" "$work/all.jsonl"
  echo "corpus: $STRATA_SCALE_CORPUS" >&2
else
  python3 corpora/build_packages.py --limit "$largest" --out "$work/all.jsonl" >&2
fi
printf '%10s %10s %10s  %s\n' documents wall_s peak_GB "stages (s)"
for n in "${sizes[@]}"; do
  dir="$work/$n"
  mkdir -p "$dir"
  head -n "$n" "$work/all.jsonl" >"$dir/docs.jsonl"
  measure() {  # measure LABEL CORPUS: one timed `strata run` in $dir's state, one table row
    rc=0
    /usr/bin/time -v "$bin" run "$2" --embedder static --state "$dir/.strata" --quiet >"$dir/out" 2>"$dir/time" || rc=$?
    [[ $rc == 0 || $rc == 3 ]] || { tail -20 "$dir/time" >&2; exit 1; }
    wall=$(python3 -c "import sys; h=sys.argv[1].split(':'); print(round(sum(float(x) * 60 ** i for i, x in enumerate(reversed(h))), 1))" \
           "$(grep -E 'Elapsed \(wall' "$dir/time" | awk '{print $NF}')")
    rss=$(grep 'Maximum resident' "$dir/time" | awk '{printf "%.2f", $NF / 1048576}')
    stages=$(python3 -c "import json,sys; t=json.load(open(sys.argv[1]))['run']['timings']; print(' '.join(f'{k} {v:.1f}' for k, v in t.items()))" "$dir/.strata/topics.json")
    printf '%10s %10s %10s  %s\n' "$1" "$wall" "$rss" "$stages"
  }
  measure "$n" "$dir/docs.jsonl"
  if [[ -n "${STRATA_SCALE_DELTA:-}" ]]; then
    python3 "$here/delta_corpus.py" "$dir/docs.jsonl" "$dir/delta.jsonl" >&2
    mv "$dir/delta.jsonl" "$dir/docs.jsonl"
    measure "$n +1%" "$dir/docs.jsonl"
  fi
  rm -rf "$dir"
done
