#!/usr/bin/env python3
"""Build a large corpus of knowledge-base passages (issue #27's 2M and 10M runs) from what this machine holds.

Writes corpora/build/large-<N>.jsonl, one passage per line:

  {"id": "<source>:<unit>#<first sentence>+<window>", "text": "<passage>", "source": "<source>"}

Where the text comes from (every source is on a Debian machine with Strata's setup done):

  man      every manual page under /usr/share/man (all sections and languages), roff stripped
  doc      plain-text and gzipped files under /usr/share/doc (READMEs, changelogs, NEWS; ≤ 2 MB each)
  python   module, class and function docstrings of the .py files under /usr/lib/python3
  wordnet  every WordNet gloss (corpora/build/wordnet-all.jsonl, built by corpora/build.sh)
  packages every registry package summary (corpora/build_packages.py --limit 0)

How passages are cut, and the recombination this declares: each unit (a manual page, a file, a docstring,
a gloss, a summary) is split into sentences. A passage is a window of w consecutive sentences, for w = 1, 2, … (up to 16, until N are found; 10M is
reached within w = 8 on Debian 12),
starting at *every* sentence. These are overlapping chunks, the way RAG pipelines chunk with overlap,
at several chunk sizes. A window is kept when it is 40–2,000 characters (up to about 500 tokens, a
common RAG chunk). Every text is kept once:
duplicates are dropped by a 64-bit BLAKE2b of the text, so no two documents share a text and a cache
gains nothing from repeats. The units hold 3.6 million sentences (1.19 million units); windows of 1–4 sentences give 5.6 million
distinct passages, so 10M documents need the longer windows too (the counts per window go to stderr). Neighbouring windows share sentences: they are near-duplicates in
meaning, as overlapping chunks of a real knowledge base are. Lengths stay those of real chunks.

Windows are generated unit by unit in a fixed order: w = 1 over every unit first, then w = 2, and so on.
Generation stops at N. The N passages are written in the order of the SHA-256 of their id, so the
sources are mixed and any prefix is a fair sample of the N: build the 10M file once and take
`head -n 2000000` for a 2M run (a --limit 2000000 build would hold single sentences only). No random generator is used: the same machine
files give the same bytes. The counts per source and window, the total and the output's SHA-256 go
to stderr.

  python3 corpora/build_large.py --limit 10000000      # a few minutes, ~8 GB of memory
"""

from __future__ import annotations

import argparse
import ast
import gzip
import hashlib
import json
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])|\n\s*\n")
SPACE = re.compile(r"\s+")
ROFF_ESCAPE = re.compile(r"\\f[BIRPC]|\\f\(..|\\f\[[^]]*\]|\\\(..|\\\[[^]]*\]|\\[&|^%~0:/,]|\\\*.|\\s[-+]?\d")


def roff_text(source: str) -> str:
    """Roff source to plain text: requests dropped (their text kept for .B/.I/.SH/.SS), escapes removed."""
    out = []
    for line in source.split("\n"):
        if line.startswith(('.\\"', "'\\\"")):
            continue
        if line.startswith((".", "'")):
            request, _, rest = line[1:].partition(" ")
            if request in ("SH", "SS"):
                out.append("\n\n" + rest.strip('"') + ".\n\n")
            elif request in ("B", "I", "BI", "IB", "BR", "RB", "IR", "RI") and rest:
                out.append(rest.replace('"', ""))
            elif request in ("PP", "P", "LP", "TP", "IP", "sp", "br"):
                out.append("\n\n")
            continue
        out.append(line)
    text = "\n".join(out).replace("\\-", "-").replace("\\e", "\\")
    return ROFF_ESCAPE.sub("", text)


def read_text(path: Path) -> str | None:
    try:
        raw = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile):
        return None
    if len(raw) > 2_000_000 or b"\0" in raw[:4096]:
        return None
    return raw.decode("utf-8", errors="replace")


