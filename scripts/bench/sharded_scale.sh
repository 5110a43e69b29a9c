#!/usr/bin/env bash
# Scale figures of the sharded nightly (issue #14) on the 700k package-summary corpus, in PostgreSQL:
#   load      the corpus into table docs of database strata_scale (vectors: all 700k embedded with 2
#             workers, ~40 min, or copied from STRATA_SCALE_SEED=DIR/.strata/state.db — the cache of a
#             single-machine `strata run` on the same corpus — in ~1 min);
#   embed     embed throughput per worker with 1, 2 and 4 workers: the vectors of 1/32 of the texts
#             (hash prefix 00–07, ~22k) are deleted and re-embedded by W workers over the whole table,
#             rates from the shard ledger (processed / seconds of each shard);
#   fit       the fit on one node (wall, peak RSS by /usr/bin/time, stage timings);
#   assign    assign throughput per worker with 1, 2 and 4 workers (topic columns reset to NULL before each);
#   overhead  coordination overhead per shard: 4 embed and 4 assign shards with nothing left to do.
#
#   scripts/bench/sharded_scale.sh [STEP…]     (default: all five, in that order; ~25 min with a seed)
#
# STRATA_SCALE_EMBEDDER=static runs every step with `--embedder static` (seed from a static run's state);
# STRATA_BIN=FOLDER runs another build's strata (e.g. the previous commit's, for a same-machine ratio).
#
# Needs the release binary (swift build -c release -Xswiftc -enable-testing --product strata) and PostgreSQL
# (scripts/pg-server.sh start). OPENBLAS_* are left as the machine sets them.
set -euo pipefail
cd "$(dirname "$0")/../.."
STEPS="${*:-load embed fit assign overhead}"
has() { [[ " $STEPS " == *" $1 "* ]]; }
BIN="${STRATA_BIN:-$PWD/.build/release}/strata"
EMBED_ARGS=()
[ -n "${STRATA_SCALE_EMBEDDER:-}" ] && EMBED_ARGS=(--embedder "$STRATA_SCALE_EMBEDDER")
CORPUS=corpora/build/packages.jsonl
[ -f "$CORPUS" ] || python3 corpora/build_packages.py
BASE="$(scripts/pg-server.sh start)"
ROOT="${BASE%/*}"
DB=strata_scale
URL="$ROOT/$DB"
SRC="$URL?table=docs"
PSQL="$(command -v psql || ls /usr/lib/postgresql/*/bin/psql | tail -1)"
q() { "$PSQL" "$1" -v ON_ERROR_STOP=1 -Atc "$2"; }
OUT="$(mktemp -d /tmp/strata-scale.XXXX)"
echo "scale: logs in $OUT; $(nproc) cores; $("$BIN" --version | tail -1)" >&2

# workers STEP W [extra args]: W shards of STEP at once; prints wall seconds of the slowest.
workers() {
    local step=$1 w=$2; shift 2
    local t0 pids=()
    t0=$(date +%s.%N)
    for ((i = 0; i < w; i++)); do
        "$BIN" "$step" "$SRC" --shared "$URL" --shard "$i/$w" --quiet "${EMBED_ARGS[@]}" "$@" >"$OUT/$step-$w-$i.log" 2>&1 & pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || { echo "scale: $step worker failed, see $OUT" >&2; exit 1; }; done
    awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN {printf "%.1f", a - b}'
}

ledger() {  # per-shard "processed seconds rate" of STEP with W shards
    q "$URL" "SELECT shard || ' ' || processed || ' ' || round(seconds::numeric, 1) || ' ' || round((processed / greatest(seconds, 1e-9))::numeric, 1)
              FROM strata.shards WHERE step = '$1' AND shard_count = $2 ORDER BY shard"
}

