#!/usr/bin/env bash
# CPU that strata's HTTP client burns while a slow LLM computes: `strata run` on 60 documents with an
# OpenAI-compatible labeler whose every reply takes DELAY seconds (a loopback Python server), timed by
# /usr/bin/time. A client that sleeps while it waits shows CPU far below wall time.
#   scripts/bench/llm_client_cpu.sh [--delay 6] [--runs 3]
# Environment: STRATA_BIN (directory holding a built strata; default .build/release).
set -euo pipefail
cd "$(dirname "$0")/../.."
delay=6; runs=3
while [ $# -gt 0 ]; do case $1 in --delay) delay=$2; shift 2;; --runs) runs=$2; shift 2;; *) echo "unknown option $1" >&2; exit 2;; esac; done
bin="${STRATA_BIN:-.build/release}/strata"
[ -x "$bin" ] || { echo "llm_client_cpu.sh: no $bin; run scripts/build.sh first" >&2; exit 1; }
work=$(mktemp -d); trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 - "$port" "$delay" <<'PY' &
import json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
port, delay = int(sys.argv[1]), float(sys.argv[2])
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(delay)
        body = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": '{"label": "Slow topic", "description": "Answered slowly."}'}, "finish_reason": "stop"}],
                           "usage": {"prompt_tokens": 10, "completion_tokens": 5}}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json"); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
server=$!
head -60 corpora/sample/fortunes-3000.jsonl > "$work/docs.jsonl" || python3 -c "
import json
for i in range(60): print(json.dumps({'id': str(i), 'text': ['billing question about invoice %d' % i, 'login password reset %d' % i, 'shipping delay parcel %d' % i][i % 3]}))" > "$work/docs.jsonl"
sleep 1
echo "client: $(grep -o 'libcurl\|SwiftNIO' Sources/StrataHTTP/HTTP1Transport.swift | head -1), server delay ${delay} s, $(wc -l < "$work/docs.jsonl") documents"
for r in $(seq "$runs"); do
    rm -rf "$work/state"
    /usr/bin/time -f "run $r: wall %e s, CPU %U + %S s" "$bin" run "$work/docs.jsonl" --state "$work/state" --k 3 --quiet \
        --labeler openai:m --llm-base-url "http://127.0.0.1:$port/v1" >/dev/null 2>"$work/err" || { tail -5 "$work/err"; exit 1; }
    tail -1 "$work/err"
done
