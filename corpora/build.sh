#!/usr/bin/env bash
# Builds Strata's full labelled corpora from Debian packages into corpora/build/ (not committed).
#
#   corpora/build.sh            # wordnet-nouns.jsonl, wordnet-all.jsonl, fortunes.jsonl
#   corpora/build.sh --sample   # the same, then redraws the shipped corpora/sample/*.jsonl
#
# Installs wordnet-base and fortunes (which brings fortunes-min) quietly when they are missing
# (needs root or sudo; only the data packages, no recommends). Idempotent: a rerun rewrites the
# same files byte for byte. Prints documents and classes per corpus. See corpora/README.md.
# Environment: PYTHON (default python3).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-python3}"

sample=0
for a in "$@"; do
  case "$a" in
    --sample) sample=1 ;;
    -h|--help) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "corpora/build.sh: unknown argument: $a" >&2; exit 2 ;;
  esac
done

packages=(wordnet-base fortunes fortunes-min)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "corpora: installing ${missing[*]} ..." >&2
  SUDO=""; [[ "$(id -u)" -ne 0 ]] && SUDO="sudo"
  # apt-cache knows nothing before the first `apt-get update` on a fresh machine.
  known=1
  for p in "${missing[@]}"; do
    apt-cache show "$p" >/dev/null 2>&1 || known=0
  done
  if [[ $known -eq 0 ]]; then
    $SUDO apt-get update -qq
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

"$PYTHON" "$here/build_corpora.py" --out "$here/build"
if [[ $sample -eq 1 ]]; then
  "$PYTHON" "$here/make_sample.py" --build "$here/build" --out "$here/sample"
fi
