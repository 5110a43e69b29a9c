#!/usr/bin/env bash
# Label quality and cost with the local LLM (issue #13's figures), in one invocation:
#   1. the demo fit (3,000 WordNet glosses, k = 12): every published label's nearest topic centroid is
#      its own (label_confidence > 0), printed as the README's table;
#   2. `strata eval` label fidelity on the full WordNet nouns (--k 26) and full fortunes (--k 43), with
#      the local model's labels and with keyword labels, lowest topic beside each; for the local model's
#      labels also their shape (median words, one-word share, duplicates, parents joining two children)
#      and the class match against corpora/classes/*.json (issue #28);
#   3. seconds to label 100 topics (WordNet nouns, --k 100: label + hierarchy stages), label cache emptied;
#   4. `strata estimate` on a fresh state vs what the run then sends (fortunes sample, --k 10).
#   scripts/eval/labels.sh [--workdir DIR] [--only demo|fidelity|time|estimate]
# Needs the local LLM server (started and stopped here when it is not running).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=/tmp/strata-labels; only=all
while [ $# -gt 0 ]; do
    case "$1" in
        --workdir) work="$2"; shift 2 ;;
        --only) only="$2"; shift 2 ;;
        *) echo "labels.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
scripts/setup.sh
scripts/fetch-model.sh >/dev/null
corpora/build.sh >/dev/null
swift build -c release -Xswiftc -enable-testing --product strata 2>&1 | grep -E "error|Build complete" >&2 || true
S="${STRATA_BIN:-$PWD/.build/release/strata}"
started=0
scripts/llm-server.sh status >/dev/null 2>&1 || started=1
URL=$(scripts/llm-server.sh start)
[ "$started" = 1 ] && trap 'scripts/llm-server.sh stop >/dev/null 2>&1 || true' EXIT
LLM=(--labeler openai:gemma-3-270m --llm-base-url "$URL")
mkdir -p "$work"

fit() {  # fit NAME CORPUS K [labeler args...]: a fresh first fit in $work/NAME
    local name="$1" corpus="$2" k="$3"; shift 3
    rm -rf "$work/$name"; mkdir -p "$work/$name"
    cp "$corpus" "$work/$name/docs.jsonl"
    "$S" run "$work/$name/docs.jsonl" --k "$k" --seed 42 --quiet "$@" || [ $? -eq 3 ]
}

refit() {  # refit NAME K [labeler args...]: the same fit from scratch (embeddings cached), every topic relabelled
    local name="$1" k="$2"; shift 2
    "$S" run "$work/$name/docs.jsonl" --k "$k" --seed 42 --quiet --full --cold-start --relabel "$@" || [ $? -eq 3 ]
}

fidelity() {  # fidelity NAME TRUTH [CLASSES]: overall and lowest per-topic label fidelity; with CLASSES, shape and class match
    local classes=()
    [ -n "${3:-}" ] && classes=(--class-descriptions "$3")
    "$S" eval "$work/$1/docs.jsonl" --truth "$2" "${classes[@]}" --json > "$work/$1/eval.json"
    python3 - "$work/$1/eval.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
per = [t["label_fidelity"] for t in r["per_topic"] if t.get("label_fidelity") is not None]
print(f'label fidelity {r["label_fidelity"]:.3f}  lowest topic {min(per):.3f}  centroid reference {r["centroid_fidelity"]:.3f}  NMI {r["nmi"]:.3f}')
q = r.get("label_quality")
if q and q.get("clean_topics") is not None:
    s = q["shape"]
    print(f'    shape: median {s["median_words"]:g} words, {s["one_word_share"]:.0%} one word, duplicates {len(s["duplicates"])}, '
          f'parents joining two children {len(q["glued_parents"])} of {q["parents"]}; '
          f'class match {q["class_matches"]}/{q["clean_topics"]} = {q["class_matches"] / max(1, q["clean_topics"]):.3f}')
    for m in q["misses"]:
        print(f'    miss: topic {m["topic"]} "{m["label"]}": {m["majority_class"]} -> {m["nearest_class"]}')
    print("    labels: " + "; ".join(t["label"] for t in r["per_topic"]))
PY
}

