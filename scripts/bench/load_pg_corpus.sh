#!/usr/bin/env bash
# Loads a JSONL corpus ({"id": ..., "text": ...} a line; other fields ignored) into a PostgreSQL
# table TABLE (id text PRIMARY KEY, text text), dropping and recreating it, in one transaction:
# a failed load (bad line, duplicate id) leaves no table change behind. Prints rows and seconds.
#   scripts/bench/load_pg_corpus.sh CORPUS.jsonl TABLE [PGURL]
# PGURL defaults to the test cluster of `scripts/pg-server.sh start` (postgres://postgres@127.0.0.1:54329/postgres).
# Python turns the JSONL into CSV on the fly, psql's \copy reads it; the primary key is built after
# the copy. corpora/build/packages.jsonl (700,000 docs, 82 MB) takes about 10 s.
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
CORPUS="$1"; TABLE="$2"; URL="${3:-postgres://postgres@127.0.0.1:${STRATA_PG_PORT:-54329}/postgres}"
[ -f "$CORPUS" ] || { echo "load_pg_corpus: no such file: $CORPUS" >&2; exit 1; }
[[ "$TABLE" =~ ^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$ ]] || { echo "load_pg_corpus: bad table name: $TABLE" >&2; exit 2; }
PSQL="$(command -v psql || ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -1)"
[ -n "$PSQL" ] || { echo "load_pg_corpus: psql not found (apt-get install postgresql-client)" >&2; exit 1; }

# On a bad line the converter writes a row of three fields, which makes COPY fail and roll back.
CONVERT='
import csv, json, sys
out = csv.writer(sys.stdout, quoting=csv.QUOTE_ALL, lineterminator="\n")
try:
    with open(sys.argv[1], encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                d = json.loads(line)
                if not isinstance(d.get("id"), str) or not isinstance(d.get("text"), str):
                    sys.exit(f"load_pg_corpus: line {n}: id and text must be strings")
                out.writerow((d["id"], d["text"]))
except BaseException:
    sys.stdout.write("!,!,!\n")
    raise
'
start=$(date +%s.%N)
python3 -c "$CONVERT" "$CORPUS" | PGCLIENTENCODING=UTF8 "$PSQL" "$URL" -X -q -v ON_ERROR_STOP=1 -1 \
    -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS $TABLE" \
    -c "CREATE TABLE $TABLE (id text NOT NULL, text text NOT NULL)" \
    -c "\\copy $TABLE (id, text) FROM pstdin WITH (FORMAT csv)" \
    -c "ALTER TABLE $TABLE ADD PRIMARY KEY (id)" \
    -c "ANALYZE $TABLE"
rows=$("$PSQL" "$URL" -X -At -c "SELECT count(*) FROM $TABLE")
echo "load_pg_corpus: $rows rows into $TABLE in $(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $start }") s" >&2
