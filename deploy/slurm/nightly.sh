#!/usr/bin/env bash
# Submits the Strata nightly to Slurm: embed (an array of N shards) → fit (one job) → assign (an array
# of N shards), each step after the previous one with --dependency=afterok; prints the job ids and the
# commands to watch them.
#
#   export STRATA_SOURCE='postgres://strata@db.example:5432/corpus?table=docs'
#   export STRATA_SHARED='postgres://strata@db.example:5432/corpus'
#   export STRATA_STATE="$HOME/strata-state" PGPASSWORD=…      # or STRATA_PGPASSWORD_FILE
#   deploy/slurm/nightly.sh [--from embed|fit|assign] [--after JOBID]
#
# --from starts at a later step; --after makes the first submitted step wait for JOBID (afterok).
# Environment: STRATA_SHARDS (N, default 4), STRATA_BIN (default: strata on PATH), STRATA_K,
# STRATA_SEED, STRATA_LABELER (fit), STRATA_EMBED_ARGS / STRATA_FIT_ARGS / STRATA_ASSIGN_ARGS (more
# options for one strata command, e.g. STRATA_ASSIGN_ARGS="--batch-rows 2000"), STRATA_SBATCH_ARGS
# (extra sbatch options for every step, e.g. "--partition=batch --account=proj"),
# STRATA_EMBED_SBATCH_ARGS / STRATA_FIT_SBATCH_ARGS / STRATA_ASSIGN_SBATCH_ARGS (one step's, e.g.
# STRATA_FIT_SBATCH_ARGS="-c 16 --mem=64G"). sbatch passes this environment to the jobs; logs go to
# strata-STEP-JOB[_I].log in the current directory.
#
# When a shard fails: the steps after it are cancelled (--kill-on-invalid-dep=yes), and every step is
# idempotent, so only the failed index needs running again.
#   1. Find it:  sacct -j EMBEDJOB --format=JobID,State,ExitCode   (FAILED rows are JOB_I; a cluster
#      without accounting: grep the logs strata-embed-EMBEDJOB_*.log, or scontrol show job EMBEDJOB)
#   2. Rerun only index I, from the same environment (STRATA_SHARDS must be the nightly's N):
#        STRATA_SHARDS=4 sbatch --parsable --array=I deploy/slurm/embed.sbatch      → a new job id NEWJOB
#      or, while Slurm still knows the job (MinJobAge, 5 minutes by default), requeue it in place:
#        scontrol requeue EMBEDJOB_I                                            → NEWJOB=EMBEDJOB_I
#      (the task, not the whole array: afterok on an array that had a failed task never holds)
#   3. Resubmit the dependent steps:  deploy/slurm/nightly.sh --from fit --after NEWJOB
#   A failed assign shard: steps 1–2 with assign.sbatch; nothing depends on assign.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
me=nightly.sh

fail() { echo "$me: $*" >&2; exit 2; }
need() { [ -n "${!1:-}" ] || fail "$1 is not set: $2"; }

# submit STEP AFTER [sbatch options…]: prints the job id of STEP.sbatch, waiting for AFTER when set.
submit() {
    local step=$1 after=$2 common=() own=()
    shift 2
    local var="STRATA_${step^^}_SBATCH_ARGS"
    read -r -a common <<< "${STRATA_SBATCH_ARGS:-}"
    read -r -a own <<< "${!var:-}"
    local opts=(--parsable "${common[@]}" "${own[@]}" "$@")
    if [ -n "$after" ]; then opts+=(--dependency=afterok:"$after" --kill-on-invalid-dep=yes); fi
    local id
    id="$(sbatch "${opts[@]}" "$here/$step.sbatch")" || fail "sbatch $step.sbatch failed"
    echo "${id%%;*}"    # --parsable prints JOBID or JOBID;CLUSTER
}

from=embed after=""
while [ $# -gt 0 ]; do
    case "$1" in
        --from) from="${2:-}"; shift 2 || fail "--from needs embed, fit or assign" ;;
        --after) after="${2:-}"; shift 2 || fail "--after needs a job id" ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) fail "unknown argument $1 (usage: $me [--from embed|fit|assign] [--after JOBID])" ;;
    esac
done
case "$from" in embed | fit | assign) ;; *) fail "--from $from: expected embed, fit or assign" ;; esac
N="${STRATA_SHARDS:-4}"
[[ "$N" =~ ^[1-9][0-9]*$ ]] || fail "STRATA_SHARDS=$N is not a positive integer"
export STRATA_SHARDS="$N"
need STRATA_SOURCE "the documents, e.g. postgres://strata@db.example:5432/corpus?table=docs"
need STRATA_SHARED "the shared store, e.g. postgres://strata@db.example:5432/corpus"
if [ "$from" != assign ]; then need STRATA_STATE "fit's state directory, persistent and on a shared filesystem"; fi
command -v sbatch >/dev/null || fail "sbatch not found: run this on a Slurm login node"

ids=()
if [ "$from" = embed ]; then
    embed="$(submit embed "$after" --array=0-$((N - 1)))"
    echo "embed   $embed   (array 0-$((N - 1))${after:+, after $after})"
    ids+=("$embed"); after="$embed"
fi
if [ "$from" != assign ]; then
    fit="$(submit fit "$after")"
    echo "fit     $fit   ${after:+(after $after)}"
    ids+=("$fit"); after="$fit"
fi
assign="$(submit assign "$after" --array=0-$((N - 1)))"
echo "assign  $assign   (array 0-$((N - 1))${after:+, after $after})"
ids+=("$assign")

all="$(IFS=,; echo "${ids[*]}")"
echo "watch:  squeue -j $all"
echo "after:  sacct -j $all --format=JobID,JobName,State,ExitCode,Elapsed"
