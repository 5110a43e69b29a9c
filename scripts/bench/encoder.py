#!/usr/bin/env python3
"""Time Strata's MiniLM encoder against sentence-transformers on the same texts.

Usually started by scripts/bench/encoder.sh, which builds strata-bench and installs the Python
packages first.

Texts: the first --n (default 5,000) of corpora/sample/wordnet-nouns-3000.jsonl followed by
corpora/sample/fortunes-3000.jsonl, in file order (the samples are stored in a fixed hashed
order, so a prefix is itself stratified). Both sides encode exactly these texts.

  * sentence-transformers: PyTorch on the CPU with torch.set_num_threads(--threads) (default 2),
    the same model directory as Strata (${STRATA_HOME:-~/.cache/strata}/models/all-MiniLM-L6-v2,
    loaded with SentenceTransformer(path, device="cpu"), max_seq_length 256, offline).
    `encode(texts, batch_size=B, normalize_embeddings=True)` for each B in --st-batch-sizes
    (default 16,32,64; sentence-transformers sorts texts by length itself), one warm-up call, then
    --repeats timed calls each; the batch size with the smallest median time is the one compared.
  * Strata: `strata-bench encode --input TEXTS.jsonl --model-dir DIR --out EMB.npy --repeats R`,
    which prints {"seconds": median encode seconds without model load, "tokens": n, "docs": n}
    and writes the float32 n×384 embeddings in input order. It runs with the environment as it
    was given (OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE included).

Reported per side: median seconds, tokens/s, docs/s and achieved GFLOP/s. Tokens are counted
with the model's own tokenizer (sentence-transformers' `tokenize`), [CLS] and [SEP] included,
after truncation to 256; the Strata count must agree.

FLOP model (useful work only; padding is not counted, so both sides are charged the same):
  dense, per token:      2 · 6 layers · (4·384·384 + 2·384·1536) = 21,233,664 FLOP (≈ 21.2 MFLOP)
                         (Q, K, V and output projections; the two feed-forward matrices)
  attention, per sequence of L real tokens: 6 layers · 2 GEMMs (QKᵀ, AV) · 2 · L²·384
                         = 4 · L² · 384 · 6 FLOP
  total = Σ over texts (21,233,664 · L + 9,216 · L²). Embeddings, LayerNorm, GELU, softmax and
  pooling are left out (a few per cent).

Accuracy: the minimum over all texts of the cosine between the two embeddings must be
≥ 0.99999 (issue 3); it is printed with the text that attains it.

Last line (machine-readable), Strata tokens/s over sentence-transformers' best tokens/s:
  ratios: encoder_vs_sentence_transformers=X.XX
With --skip-strata only the sentence-transformers side runs and that line is not printed.

Exit status: 0 when everything ran and the cosine bound holds, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CORPORA = [ROOT / "corpora/sample/wordnet-nouns-3000.jsonl",
           ROOT / "corpora/sample/fortunes-3000.jsonl"]
HIDDEN, LAYERS, FFN = 384, 6, 1536
DENSE_FLOP_PER_TOKEN = 2 * LAYERS * (4 * HIDDEN * HIDDEN + 2 * HIDDEN * FFN)
ATTN_FLOP_PER_L2 = 4 * HIDDEN * LAYERS
COSINE_BOUND = 0.99999


def default_model_dir() -> Path:
    home = os.environ.get("STRATA_HOME") or os.path.join(os.path.expanduser("~"), ".cache/strata")
    return Path(home) / "models" / "all-MiniLM-L6-v2"


def load_texts(n: int) -> list[str]:
    texts: list[str] = []
    for path in CORPORA:
        with open(path, encoding="utf-8") as f:
            for line in f:
                texts.append(json.loads(line)["text"])
                if len(texts) == n:
                    return texts
    if len(texts) < n:
        raise SystemExit(f"error: only {len(texts)} texts in the shipped samples, asked for {n}")
    return texts


def flops_of(lengths: np.ndarray) -> float:
    L = lengths.astype(np.float64)
    return float(DENSE_FLOP_PER_TOKEN * L.sum() + ATTN_FLOP_PER_L2 * (L * L).sum())


def rates(seconds: float, tokens: int, docs: int, flops: float) -> dict:
    return {"seconds": seconds, "tokens_per_s": tokens / seconds, "docs_per_s": docs / seconds,
            "gflops": flops / seconds / 1e9}


def row(name: str, r: dict) -> str:
    return (f"  {name:<34} {r['seconds']:9.3f} s  {r['tokens_per_s']:10.0f} tok/s  "
            f"{r['docs_per_s']:8.1f} docs/s  {r['gflops']:6.1f} GFLOP/s")


def last_json_line(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no JSON object on stdout")


def normalise(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-30)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=5000, help="number of texts (default 5000)")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per setting; median")
    ap.add_argument("--threads", type=int, default=2, help="PyTorch threads (default 2)")
    ap.add_argument("--st-batch-sizes", default="16,32,64",
                    help="sentence-transformers batch sizes to try (default 16,32,64)")
    ap.add_argument("--model-dir", type=Path, default=default_model_dir())
    ap.add_argument("--strata-bin", help="directory holding strata-bench")
    ap.add_argument("--skip-strata", action="store_true", help="sentence-transformers side only")
    ap.add_argument("--workdir", help="keep texts and embeddings here (default: a temp dir)")
    args = ap.parse_args()
    if args.n < 1 or args.repeats < 1:
        ap.error("--n and --repeats must be positive")
    if not args.skip_strata and not args.strata_bin:
        ap.error("--strata-bin is required unless --skip-strata")
    if not (args.model_dir / "model.safetensors").exists():
        raise SystemExit(f"error: no model in {args.model_dir}; run scripts/fetch-model.sh")
    batch_sizes = [int(b) for b in args.st_batch_sizes.split(",") if b.strip()]

    import torch
    torch.set_num_threads(args.threads)
    import sentence_transformers
    from sentence_transformers import SentenceTransformer

    texts = load_texts(args.n)
    errors: list[str] = []
    work = args.workdir or tempfile.mkdtemp(prefix="strata-encoder-bench-")
    os.makedirs(work, exist_ok=True)
    texts_path = os.path.join(work, "texts.jsonl")
    with open(texts_path, "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")

    print("== setup ==")
    print(f"  texts: {len(texts)} (first {args.n} of "
          f"{', '.join(p.relative_to(ROOT).as_posix() for p in CORPORA)})")
    print(f"  model: {args.model_dir}")
    print(f"  sentence-transformers {sentence_transformers.__version__}, torch {torch.__version__}, "
          f"torch threads {torch.get_num_threads()}")
    for line in torch.__config__.parallel_info().splitlines()[:7]:
        print(f"    {line.strip()}")
    blas_env = {v: os.environ.get(v, "(unset)") for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                                          "OPENBLAS_NUM_THREADS")}
    print(f"  environment for strata-bench: {blas_env}")

    try:
        from transformers.utils import logging as hf_logging
        hf_logging.disable_progress_bar()
    except ImportError:
        pass
    model = SentenceTransformer(str(args.model_dir), device="cpu")
    model.max_seq_length = 256
    # `preprocess` replaces `tokenize` in sentence-transformers 6; both pad to the batch's longest.
    tokenize = getattr(model, "preprocess", None) or model.tokenize
    features = tokenize(texts)
    lengths = features["attention_mask"].sum(dim=1).numpy().astype(np.int64)
    tokens = int(lengths.sum())
    flops = flops_of(lengths)
    print(f"  tokens: {tokens} ([CLS]/[SEP] included, truncated to 256; mean {lengths.mean():.1f}, "
          f"max {lengths.max()}), {sum(lengths >= 256)} texts truncated")
    print(f"  work: {flops / 1e9:.1f} GFLOP "
          f"(21.23 MFLOP/token dense + 4·L²·384·6 attention per text)")

    print(f"\n== sentence-transformers (PyTorch CPU, {args.threads} threads, "
          f"median of {args.repeats}) ==")
    st_results: dict[int, dict] = {}
    st_embeddings = None
    for bs in batch_sizes:
        model.encode(texts[: min(len(texts), 4 * bs)], batch_size=bs,
                     normalize_embeddings=True, convert_to_numpy=True)  # warm-up
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            emb = model.encode(texts, batch_size=bs, normalize_embeddings=True,
                               convert_to_numpy=True, show_progress_bar=False)
            times.append(time.perf_counter() - t0)
        st_results[bs] = rates(statistics.median(times), tokens, len(texts), flops)
        print(row(f"batch {bs}", st_results[bs]), flush=True)
        if st_embeddings is None:
            st_embeddings = np.asarray(emb, dtype=np.float32)
    best_bs = min(st_results, key=lambda b: st_results[b]["seconds"])
    st = st_results[best_bs]
    print(row(f"best: batch {best_bs}", st))

    if args.skip_strata:
        print("\n== Strata: skipped (--skip-strata) ==")
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
        return 0

    print(f"\n== Strata (strata-bench encode, median of {args.repeats}) ==")
    out_path = os.path.join(work, "strata-embeddings.npy")
    cmd = [os.path.join(args.strata_bin, "strata-bench"), "encode", "--input", texts_path,
           "--model-dir", str(args.model_dir), "--out", out_path, "--repeats", str(args.repeats)]
    print(f"  $ {' '.join(cmd)}", flush=True)
    strata = None
    min_cos = float("nan")
    try:
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"exit {p.returncode}: {p.stderr.strip()[-2000:]}")
        res = last_json_line(p.stdout)
        if int(res["docs"]) != len(texts):
            errors.append(f"strata-bench encoded {res['docs']} texts, expected {len(texts)}")
        if int(res["tokens"]) != tokens:
            errors.append(f"strata-bench counted {res['tokens']} tokens, the model's tokenizer "
                          f"{tokens}")
        strata = rates(float(res["seconds"]), tokens, len(texts), flops)
        print(row("Strata", strata))
        print(f"  Strata BLAS: {res.get('blas', '?')}")
        emb = np.load(out_path)
        if emb.shape != (len(texts), HIDDEN):
            raise RuntimeError(f"embeddings have shape {emb.shape}, expected "
                               f"({len(texts)}, {HIDDEN})")
        cos = (normalise(emb) * normalise(st_embeddings)).sum(axis=1)
        worst = int(np.argmin(cos))
        min_cos = float(cos[worst])
        print(f"  cosine to sentence-transformers: min {min_cos:.7f} (text {worst}, "
              f"{lengths[worst]} tokens: {texts[worst][:60]!r}), mean {cos.mean():.7f}")
        if not min_cos >= COSINE_BOUND:
            errors.append(f"min cosine {min_cos:.7f} < {COSINE_BOUND}")
    except (OSError, RuntimeError, ValueError, KeyError) as e:
        errors.append(f"strata-bench: {e}")

    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)

    print("\n== summary ==")
    print(row(f"sentence-transformers (batch {best_bs})", st))
    if strata:
        print(row("Strata", strata))
    for e in errors:
        print(f"  ERROR: {e}")
    if strata:
        ratio = strata["tokens_per_s"] / st["tokens_per_s"]
        print(f"  Strata / sentence-transformers tokens/s: {ratio:.2f}× (target ≥ 2.5×); "
              f"min cosine {min_cos:.7f} (bound {COSINE_BOUND})")
        print(f"ratios: encoder_vs_sentence_transformers={ratio:.2f}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