if [ "$only" = all ] || [ "$only" = demo ]; then
    echo "== 1. demo fit (WordNet sample, k = 12, local model)"
    fit demo corpora/sample/wordnet-nouns-3000.jsonl 12 "${LLM[@]}"
    python3 - "$work/demo/.strata/topics.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("| id | label | description | source | confidence | keywords |\n|---|---|---|---|---:|---|")
for t in d["topics"]:
    print(f'| {t["id"]} | {t["label"]} | {t["description"]} | {t["label_source"]} | {t["label_confidence"]:.3f} | {", ".join(t["keywords"][:5])} |')
bad = [t["id"] for t in d["topics"] if not t["label_confidence"] > 0]
print(f'ungrounded labels: {len(bad)} {bad}   mode: {d["run"]["labeler"].get("mode")}   calls: {d["run"]["labeler"]["calls"]}')
PY
fi

if [ "$only" = all ] || [ "$only" = fidelity ]; then
    echo "== 2. label fidelity (strata eval)"
    for spec in "nouns:corpora/build/wordnet-nouns.jsonl:26:lexname:corpora/classes/wordnet-nouns.json" \
                "fortunes:corpora/build/fortunes.jsonl:43:category:corpora/classes/fortunes.json"; do
        IFS=: read -r name corpus k truth classes <<< "$spec"
        # A state left by an earlier invocation keeps its embeddings: refit from scratch instead of re-embedding.
        if [ -f "$work/$name/.strata/state.db" ] && cmp -s "$corpus" "$work/$name/docs.jsonl"; then refit "$name" "$k"; else fit "$name" "$corpus" "$k"; fi
        printf '%-9s k=%-3s keywords   ' "$name" "$k"; fidelity "$name" "$truth"
        refit "$name" "$k" "${LLM[@]}"; printf '%-9s k=%-3s local LLM  ' "$name" "$k"; fidelity "$name" "$truth" "$classes"
    done
fi

if [ "$only" = all ] || [ "$only" = time ]; then
    echo "== 3. labelling 100 topics (WordNet nouns, --k 100, local model)"
    [ -d "$work/nouns/.strata" ] || fit nouns corpora/build/wordnet-nouns.jsonl 100
    # Cached replies would time nothing: every prompt goes to the model.
    python3 -c "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('DELETE FROM label_cache'); c.commit()" "$work/nouns/.strata/state.db"
    refit nouns 100 "${LLM[@]}"
    python3 - "$work/nouns/.strata/topics.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["run"]
t = r["timings"]
print(f'label {t.get("label", 0):.1f} s + hierarchy {t.get("hierarchy", 0):.1f} s = {t.get("label", 0) + t.get("hierarchy", 0):.1f} s for {r["kmeans"]["k"]} topics; {r["labeler"]["calls"]} calls')
PY
fi

if [ "$only" = all ] || [ "$only" = estimate ]; then
    echo "== 4. estimate vs run (fortunes sample, --k 10, fresh state)"
    rm -rf "$work/est"; mkdir -p "$work/est"; cp corpora/sample/fortunes-3000.jsonl "$work/est/docs.jsonl"
    "$S" estimate "$work/est/docs.jsonl" --k 10 "${LLM[@]}" > "$work/est/estimate.txt"
    "$S" run "$work/est/docs.jsonl" --k 10 --seed 42 --quiet "${LLM[@]}" || [ $? -eq 3 ]
    python3 - "$work/est/estimate.txt" "$work/est/.strata/topics.json" <<'PY'
import json, re, sys
e = open(sys.argv[1]).read()
calls = int(re.search(r"LLM calls\s+(\d+)", e).group(1))
first = int(re.search(r"first attempts: (\d+)", e).group(1))
r = json.load(open(sys.argv[2]))["run"]["labeler"]
rc, rf = r["calls"], r["first_attempt_prompt_tokens"]
print(f"estimate: {calls} calls, {first} first-attempt input tokens; run: {rc} calls, {rf} first-attempt input tokens ({r['prompt_tokens']} total)")
print(f"ratios: tokens {first / rf:.3f} (|error| {abs(first - rf) / rf:.1%}), calls {calls / rc:.3f} (|error| {abs(calls - rc) / rc:.1%})")
PY
fi
