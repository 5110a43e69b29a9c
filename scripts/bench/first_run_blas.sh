#!/usr/bin/env bash
# A first `strata run` (empty state: embeds everything) on N short documents, once on the system
# OpenBLAS and once on the runtime one (scripts/fetch-openblas.sh), in one invocation. Keyword labels,
# --k 50. Prints wall time, the stage timings from topics.json and, with perf, the share of CPU samples
# inside the BLAS library (the rest is "outside BLAS"). Last line:
#   ratios: first_run_system_vs_runtime=X
#
#   scripts/bench/first_run_blas.sh [N]      # default 100000 WordNet glosses (corpora/build.sh)
#
# OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are unset for this benchmark command alone, so each library picks
# its kernel for this CPU (printed by `strata --version`).
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${1:-100000}"
scripts/fetch-model.sh >/dev/null
scripts/fetch-openblas.sh >/dev/null
[ -f corpora/build/wordnet-all.jsonl ] || corpora/build.sh >&2
flock /tmp/strata-swift-build.lock swift build -c release --product strata 2>&1 | grep -E "error|Build of" >&2 || true
S="$PWD/.build/release/strata"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
head -n "$N" corpora/build/wordnet-all.jsonl > "$work/docs.jsonl"
[ "$(wc -l < "$work/docs.jsonl")" -eq "$N" ] || { echo "corpus has fewer than $N documents" >&2; exit 1; }
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
have_perf=0; command -v perf >/dev/null && perf stat -e task-clock true >/dev/null 2>&1 && have_perf=1
declare -A wall
for which in system runtime; do
  blas="$([ "$which" = system ] && echo system || echo "")"
  echo "== $which BLAS: $(STRATA_BLAS="$blas" "$S" --version | tail -n 1)"
  rm -rf "$work/.strata" "$work/docs.topics.jsonl"
  cmd=("$S" run "$work/docs.jsonl" --k 50 --quiet)
  t0=$(date +%s.%N)
  if [ $have_perf = 1 ]; then
    STRATA_BLAS="$blas" perf record -q -F 49 -o "$work/perf.$which" -- "${cmd[@]}" >/dev/null 2>"$work/perf.err"
  else
    STRATA_BLAS="$blas" "${cmd[@]}" >/dev/null
  fi
  t1=$(date +%s.%N)
  wall[$which]=$(python3 -c "print($t1 - $t0)")
  python3 - "$work/.strata/topics.json" "${wall[$which]}" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))["run"]
t = run["timings"]
print(f"  wall {float(sys.argv[2]):.1f} s; run.blas: {run.get('blas')}")
print("  stages (s): " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(t.items(), key=lambda kv: -kv[1])))
PY
  if [ $have_perf = 1 ]; then
    perf report -q -i "$work/perf.$which" --sort dso 2>/dev/null | python3 -c '
import sys
share = {}
for line in sys.stdin:
    parts = line.split()
    if len(parts) >= 2 and parts[0].endswith("%"):
        share[parts[1]] = share.get(parts[1], 0) + float(parts[0][:-1])
blas = sum(v for k, v in share.items() if "blas" in k.lower() or "lapack" in k.lower())
top = ", ".join(f"{k} {v:.1f}%" for k, v in sorted(share.items(), key=lambda kv: -kv[1])[:5])
print(f"  CPU samples in BLAS: {blas:.1f}%, outside BLAS: {100 - blas:.1f}% (top: {top})")'
  fi
done
python3 -c "print(f'ratios: first_run_system_vs_runtime={${wall[system]} / ${wall[runtime]}:.2f}')"
