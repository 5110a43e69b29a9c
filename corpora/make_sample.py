#!/usr/bin/env python3
"""Draw the shipped stratified samples from the full corpora in corpora/build/.

  corpora/make_sample.py            # write corpora/sample/*.jsonl
  corpora/make_sample.py --check    # exit 1 when the shipped files differ from a fresh draw

Usually run through `corpora/build.sh --sample`, which builds the full corpora first. Writes

  sample/wordnet-nouns-3000.jsonl   3,000 noun glosses, stratified by lexname
  sample/fortunes-3000.jsonl        3,000 fortune cookies, stratified by category

Allocation per class: every class gets min(size, MIN_PER_CLASS); the rest of the 3,000 is split in
proportion to class size (largest-remainder rounding, never more than a class holds, leftovers
passed on to the classes that still have documents). Which documents: within each class, those
with the smallest SHA-256 of "<seed>:<id>". Output order: ascending by that same hash, so the
files are well mixed and any prefix is itself roughly stratified (the encoder benchmark takes a
prefix).

Deterministic by construction: no random module, no dependence on Python's hash seed or
version; the same full corpora and seed always give byte-identical files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = "strata-corpora-v1"

# (full corpus, sample file, label field, sample size, minimum per class)
SAMPLES = [
    ("wordnet-nouns.jsonl", "wordnet-nouns-3000.jsonl", "lexname", 3000, 30),
    ("fortunes.jsonl", "fortunes-3000.jsonl", "category", 3000, 20),
]


def key(seed: str, doc_id: str) -> str:
    return hashlib.sha256(f"{seed}:{doc_id}".encode("utf-8")).hexdigest()


def allocate(sizes: dict[str, int], total: int, minimum: int) -> dict[str, int]:
    """Proportional allocation with a per-class minimum, capped at each class's size."""
    if total >= sum(sizes.values()):
        return dict(sizes)
    alloc = {c: min(n, minimum) for c, n in sizes.items()}
    left = total - sum(alloc.values())
    if left < 0:
        raise SystemExit(f"error: {total} is too small for a minimum of {minimum} "
                         f"over {len(sizes)} classes")
    while left > 0:
        open_classes = sorted(c for c in sizes if alloc[c] < sizes[c])
        weight = sum(sizes[c] for c in open_classes)
        quotas = {c: left * sizes[c] / weight for c in open_classes}
        add = {c: min(int(quotas[c]), sizes[c] - alloc[c]) for c in open_classes}
        rest = left - sum(add.values())
        # largest remainders first; ties broken by class name for determinism
        by_remainder = sorted(open_classes, key=lambda c: (-(quotas[c] - int(quotas[c])), c))
        for c in by_remainder:
            if rest == 0:
                break
            if alloc[c] + add[c] < sizes[c]:
                add[c] += 1
                rest -= 1
        for c in open_classes:
            alloc[c] += add[c]
        left = total - sum(alloc.values())
    return alloc


def draw(docs: list[dict], label: str, total: int, minimum: int, seed: str) -> list[dict]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for d in docs:
        groups[d[label]].append(d)
    alloc = allocate({c: len(g) for c, g in groups.items()}, total, minimum)
    chosen = []
    for c in sorted(groups):
        ranked = sorted(groups[c], key=lambda d: key(seed, d["id"]))
        chosen.extend(ranked[: alloc[c]])
    chosen.sort(key=lambda d: key(seed, d["id"]))
    return chosen


def render(docs: list[dict]) -> bytes:
    return "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs).encode("utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", type=Path, default=HERE / "build",
                    help="directory with the full corpora (default: corpora/build)")
    ap.add_argument("--out", type=Path, default=HERE / "sample",
                    help="where the samples go (default: corpora/sample)")
    ap.add_argument("--seed", default=SEED)
    ap.add_argument("--check", action="store_true",
                    help="compare with the files in --out instead of writing them")
    args = ap.parse_args()

    status = 0
    for full, sample, label, total, minimum in SAMPLES:
        src = args.build / full
        if not src.exists():
            raise SystemExit(f"error: {src} is missing; run corpora/build.sh first")
        with open(src, encoding="utf-8") as f:
            docs = [json.loads(line) for line in f]
        chosen = draw(docs, label, total, minimum, args.seed)
        data = render(chosen)
        dest = args.out / sample
        if args.check:
            same = dest.exists() and dest.read_bytes() == data
            print(f"{sample}: {'up to date' if same else 'DIFFERS from a fresh draw'}")
            status |= 0 if same else 1
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
        counts = Counter(d[label] for d in chosen)
        print(f"{sample:<26} {len(chosen):>5} documents  {len(counts):>3} classes ({label})  "
              f"{len(data) / 1e6:5.2f} MB  smallest class {min(counts.values())}, "
              f"largest {max(counts.values())}")
    return status


if __name__ == "__main__":
    sys.exit(main())
