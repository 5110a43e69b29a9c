#!/usr/bin/env python3
"""Independent reference for Strata's static embedder (StaticEmbedder): reads a static table written by
`strata distill` (safetensors, parsed here with the standard library and NumPy only) and token ids, and
prints each text's vector: the L2-normalised sum, in float64, of the rows of its word pieces (the ids
given exclude [CLS]/[SEP]); an empty id list takes the [UNK] row.

    python3 scripts/reference/static_embed.py TABLE.safetensors IDS.json > VECTORS.json

IDS.json: {"unk": 100, "ids": [[id, ...], ...]}. Output: {"vectors": [[float, ...], ...], "metadata": {...}}.
"""
import json
import struct
import sys

import numpy as np


def read_table(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    info = header["embeddings"]
    assert info["dtype"] == "F32", info
    start, end = info["data_offsets"]
    rows = np.frombuffer(raw[8 + n + start:8 + n + end], dtype="<f4").reshape(info["shape"])
    return rows, header.get("__metadata__", {})


def main():
    rows, meta = read_table(sys.argv[1])
    with open(sys.argv[2]) as f:
        request = json.load(f)
    table = rows.astype(np.float64)
    out = []
    for ids in request["ids"]:
        v = table[request["unk"]].copy() if not ids else table[np.asarray(ids, dtype=np.int64)].sum(axis=0)
        v /= max(np.linalg.norm(v), 1e-12)
        out.append(v.tolist())
    json.dump({"vectors": out, "metadata": meta}, sys.stdout)


if __name__ == "__main__":
    main()
