#!/usr/bin/env bash
# Installs a current OpenBLAS (the scipy-openblas32 wheel from PyPI: OpenBLAS 0.3.34 with CBLAS and
# LAPACKE, symbols prefixed scipy_) into the Strata cache, where `strata` picks it up at run time
# instead of Debian's OpenBLAS 0.3.21 (AVX2 kernels only). Prints the library's path.
#
#   scripts/fetch-openblas.sh     # -> ${STRATA_HOME:-$HOME/.cache/strata}/openblas/<version>/libscipy_openblas.so
#
# Idempotent: when the library is there with the pinned checksum it only prints the path. Both the
# wheel and the library inside it are SHA-256-pinned. Strata verifies the library again when it loads
# it (a numeric self-check) and falls back to the system OpenBLAS with a warning if that fails.
# STRATA_BLAS=system makes strata ignore it; `strata --version` says which library and kernel run.
set -euo pipefail

PACKAGE="scipy-openblas32"
VERSION="0.3.34.481.3"
WHEEL_SHA256="0595f94cd58c1f8a0d90c975621f4587337a003916b1979e834ebdf2cb5d9504"
LIB_SHA256="b396d74f12ab4319e6713b3287104d64245c76c60e5bd9eaeb4b447eda66a561"
LIB_IN_WHEEL="scipy_openblas32/lib/libscipy_openblas.so"

STRATA_HOME="${STRATA_HOME:-$HOME/.cache/strata}"
DEST_DIR="$STRATA_HOME/openblas/$VERSION"
DEST="$DEST_DIR/libscipy_openblas.so"

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

if [[ -f "$DEST" && "$(sha_of "$DEST")" == "$LIB_SHA256" ]]; then
    echo "$DEST"
    exit 0
fi
if [[ "$(uname -m)" != "x86_64" ]]; then
    echo "fetch-openblas: the pinned wheel is for x86_64 Linux; strata keeps the system OpenBLAS here" >&2
    exit 1
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
echo "fetching $PACKAGE==$VERSION from PyPI ..." >&2
python3 -m pip download --quiet --no-deps --disable-pip-version-check --only-binary=:all: \
    --platform manylinux_2_28_x86_64 "$PACKAGE==$VERSION" -d "$WORK/dl" >&2
WHEEL="$(find "$WORK/dl" -maxdepth 1 -name '*.whl' | head -n 1)"
if [[ -z "$WHEEL" ]]; then
    echo "error: pip did not produce a wheel for $PACKAGE==$VERSION" >&2
    exit 1
fi
if [[ "$(sha_of "$WHEEL")" != "$WHEEL_SHA256" ]]; then
    echo "error: $(basename "$WHEEL") checksum mismatch (expected $WHEEL_SHA256, got $(sha_of "$WHEEL"))" >&2
    exit 1
fi
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])' \
    "$WHEEL" "$LIB_IN_WHEEL" "$WORK/unpacked"
if [[ "$(sha_of "$WORK/unpacked/$LIB_IN_WHEEL")" != "$LIB_SHA256" ]]; then
    echo "error: $LIB_IN_WHEEL checksum mismatch" >&2
    exit 1
fi

# Install atomically: stage beside the destination, then rename into place.
mkdir -p "$DEST_DIR"
STAGE="$(mktemp "$DEST_DIR/.libscipy_openblas.XXXXXX")"
cp "$WORK/unpacked/$LIB_IN_WHEEL" "$STAGE"
chmod 0644 "$STAGE"
mv -f "$STAGE" "$DEST"
echo "$DEST"
