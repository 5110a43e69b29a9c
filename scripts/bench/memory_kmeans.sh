#!/usr/bin/env bash
# Peak memory of a full k-means fit against the size of its input.
#
#   scripts/bench/memory_kmeans.sh [--n 1000000] [--d 64] [--k 256] [--strata-bin DIR]
#
# Runs `strata-bench kmeans-memory` (it generates the n×d float32 data itself and runs a full
# fit) under /usr/bin/time -v, then prints the maximum resident set size beside the input
# (n·d·4 bytes) plus centroids (k·d·4 bytes) and their ratio.
# Environment: STRATA_BIN (directory with a prebuilt strata-bench; skips the build).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

n=1000000 d=64 k=256 bin="${STRATA_BIN:-}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --n) n="$2"; shift 2 ;;
    --d) d="$2"; shift 2 ;;
    --k) k="$2"; shift 2 ;;
    --strata-bin) bin="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

if [[ ! -x /usr/bin/time ]]; then
  echo "installing GNU time ..." >&2
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get install -y -qq time >/dev/null 2>&1 || {
    "${sudo_cmd[@]}" apt-get update -qq >/dev/null
    "${sudo_cmd[@]}" apt-get install -y -qq time >/dev/null
  }
fi

if [[ -z "$bin" ]]; then
  echo "building strata-bench (release) ..." >&2
  flock /tmp/strata-swift-build.lock swift build -c release -Xswiftc -enable-testing --product strata-bench >&2
  bin="$(flock /tmp/strata-swift-build.lock swift build -c release --show-bin-path)"
fi

report="$(mktemp)"
trap 'rm -f "$report"' EXIT
echo "\$ /usr/bin/time -v $bin/strata-bench kmeans-memory --n $n --d $d --k $k"
/usr/bin/time -v -o "$report" "$bin/strata-bench" kmeans-memory --n "$n" --d "$d" --k "$k"

rss_kb="$(awk -F': *' '/Maximum resident set size/ {print $2}' "$report")"
wall="$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$report")"
if [[ -z "$rss_kb" ]]; then
  echo "could not read the maximum resident set size from /usr/bin/time:" >&2
  cat "$report" >&2
  exit 1
fi

awk -v rss_kb="$rss_kb" -v n="$n" -v d="$d" -v k="$k" -v wall="$wall" 'BEGIN {
  input = n * d * 4; cent = k * d * 4; rss = rss_kb * 1024; base = input + cent
  mib = 1048576
  printf "\nk-means memory: n=%d d=%d k=%d (wall %s)\n", n, d, k, wall
  printf "  input n*d*4          %12.0f bytes  %9.1f MiB\n", input, input / mib
  printf "  centroids k*d*4      %12.0f bytes  %9.1f MiB\n", cent, cent / mib
  printf "  input + centroids    %12.0f bytes  %9.1f MiB\n", base, base / mib
  printf "  max resident set     %12.0f bytes  %9.1f MiB\n", rss, rss / mib
  printf "  ratio rss / (input + centroids) = %.2f\n", rss / base
}'
