#!/usr/bin/env bash
# Latency of `strata search` on N stored documents (default 100,000 WordNet glosses): p50/p95 over 100
# queries of one GEMV over all vectors, and with a topic filter, excluding the query's own embedding.
#   scripts/bench/search.sh [N]
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${1:-100000}"
scripts/fetch-model.sh >/dev/null
[ -f corpora/build/wordnet-all.jsonl ] || corpora/build.sh >&2
{ swift build -c release --product strata && swift build -c release --product strata-bench; } 2>&1 | grep -E "error|Build complete" >&2 || true
work="${SEARCH_BENCH_DIR:-$(mktemp -d)}"
mkdir -p "$work"
head -n "$N" corpora/build/wordnet-all.jsonl > "$work/docs.jsonl"
echo "▸ strata run on $N documents (cached after the first time)" >&2
.build/release/strata run "$work/docs.jsonl" --k 50 --quiet >/dev/null 2>&1
.build/release/strata-bench search --state "$work/.strata" --queries 100 --k 10