if has load; then
    echo "== load: $CORPUS into $DB"
    q "$BASE" "DROP DATABASE IF EXISTS $DB" >/dev/null
    q "$BASE" "CREATE DATABASE $DB" >/dev/null
    scripts/bench/load_pg_corpus.sh "$CORPUS" docs "$URL" >&2
    # Any --shared command creates schema strata; assign then stops (exit 5: no fit published yet).
    "$BIN" assign "$SRC" --shared "$URL" --quiet >/dev/null 2>&1 || true
    if [ -n "${STRATA_SCALE_SEED:-}" ]; then
        t0=$(date +%s)
        q "$URL" "DROP TABLE IF EXISTS strata.seed; CREATE UNLOGGED TABLE strata.seed (LIKE strata.embeddings)" >/dev/null
        python3 - "$STRATA_SCALE_SEED" <<'PY' | q "$URL" "COPY strata.seed (model, hash, dim, vector) FROM STDIN" >/dev/null
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for model, h, dim, v in db.execute("SELECT model, text_sha256, dim, vector FROM embeddings"):
    sys.stdout.write(f"{model}\t{h}\t{dim}\t\\\\x{v.hex()}\n")
PY
        q "$URL" "INSERT INTO strata.embeddings SELECT * FROM strata.seed ON CONFLICT DO NOTHING; DROP TABLE strata.seed" >/dev/null
        echo "seeded $(q "$URL" "SELECT COUNT(*) FROM strata.embeddings") vectors from $STRATA_SCALE_SEED in $(( $(date +%s) - t0 )) s (not a figure: a shortcut)"
    fi
    echo "embed all (2 workers, what is not seeded): $(workers embed 2) s wall, $(ledger embed 2 | awk '{s += $2} END {print s}') vectors"
fi
N=$(q "$URL" "SELECT COUNT(*) FROM docs")
echo "scale: $N documents" >&2

if has embed; then
    echo "== embed throughput: 1/32 of the texts re-embedded by W workers over the whole table"
    for w in 1 2 4; do
        q "$URL" "DELETE FROM strata.embeddings WHERE left(hash, 2) BETWEEN '00' AND '07'" >/dev/null
        wall=$(workers embed "$w")
        rates=$(ledger embed "$w")
        echo "embed workers=$w wall_s=$wall vectors=$(echo "$rates" | awk '{s += $2} END {print s}') per_worker_vps=$(echo "$rates" | awk '{s += $4} END {printf "%.1f", s / NR}') total_vps=$(echo "$rates" | awk '{s += $4} END {printf "%.1f", s}')   shards: $(echo "$rates" | tr '\n' ';')"
    done
fi

if has fit; then
    echo "== fit (one node)"
    rm -rf "$OUT/state"
    rc=0
    /usr/bin/time -v "$BIN" fit "$SRC" --shared "$URL" --state "$OUT/state" --quiet "${EMBED_ARGS[@]}" >"$OUT/fit.log" 2>"$OUT/fit.time" || rc=$?
    [ "$rc" = 0 ] || [ "$rc" = 3 ] || { cat "$OUT/fit.time" >&2; exit 1; }   # 3: done with warnings
    echo "fit: $(grep -E 'Elapsed \(wall' "$OUT/fit.time" | awk '{print $NF}') wall, peak RSS $(grep 'Maximum resident' "$OUT/fit.time" | awk '{printf "%.2f GB", $NF / 1048576}')"
    python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['run']; print('fit stages (s):', {k: round(v, 1) for k, v in r['timings'].items()})" "$OUT/state/topics.json"
fi

if has assign; then
    echo "== assign throughput (rows written per second per worker)"
    for w in 1 2 4; do
        q "$URL" "UPDATE docs SET topic_id = NULL, topic_label = NULL, topic_score = NULL, topic_parent_id = NULL, topic_run = NULL" >/dev/null
        q "$URL" "VACUUM docs" >/dev/null
        wall=$(workers assign "$w")
        rates=$(ledger assign "$w")
        echo "assign workers=$w wall_s=$wall per_worker_rows_s=$(echo "$rates" | awk '{s += $4} END {printf "%.0f", s / NR}')   shards: $(echo "$rates" | tr '\n' ';')"
    done
    [ "$(q "$URL" "SELECT COUNT(*) FROM docs WHERE topic_id IS NULL")" = 0 ] || { echo "scale: rows left without topic" >&2; exit 1; }
fi

if has overhead; then
    echo "== coordination overhead per shard (nothing left to do: read the table, pick the shard, check the store, ledger)"
    for w in 4; do
        echo "embed, all cached, $w shards at once: $(workers embed "$w") s wall"
        echo "assign, all rows current, $w shards at once: $(workers assign "$w") s wall"
    done
fi
echo "scale: done; logs in $OUT" >&2