def units() -> list[tuple[str, str, str]]:
    """(source, unit id, text) of every unit, in a fixed order."""
    found: list[tuple[str, str, str]] = []
    for path in sorted(Path("/usr/share/man").rglob("*")):
        if path.is_file() and not path.is_symlink():
            text = read_text(path)
            if text and not text.lstrip().startswith(".so "):
                found.append(("man", str(path.relative_to("/usr/share/man")), roff_text(text)))
    for path in sorted(Path("/usr/share/doc").rglob("*")):
        if path.is_file() and not path.is_symlink() and path.suffix in ("", ".gz", ".txt", ".md", ".rst"):
            text = read_text(path)
            if text:
                found.append(("doc", str(path.relative_to("/usr/share/doc")), text))
    for path in sorted(Path("/usr/lib/python3").rglob("*.py")):
        try:
            tree = ast.parse(path.read_bytes())
        except (SyntaxError, ValueError, OSError):
            continue
        for node in [tree] + [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]:
            doc = ast.get_docstring(node)
            if doc:
                name = getattr(node, "name", "<module>")
                found.append(("python", f"{path.relative_to('/usr/lib/python3')}:{name}:{getattr(node, 'lineno', 0)}", doc))
    wordnet = HERE / "build" / "wordnet-all.jsonl"
    for line in wordnet.open():
        d = json.loads(line)
        found.append(("wordnet", d["id"], d["text"]))
    packages = HERE / "build" / "packages-all.jsonl"
    for line in packages.open():
        d = json.loads(line)
        found.append(("packages", d["id"], d["text"]))
    return found


def sentences(text: str) -> list[str]:
    parts = (SPACE.sub(" ", p).strip() for p in SENTENCE.split(text))
    return [p for p in parts if len(p) >= 3]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=10_000_000)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    out = args.out or HERE / "build" / f"large-{args.limit}.jsonl"
    for needed, how in [(HERE / "build" / "wordnet-all.jsonl", "corpora/build.sh"),
                        (HERE / "build" / "packages-all.jsonl", "python3 corpora/build_packages.py --limit 0 --out corpora/build/packages-all.jsonl")]:
        if not needed.exists():
            sys.exit(f"build_large: {needed} is missing; run {how}")
    split = [(source, unit, sentences(text)) for source, unit, text in units()]
    print(f"units {len(split):,}, sentences {sum(len(s) for _, _, s in split):,}", file=sys.stderr)
    seen: set[int] = set()
    kept: list[tuple[bytes, str]] = []
    counts: dict[str, int] = {}
    for w in range(1, 17):
        for source, unit, sents in split:
            for i in range(0, max(0, len(sents) - w + 1)):
                text = " ".join(sents[i:i + w])
                if not 40 <= len(text) <= 2000:
                    continue
                h = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
                if h in seen:
                    continue
                seen.add(h)
                doc_id = f"{source}:{unit}#{i}+{w}"
                line = json.dumps({"id": doc_id, "text": text, "source": source}, ensure_ascii=False)
                kept.append((hashlib.sha256(b"strata-large-v1:" + doc_id.encode()).digest(), line))
                counts[f"{source} w={w}"] = counts.get(f"{source} w={w}", 0) + 1
                if len(kept) == args.limit:
                    break
            if len(kept) == args.limit:
                break
        if len(kept) == args.limit:
            break
    for key in sorted(counts):
        print(f"  {key:<14} {counts[key]:>10,}", file=sys.stderr)
    if len(kept) < args.limit:
        sys.exit(f"build_large: only {len(kept):,} distinct passages on this machine (asked {args.limit:,}); nothing written")
    kept.sort()
    tmp = out.with_suffix(".tmp")
    digest = hashlib.sha256()
    with tmp.open("w", encoding="utf-8") as f:
        for _, line in kept:
            data = line + "\n"
            f.write(data)
            digest.update(data.encode())
    os.replace(tmp, out)
    print(f"total {len(kept):,} -> {out}\nsha256 {digest.hexdigest()}", file=sys.stderr)


if __name__ == "__main__":
    main()
