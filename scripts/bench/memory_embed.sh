#!/usr/bin/env bash
# Peak memory of `strata embed` on 100,000 documents (WordNet glosses, all parts of speech) with an empty
# cache, against the 1 GB + output-vectors budget.
#   scripts/bench/memory_embed.sh [N]      # default N = 100000
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${1:-100000}"
scripts/fetch-model.sh >/dev/null
[ -f corpora/build/wordnet-all.jsonl ] || corpora/build.sh >&2
swift build -c release -Xswiftc -enable-testing --product strata 2>&1 | grep -E "error|Build complete" >&2 || true
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -n "$N" corpora/build/wordnet-all.jsonl > "$work/docs.jsonl"
/usr/bin/time -v .build/release/strata embed "$work/docs.jsonl" --out "$work/vectors.npy" --state "$work/state" --quiet \
    2> "$work/time.txt"
rss_kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$work/time.txt")
wall=$(awk '/Elapsed \(wall clock\)/ {print $NF}' "$work/time.txt")
out_bytes=$((N * 384 * 4))
python3 - "$rss_kb" "$out_bytes" "$N" "$wall" <<'PY'
import sys
rss = int(sys.argv[1]) * 1024; out = int(sys.argv[2]); n = int(sys.argv[3])
budget = 1_000_000_000 + out
print(f"embed {n} documents: wall {sys.argv[4]}, max RSS {rss/2**20:.1f} MiB; output vectors {out/2**20:.1f} MiB; "
      f"budget 1 GB + output = {budget/2**20:.1f} MiB -> {'within' if rss <= budget else 'OVER'} ({rss/budget:.2f} of budget)")
PY
