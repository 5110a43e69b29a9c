#!/usr/bin/env bash
# Outputs identical before and after a change (issue #16): runs two strata binaries over the same cases
# and diffs their topic columns and topics.json with run ids, timestamps and timings taken out.
#   scripts/check-identical.sh BASE_BIN NEW_BIN [--quick]     both sides, then the diff
#   scripts/check-identical.sh --outputs BIN DIR [--quick]     one side's normalised outputs into DIR
#   scripts/check-identical.sh --diff DIR_A DIR_B              compare two such folders
# Cases: the two shipped samples (default k and --k 20; fortunes also with the local LLM when its server
# runs; one request at a time, since concurrent requests to llama.cpp can change a reply) and the full WordNet nouns (default and --k 20; skipped with --quick), each a first run then an
# incremental run after a delta (0.5% removed, 0.5% changed, 1% new). Exit 0 when every file matches.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

normalise() {  # normalise SRC_STATE_DIR SRC_TOPICS_JSONL DEST_PREFIX
    python3 - "$@" <<'EOF'
import json, re, sys
state, columns, dest = sys.argv[1:4]
run_id = re.compile(r"^run-\d+-[0-9a-f]+$")
ids = {}
def scrub(x, key=""):
    if isinstance(x, dict):
        return {k: scrub(v, k) for k, v in x.items() if k not in ("started", "finished", "timings")}
    if isinstance(x, list):
        return [scrub(v) for v in x]
    if isinstance(x, str) and run_id.match(x):
        return ids.setdefault(x, f"RUN{len(ids)}")
    return x
topics = json.load(open(f"{state}/topics.json"))
topics["run"].pop("id", None)
topics["run"]["source"] = topics["run"]["source"].rsplit("/", 1)[-1]   # a temporary folder each time
with open(dest + ".topics.json", "w") as out:
    json.dump(scrub(topics), out, indent=1, sort_keys=True)
with open(dest + ".columns.jsonl", "w") as out:
    for line in open(columns):
        row = json.loads(line)
        out.write(json.dumps(scrub({k: v for k, v in row.items() if k.startswith("topic_") or k == "id"}),
                             sort_keys=True) + "\n")
EOF
}

delta() {  # delta FILE: 0.5% removed, 0.5% changed, 1% new, deterministically
    python3 - "$1" <<'EOF'
import json, sys
path = sys.argv[1]
rows = [json.loads(l) for l in open(path)]
out = []
for i, r in enumerate(rows):
    if i % 200 == 0:
        continue
    if i % 200 == 1:
        r["text"] = r["text"] + " (revised)"
    out.append(r)
for i, r in enumerate(rows[::100]):
    out.append({**r, "id": f"{r['id']}-new{i}", "text": "Also: " + r["text"]})
with open(path, "w") as f:
    for r in out:
        f.write(json.dumps(r) + "\n")
EOF
}

one_case() {  # one_case BIN DIR NAME CORPUS [run args...]
    local bin="$1" dir="$2" name="$3" corpus="$4"; shift 4
    local work; work=$(mktemp -d)
    cp "$corpus" "$work/docs.jsonl"
    "$bin" run "$work/docs.jsonl" --quiet "$@" || [ $? -eq 3 ]
    normalise "$work/.strata" "$work/docs.topics.jsonl" "$dir/$name.first"
    delta "$work/docs.jsonl"
    "$bin" run "$work/docs.jsonl" --quiet "$@" || [ $? -eq 3 ]
    normalise "$work/.strata" "$work/docs.topics.jsonl" "$dir/$name.incremental"
    rm -rf "$work"
    echo "  $name done" >&2
}

outputs() {  # outputs BIN DIR [--quick]
    local bin; bin=$(readlink -f "$1"); local dir="$2" quick="${3:-}"
    mkdir -p "$dir"
    for corpus in fortunes-3000 wordnet-nouns-3000; do
        one_case "$bin" "$dir" "$corpus.auto" "corpora/sample/$corpus.jsonl"
        one_case "$bin" "$dir" "$corpus.k20" "corpora/sample/$corpus.jsonl" --k 20
    done
    if url=$(scripts/llm-server.sh url 2>/dev/null) && scripts/llm-server.sh status >/dev/null 2>&1; then
        one_case "$bin" "$dir" "fortunes-3000.llm" corpora/sample/fortunes-3000.jsonl --k 20 \
            --labeler openai:gemma-3-270m --llm-base-url "$url" --llm-concurrency 1   # one request at a time: the same order, the same replies
    else
        echo "  (local LLM server not running: LLM case skipped)" >&2
    fi
    if [ "$quick" != "--quick" ]; then
        corpora/build.sh >/dev/null
        one_case "$bin" "$dir" "nouns.auto" corpora/build/wordnet-nouns.jsonl
        one_case "$bin" "$dir" "nouns.k20" corpora/build/wordnet-nouns.jsonl --k 20
    fi
}

compare() {  # compare DIR_A DIR_B
    local bad=0 n=0
    for a in "$1"/*; do
        local b="$2/$(basename "$a")"; n=$((n + 1))
        if [ ! -f "$b" ]; then echo "missing in $2: $(basename "$a")"; bad=1
        elif ! cmp -s "$a" "$b"; then echo "DIFFERS: $(basename "$a")"; { diff "$a" "$b" | head -20; } || true; bad=1; fi
    done
    [ "$bad" = 0 ] && echo "identical: $n files ($1 vs $2)"
    return "$bad"
}

case "${1:-}" in
    --outputs) outputs "$2" "$3" "${4:-}" ;;
    --diff) compare "$2" "$3" ;;
    ""|-h|--help) sed -n '2,9p' "$0"; exit 2 ;;
    *)
        out=$(mktemp -d)
        outputs "$1" "$out/base" "${3:-}"
        outputs "$2" "$out/new" "${3:-}"
        compare "$out/base" "$out/new"
        ;;
esac
