#!/usr/bin/env bash
# First run vs incremental run on N documents (default 100,000 WordNet glosses): the first run fits
# from an empty state (embeds everything); each incremental run starts from a copy of that state and
# adds 1% new documents. Prints both times, the median incremental time over R repeats, and the ratio.
#   scripts/bench/incremental.sh [N] [R]
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${1:-100000}"
R="${2:-3}"
NEW=$(( N / 100 ))
scripts/fetch-model.sh >/dev/null
[ -f corpora/build/wordnet-all.jsonl ] || corpora/build.sh >&2
swift build -c release -Xswiftc -enable-testing --product strata 2>&1 | grep -E "error|Build of" >&2 || true
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
head -n "$N" corpora/build/wordnet-all.jsonl > "$work/base.jsonl"
head -n $(( N + NEW )) corpora/build/wordnet-all.jsonl > "$work/grown.jsonl"
[ "$(wc -l < "$work/grown.jsonl")" -eq $(( N + NEW )) ] || { echo "corpus has fewer than $(( N + NEW )) documents" >&2; exit 1; }
S="$PWD/.build/release/strata"
now() { date +%s.%N; }
cd "$work"
cp base.jsonl docs.jsonl
echo "▸ first run: $N documents, empty state (--k 50)" >&2
t0=$(now); "$S" run docs.jsonl --k 50 --quiet >/dev/null; t1=$(now)
first=$(python3 -c "print($t1 - $t0)")
cp -a .strata state.after-first
times=()
for r in $(seq 1 "$R"); do
  rm -rf .strata; cp -a state.after-first .strata
  cp grown.jsonl docs.jsonl
  t0=$(now); "$S" run docs.jsonl --k 50 --quiet >/dev/null; t1=$(now)
  times+=("$(python3 -c "print($t1 - $t0)")")
  python3 - <<'PY' >&2
import json; d = json.load(open('.strata/topics.json'))
print("  incremental run: mode %s, embedded %d, drift %s" % (d['run']['mode'], d['run']['counts']['embedded'],
      {k: d['drift'][k] for k in ('documents_new', 'documents_unassigned', 'relabelled')}))
PY
done
python3 - "$first" "${times[@]}" <<'PY'
import statistics, sys
first = float(sys.argv[1]); inc = [float(x) for x in sys.argv[2:]]
med = statistics.median(inc)
print(f"first run (embed + fit + label + write): {first:.1f} s")
print("incremental runs (+1% new): " + ", ".join(f"{x:.2f} s" for x in inc) + f"; median {med:.2f} s")
print(f"incremental / first = {med / first * 100:.2f}% (target ≤ 5%)")
PY
