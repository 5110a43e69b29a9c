#!/usr/bin/env bash
# The main job on a shipped corpus, from a fresh Debian machine: installs what is missing (apt packages,
# the MiniLM model, the local LLM server — its first build takes 5–6 minutes), builds Strata, runs
# `strata run` on 3,000 WordNet noun glosses with the local LLM naming the topics, and prints the topic
# table. Outputs land in out/demo/ (topic column file, .strata/topics.json).
#   DEMO_CORPUS=corpora/sample/fortunes-3000.jsonl DEMO_K=auto scripts/demo.sh   # other corpus / k
set -euo pipefail
cd "$(dirname "$0")/.."

CORPUS="${DEMO_CORPUS:-corpora/sample/wordnet-nouns-3000.jsonl}"
K="${DEMO_K:-12}"
start=$(date +%s)

scripts/setup.sh
scripts/fetch-model.sh >/dev/null
# A current OpenBLAS for strata to load at run time (optional: the system OpenBLAS is the fallback).
scripts/fetch-openblas.sh >/dev/null || echo "$(basename "$0"): scipy-openblas32 not installed; strata uses the system OpenBLAS" >&2
echo "▸ local LLM server (first run builds llama.cpp: 5–6 minutes)" >&2
LLM_URL=$(scripts/llm-server.sh start)
echo "▸ building strata (release)" >&2
# An up-to-date build prints no line that the filter keeps: the filter must not decide the exit status.
build_log="$(swift build -c release --product strata 2>&1)" || { echo "$build_log" >&2; exit 1; }
grep -E "error|warning: unre|Compiling|complete" <<<"$build_log" | tail -3 >&2 || true

mkdir -p out/demo
cp "$CORPUS" out/demo/
INPUT="out/demo/$(basename "$CORPUS")"
.build/release/strata run "$INPUT" --k "$K" --labeler openai:gemma-3-270m --llm-base-url "$LLM_URL" || status=$?
status=${status:-0}
echo "demo finished in $(( $(date +%s) - start )) s (exit $status; 3 = done with warnings, e.g. some labels fell back to keywords)" >&2
[ "$status" -eq 0 ] || [ "$status" -eq 3 ]
