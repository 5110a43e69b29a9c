#!/usr/bin/env bash
# Names the topics of finished Strata fits with two peer LLM topic namers, for comparison with Strata's own
# labels: Toponymy 0.5.0 (Strata's clusters as its one cluster layer, its own prompts and disambiguation)
# and BERTopic 0.17.4 (manual topic modelling with Strata's topic_id as y, representation
# bertopic.representation.OpenAI with its default chat prompt). Both talk to the local LLM server
# (scripts/llm-server.sh, Gemma 3 270M) and use all-MiniLM-L6-v2 from the local model cache; the document
# vectors come from `strata embed` (the same MiniLM). Per DIR it writes labels-toponymy.json and
# labels-bertopic.json (+ .calls.jsonl: every prompt and reply) and prints one line per method.
#
#   scripts/eval/peer_labels.sh DIR [DIR...]     # DIR = the folder holding docs.jsonl and .strata/
#
# Environment: STRATA_HOME (default ~/.cache/strata), STRATA_BIN (default .build/release/strata),
#   PEERS (toponymy, bertopic or both; default both), LLM_MODEL_NAME (model name sent; default gemma-3-270m).
# Needs: python3 with venv, PyPI (first run only; the venv's versions are pinned in peer_requirements.txt,
#   torch 2.13.0 as the CPU wheel where pip can find one), $STRATA_HOME/models/all-MiniLM-L6-v2
#   (scripts/fetch-model.sh), the LLM server (started here when not running; never stopped here).
# Took (2 cores, server shared with other work, 2026-12-07): venv install about 6 min once; WordNet nouns
#   (82k docs, k=26) and fortunes (15k docs, k=43): see the "seconds" in each labels-*.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 1 ] || { echo "usage: $0 DIR [DIR...]" >&2; exit 2; }

STRATA_HOME="${STRATA_HOME:-$HOME/.cache/strata}"
VENV="$STRATA_HOME/peers-venv"
LOCK="scripts/eval/peer_requirements.txt"
TORCH_VERSION="2.13.0"
INSTALL_LOG="$STRATA_HOME/peers-install.log"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

pip_step() {  # pip_step WHAT ARGS...: pip install into the venv, a progress line every 20 s
    local what="$1"; shift
    echo "peer_labels: installing $what (log: $INSTALL_LOG)" >&2
    "$VENV/bin/pip" install --disable-pip-version-check "$@" >>"$INSTALL_LOG" 2>&1 &
    local pid=$! t=0
    while kill -0 "$pid" 2>/dev/null; do
        sleep 5; t=$((t + 5))
        [ $((t % 20)) -eq 0 ] && echo "peer_labels:   ... $what, ${t} s" >&2
    done
    wait "$pid"
}

stamp="torch==$TORCH_VERSION $(sha256sum "$LOCK" | cut -c1-16)"
if [ "$(cat "$VENV/.peers-installed" 2>/dev/null)" != "$stamp" ]; then
    mkdir -p "$STRATA_HOME"; : >"$INSTALL_LOG"
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    if ! pip_step "torch $TORCH_VERSION (CPU wheel)" "torch==$TORCH_VERSION+cpu"; then
        echo "peer_labels: no CPU wheel of torch $TORCH_VERSION found; installing the default wheel" >&2
        pip_step "torch $TORCH_VERSION" "torch==$TORCH_VERSION" || { tail -20 "$INSTALL_LOG" >&2; exit 1; }
    fi
    pip_step "toponymy, bertopic, sentence-transformers, openai (pinned)" -r "$LOCK" \
        || { tail -20 "$INSTALL_LOG" >&2; exit 1; }
    echo "$stamp" >"$VENV/.peers-installed"
    "$VENV/bin/pip" freeze | grep -iE '^(torch|toponymy|bertopic|sentence-transformers|openai|transformers)[= @]' >&2
fi

scripts/llm-server.sh status >/dev/null 2>&1 || scripts/llm-server.sh start >/dev/null
URL="$(scripts/llm-server.sh url)"
echo "peer_labels: LLM server at $URL" >&2

rc=0
for dir in "$@"; do
    "$VENV/bin/python" scripts/eval/peer_labels.py "$dir" --base-url "$URL" \
        --model "${LLM_MODEL_NAME:-gemma-3-270m}" --method "${PEERS:-both}" \
        --strata "${STRATA_BIN:-$PWD/.build/release/strata}" || rc=1
done
exit $rc
