#!/usr/bin/env bash
# Runs the Strata nightly on Kubernetes from strata-nightly.yaml beside this script: applies the
# ConfigMap and claims, then the Jobs strata-embed → strata-fit → strata-assign one at a time, each after
# the previous one completed (Kubernetes has no dependencies between Jobs), and stops at the first that
# fails, printing its failed indexes and their pods' exit codes.
#
#   deploy/kubernetes/nightly.sh [--from embed|fit|assign]
#
# Run it from cron or a CI schedule with a kubectl context that may create Jobs. Each step deletes the
# previous night's Job of that name first (a finished Job never runs again). --from starts at a later
# step: after a failure, fix the cause and rerun from the failed step; all its indexes run again, and the
# shards that had finished find nothing left to do (every step is idempotent).
# Environment: STRATA_KUBECTL_ARGS (e.g. "--context prod --namespace strata"), STRATA_WAIT_TIMEOUT
# (per step, default 12h), STRATA_MANIFEST (default: strata-nightly.yaml beside this script).
# Exit codes: 0 done, 1 a step failed or timed out, 2 usage.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
me=nightly.sh
manifest="${STRATA_MANIFEST:-$here/strata-nightly.yaml}"
timeout="${STRATA_WAIT_TIMEOUT:-12h}"
read -r -a kargs <<< "${STRATA_KUBECTL_ARGS:-}"

fail() { echo "$me: $1" >&2; exit "${2:-2}"; }   # fail MESSAGE [EXIT CODE, default 2]
k() { kubectl "${kargs[@]}" "$@"; }
condition() { k get job "$1" -o jsonpath="{.status.conditions[?(@.type==\"$2\")].status}"; }

# check_shards JOB: an Indexed Job's completions and env STRATA_SHARD_COUNT must equal the ConfigMap's
# count, or some shards would never run.
check_shards() {
    local want got
    want="$(k get configmap strata-nightly -o jsonpath='{.data.STRATA_SHARD_COUNT}')"
    got="$(k get job "$1" -o jsonpath='{.spec.completions}/{.spec.template.spec.containers[0].env[?(@.name=="STRATA_SHARD_COUNT")].value}')"
    if [ "$got" != "$want/$want" ]; then
        k delete job "$1" --wait=false >/dev/null || true
        fail "job/$1: completions/STRATA_SHARD_COUNT are $got but the ConfigMap says $want: make them equal in $manifest"
    fi
}

# wait_job JOB: 0 when the Job completes; 1 when it fails or STRATA_WAIT_TIMEOUT passes. Waits for
# both conditions at once, so a failure is noticed when it happens, not at the timeout.
wait_job() {
    local pids=()
    kubectl "${kargs[@]}" wait --for=condition=complete "job/$1" --timeout="$timeout" >/dev/null 2>&1 &
    pids+=("$!")
    kubectl "${kargs[@]}" wait --for=condition=failed "job/$1" --timeout="$timeout" >/dev/null 2>&1 &
    pids+=("$!")
    wait -n || true
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
    [ "$(condition "$1" Complete)" = True ]
}

# report JOB STEP: what failed and how to go on.
report() {
    local failed
    failed="$(k get job "$1" -o jsonpath='{.status.failedIndexes}')"
    if [ "$(condition "$1" Failed)" != True ]; then echo "$me: job/$1 did not finish within $timeout" >&2; fi
    if [ -n "$failed" ]; then echo "$me: job/$1 failed indexes (shards): $failed" >&2; fi
    echo "$me: failed pods (index, exit code, name; exit 3 is 'done with warnings', which a Job counts as failed):" >&2
    k get pods -l "job-name=$1" --field-selector=status.phase=Failed -o jsonpath='{range .items[*]}{.metadata.annotations.batch\.kubernetes\.io/job-completion-index}{"\t"}{.status.containerStatuses[0].state.terminated.exitCode}{"\t"}{.metadata.name}{"\n"}{end}' >&2 || true
    echo "$me: logs: kubectl logs POD; then rerun: $0 --from $2" >&2
}

# run STEP: replaces last night's Job with a fresh one and waits for it.
run() {
    local job="strata-$1"
    k delete job "$job" --ignore-not-found --cascade=foreground >/dev/null
    k apply -f "$manifest" -l "app.kubernetes.io/component=$1" >/dev/null
    if [ "$1" != fit ]; then check_shards "$job"; fi
    echo "$me: job/$job started; waiting (at most $timeout)" >&2
    if ! wait_job "$job"; then report "$job" "$1"; fail "job/$job failed" 1; fi
    echo "$me: job/$job complete" >&2
}

from=embed
case "${1:-}" in
    "") ;;
    --from) from="${2:-}" ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) fail "unknown argument $1 (usage: $me [--from embed|fit|assign])" ;;
esac
case "$from" in
    embed) steps=(embed fit assign) ;;
    fit) steps=(fit assign) ;;
    assign) steps=(assign) ;;
    *) fail "--from ${from}: expected embed, fit or assign" ;;
esac
command -v kubectl >/dev/null || fail "kubectl not found"
[ -f "$manifest" ] || fail "no manifest at $manifest"

k apply -f "$manifest" -l 'app.kubernetes.io/component in (config,storage)'
for step in "${steps[@]}"; do run "$step"; done
echo "$me: the nightly is done: topics are in the source table (topic_id, topic_label, topic_score, topic_parent_id, topic_run)"
