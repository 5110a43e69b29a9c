#!/usr/bin/env python3
"""A nightly delta of a JSONL corpus, streamed: every `--every`-th record (default 100, i.e. 1%) gets a
changed text (a sentence appended), the rest are copied byte for byte. Deterministic; prints the counts
and the sha256 of what it wrote. Used by scripts/bench/scale.sh --delta (issue #27's 1% nightly).

    python3 scripts/bench/delta_corpus.py IN.jsonl OUT.jsonl [--every 100]
"""
import argparse
import hashlib
import json

ap = argparse.ArgumentParser()
ap.add_argument("src")
ap.add_argument("out")
ap.add_argument("--every", type=int, default=100)
a = ap.parse_args()
h = hashlib.sha256()
n = changed = 0
with open(a.src, "rb") as f, open(a.out, "wb") as o:
    for line in f:
        n += 1
        if n % a.every == 0:
            r = json.loads(line)
            r["text"] = r["text"] + f" Revised in the nightly delta ({n})."
            line = (json.dumps(r, ensure_ascii=False) + "\n").encode()
            changed += 1
        o.write(line)
        h.update(line)
print(f"delta: {n} records, {changed} with a changed text; sha256 {h.hexdigest()}")
