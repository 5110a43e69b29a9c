#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on 127.0.0.1 for the tests (Debian's postgresql package):
#   scripts/pg-server.sh start    initdb into $STRATA_PG_DIR if needed, start, print the URL
#   scripts/pg-server.sh stop     stop and delete the cluster
#   scripts/pg-server.sh url      print the URL
# Port $STRATA_PG_PORT (default 54329), trust authentication, listening on loopback only.
set -euo pipefail
PORT="${STRATA_PG_PORT:-54329}"
DIR="${STRATA_PG_DIR:-/tmp/strata-pg-$PORT}"
URL="postgres://postgres@127.0.0.1:$PORT/postgres"
BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -n "$BIN" ] || { echo "pg-server: PostgreSQL is not installed (apt-get install postgresql; scripts/test.sh does)" >&2; exit 1; }
# initdb and the server refuse to run as root: run them as the postgres user the package created.
AS=()
if [ "$(id -u)" -eq 0 ]; then AS=(runuser -u postgres --); fi

case "${1:-}" in
    start)
        if [ ! -f "$DIR/PG_VERSION" ]; then
            mkdir -p "$DIR"
            [ "$(id -u)" -eq 0 ] && chown postgres "$DIR"
            "${AS[@]}" "$BIN/initdb" -D "$DIR" -U postgres --auth=trust -E UTF8 >/dev/null
        fi
        if ! "${AS[@]}" "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
            "${AS[@]}" "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w -t 60 \
                -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1" start >/dev/null
        fi
        echo "$URL"
        ;;
    stop)
        if [ -f "$DIR/PG_VERSION" ]; then
            "${AS[@]}" "$BIN/pg_ctl" -D "$DIR" -m fast -w stop >/dev/null 2>&1 || true
            rm -rf "$DIR"
        fi
        ;;
    url) echo "$URL" ;;
    *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
