#!/usr/bin/env bash
# NMI/ARI of `strata run --k N` against the true classes, beside scikit-learn KMeans on the same
# embeddings with the same k, on the full WordNet-noun (26 lexicographer files) and fortunes (43 files)
# corpora, in one invocation.
#   scripts/eval/quality.sh                 # full corpora (builds them with corpora/build.sh)
#   scripts/eval/quality.sh --sample        # the shipped 3,000-document samples (quick)
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/setup.sh
scripts/fetch-model.sh >/dev/null
python3 -c 'import sklearn, threadpoolctl' 2>/dev/null || python3 -m pip install -q scikit-learn threadpoolctl
swift build -c release -Xswiftc -enable-testing --product strata 2>&1 | grep -E "error|Build complete" >&2 || true
if [ "${1:-}" = "--sample" ]; then
    nouns=corpora/sample/wordnet-nouns-3000.jsonl; fortunes=corpora/sample/fortunes-3000.jsonl
else
    corpora/build.sh >&2
    nouns=corpora/build/wordnet-nouns.jsonl; fortunes=corpora/build/fortunes.jsonl
fi
python3 scripts/eval/quality.py --strata .build/release/strata \
    --corpus "$nouns:lexname:26" --corpus "$fortunes:category:43"
