#!/usr/bin/env bash
# The main job on a shipped corpus, from a fresh Debian machine: installs what is missing (apt packages,
# the MiniLM model, the local LLM server — built once), builds Strata (both at once), runs
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
# Strata's release build (scripts/build.sh) runs in the background while the LLM server installs (its
# one-time llama.cpp compile) and starts; both print where they are every 20–30 s.
echo "▸ building strata (release) in the background; log: .build/build.log" >&2
scripts/build.sh &
build_pid=$!
trap 'kill $build_pid 2>/dev/null || true' EXIT
echo "▸ local LLM server" >&2
LLM_URL=$(scripts/llm-server.sh start)
wait $build_pid || { echo "demo: the build failed" >&2; exit 1; }
echo "▸ strata and the LLM server ready after $(( $(date +%s) - start )) s" >&2
# The static embedder's table (`--embedder static`), distilled from MiniLM once (~15 s; nothing when up to date).
.build/release/strata distill --quiet

mkdir -p out/demo
cp "$CORPUS" out/demo/
INPUT="out/demo/$(basename "$CORPUS")"
.build/release/strata run "$INPUT" --k "$K" --labeler openai:gemma-3-270m --llm-base-url "$LLM_URL" || status=$?
status=${status:-0}
echo "demo finished in $(( $(date +%s) - start )) s (exit $status; 3 = done with warnings, e.g. some labels fell back to keywords)" >&2
[ "$status" -eq 0 ] || [ "$status" -eq 3 ]
