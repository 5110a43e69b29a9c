#!/usr/bin/env python3
"""Build Strata's labelled evaluation corpora from Debian's WordNet and fortune packages.

Usually started by corpora/build.sh, which installs the packages first. Writes JSONL files (one
document per line, UTF-8, keys in a fixed order) into --out:

  wordnet-nouns.jsonl  one line per noun synset of WordNet 3.0 (data.noun)
                       {"id": "wn-n-<offset>", "text": <gloss>, "lexname": "noun.animal"}
  wordnet-all.jsonl    the same over data.noun, data.verb, data.adj and data.adv; ids carry the
                       part of speech of the data file: wn-n-, wn-v-, wn-a-, wn-r-
  fortunes.jsonl       one line per fortune cookie of /usr/share/games/fortunes/<category>
                       {"id": "fortune-<category>-<n>", "text": <cookie>, "category": <category>}

WordNet: the text is the synset's gloss exactly as in the data file after "| " (definition, then
any quoted examples), with trailing blanks removed. The label is the lexicographer file of the
synset (the lex_filenum field), named through the table of lexnames(5WN); the package ships that
table only as a man page, so it is built in here and checked against the man page when present.
The license header of each data file (lines starting with two spaces) is skipped.

Fortunes: cookies are separated by lines holding a single "%". <n> is the 1-based position of the
cookie in its file, counting every record, so ids stay tied to the file even though empty cookies
are dropped. Text is normalised lightly: overstrike sequences (char, backspace) are resolved to the
last char, other control characters become spaces, and each run of whitespace (line breaks
included) becomes one space. The index files (.dat), the .u8 links and any subdirectory (the
offensive set) are skipped.

Output files are written atomically (temporary file, then rename), so a rerun replaces them and
an interrupted run leaves the previous ones intact.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

WORDNET_DIR = Path("/usr/share/wordnet")
FORTUNES_DIR = Path("/usr/share/games/fortunes")
LEXNAMES_MAN = Path("/usr/share/man/man5/lexnames.5WN.gz")

# lexnames(5WN): file number -> lexicographer file name (WordNet 3.0).
LEXNAMES = {
    0: "adj.all", 1: "adj.pert", 2: "adv.all", 3: "noun.Tops", 4: "noun.act", 5: "noun.animal",
    6: "noun.artifact", 7: "noun.attribute", 8: "noun.body", 9: "noun.cognition",
    10: "noun.communication", 11: "noun.event", 12: "noun.feeling", 13: "noun.food",
    14: "noun.group", 15: "noun.location", 16: "noun.motive", 17: "noun.object",
    18: "noun.person", 19: "noun.phenomenon", 20: "noun.plant", 21: "noun.possession",
    22: "noun.process", 23: "noun.quantity", 24: "noun.relation", 25: "noun.shape",
    26: "noun.state", 27: "noun.substance", 28: "noun.time", 29: "verb.body", 30: "verb.change",
    31: "verb.cognition", 32: "verb.communication", 33: "verb.competition",
    34: "verb.consumption", 35: "verb.contact", 36: "verb.creation", 37: "verb.emotion",
    38: "verb.motion", 39: "verb.perception", 40: "verb.possession", 41: "verb.social",
    42: "verb.stative", 43: "verb.weather", 44: "adj.ppl",
}

# data file suffix -> (id letter, lexname prefixes allowed in that file)
POS_FILES = [
    ("noun", "n", ("noun.",)),
    ("verb", "v", ("verb.",)),
    ("adj", "a", ("adj.",)),
    ("adv", "r", ("adv.",)),
]


def check_lexnames() -> None:
    """Compare the built-in table with the lexnames(5WN) man page when it is installed."""
    if not LEXNAMES_MAN.exists():
        return
    with gzip.open(LEXNAMES_MAN, "rt", encoding="utf-8", errors="replace") as f:
        rows = re.findall(r"^(\d\d)\t([A-Za-z]+\.[A-Za-z]+)\s*\t", f.read(), flags=re.M)
    found = {int(num): name for num, name in rows}
    if found and found != LEXNAMES:
        diff = sorted(set(found.items()) ^ set(LEXNAMES.items()))
        raise SystemExit(f"error: lexnames table differs from {LEXNAMES_MAN}: {diff}")


def read_wordnet(pos: str, letter: str, prefixes: tuple[str, ...]) -> list[dict]:
    path = WORDNET_DIR / f"data.{pos}"
    docs = []
    with open(path, "r", encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if line.startswith("  "):  # license header
                continue
            head, sep, gloss = line.partition(" | ")
            fields = head.split(" ")
            if not sep or len(fields) < 4 or not fields[0].isdigit():
                raise SystemExit(f"error: {path}:{lineno}: unexpected line format")
            offset, lex_filenum = fields[0], int(fields[1])
            lexname = LEXNAMES.get(lex_filenum)
            if lexname is None or not lexname.startswith(prefixes):
                raise SystemExit(f"error: {path}:{lineno}: lex_filenum {lex_filenum} "
                                 f"does not belong in data.{pos}")
            text = gloss.rstrip()
            if not text:
                continue
            docs.append({"id": f"wn-{letter}-{offset}", "text": text, "lexname": lexname})
    return docs


_OVERSTRIKE = re.compile(r".\x08")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACES = re.compile(r"\s+")


def normalise_cookie(raw: str) -> str:
    text = raw
    while "\x08" in text:
        new = _OVERSTRIKE.sub("", text)
        if new == text:  # a backspace at the very start: drop it
            new = text.replace("\x08", "")
        text = new
    text = _CONTROL.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def read_fortunes() -> list[dict]:
    if not FORTUNES_DIR.is_dir():
        raise SystemExit(f"error: {FORTUNES_DIR} is missing (install the fortunes package)")
    docs = []
    for path in sorted(FORTUNES_DIR.iterdir()):
        if not path.is_file() or path.is_symlink() or path.suffix in (".dat", ".u8"):
            continue
        category = path.name
        data = path.read_bytes()
        try:
            content = data.decode("utf-8")
        except UnicodeDecodeError:
            content = data.decode("latin-1")
        content = content.replace("\r\n", "\n")
        records = re.split(r"^%[ \t]*$\n?", content, flags=re.M)
        for n, raw in enumerate(records, 1):
            text = normalise_cookie(raw)
            if text:
                docs.append({"id": f"fortune-{category}-{n}", "text": text,
                             "category": category})
    return docs


def write_jsonl(path: Path, docs: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            for d in docs:
                f.write(json.dumps(d, ensure_ascii=False) + "\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def report(name: str, path: Path, docs: list[dict], label: str) -> None:
    counts = Counter(d[label] for d in docs)
    size = path.stat().st_size
    print(f"{name:<22} {len(docs):>7} documents  {len(counts):>3} classes ({label})  "
          f"{size / 1e6:6.1f} MB  smallest class {min(counts.values())}, "
          f"largest {max(counts.values())}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "build",
                    help="output directory (default: corpora/build)")
    args = ap.parse_args()

    check_lexnames()
    by_pos = {pos: read_wordnet(pos, letter, prefixes) for pos, letter, prefixes in POS_FILES}
    nouns = by_pos["noun"]
    everything = [d for pos, _, _ in POS_FILES for d in by_pos[pos]]
    fortunes = read_fortunes()

    outputs = [
        ("wordnet-nouns.jsonl", nouns, "lexname"),
        ("wordnet-all.jsonl", everything, "lexname"),
        ("fortunes.jsonl", fortunes, "category"),
    ]
    for name, docs, label in outputs:
        ids = Counter(d["id"] for d in docs)
        dup = [i for i, c in ids.items() if c > 1]
        if dup:
            raise SystemExit(f"error: duplicate ids in {name}: {dup[:5]}")
        write_jsonl(args.out / name, docs)
    for name, docs, label in outputs:
        report(name, args.out / name, docs, label)
    return 0


if __name__ == "__main__":
    sys.exit(main())
