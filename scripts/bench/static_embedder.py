#!/usr/bin/env python3
"""Strata's static embedder vs MiniLM vs model2vec's distillation of the same MiniLM: clustering
quality at fixed k and encode throughput, one invocation. Called by scripts/bench/static_embedder.sh,
which builds Strata, distils the tables and writes every Strata vector file with `strata embed`.

For each corpus (JSONL with a truth field): reads the .npy vectors Strata wrote (MiniLM and each
static table) and their wall times; distils all-MiniLM-L6-v2 with model2vec (pca_dims=256,
sif_coefficient=1e-4, its defaults) from the same local model folder, encodes the same texts and
times it; then scikit-learn KMeans (k fixed, n_init=1, seeds 0..S-1) on every vector set, NMI and AMI
against the truth, median over seeds. Also a measurement of what corpus fitting can win back: a ridge
map from static to MiniLM vectors fitted on a share of the documents (prototype in NumPy, not a Strata
mode yet). Prints one table per corpus and a ratios line.
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_mutual_info_score, normalized_mutual_info_score


def load_corpus(path, field):
    texts, truth = [], []
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            texts.append(r["text"])
            truth.append(r[field])
    return texts, truth


def scores(x, truth, k, seeds):
    nmi, ami = [], []
    for s in range(seeds):
        labels = KMeans(n_clusters=k, n_init=1, random_state=s).fit_predict(x)
        nmi.append(normalized_mutual_info_score(truth, labels))
        ami.append(adjusted_mutual_info_score(truth, labels))
    return statistics.median(nmi), statistics.median(ami)


def unit(x):
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def ridge_fitted(static, minilm, share, lam=1e-2, seed=0):
    """Static vectors mapped into MiniLM's space by a ridge regression fitted on `share` of the rows
    (those rows keep their MiniLM vectors)."""
    n = static.shape[0]
    rng = np.random.default_rng(seed)
    idx = rng.choice(n, size=max(2, int(round(share * n))), replace=False)
    xs = np.hstack([static[idx], np.ones((len(idx), 1), np.float32)]).astype(np.float64)
    ys = minilm[idx].astype(np.float64)
    w = np.linalg.solve(xs.T @ xs + lam * len(idx) * np.eye(xs.shape[1]), xs.T @ ys)
    mapped = np.hstack([static, np.ones((n, 1), np.float32)]) @ w
    mapped[idx] = minilm[idx]
    return unit(mapped)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True, help="folder with CORPUS.EMBEDDER.npy and times.json from the .sh")
    ap.add_argument("--corpus", action="append", required=True, help="NAME=PATH:FIELD:K")
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--embedders", default="minilm,static:128,static,static:384")
    ap.add_argument("--fit-shares", default="0.05,0.1")
    args = ap.parse_args()
    times = json.load(open(os.path.join(args.work, "times.json")))
    embedders = args.embedders.split(",")

    from model2vec.distill import distill
    t0 = time.perf_counter()
    m2v = distill(model_name=args.model_dir, pca_dims=256, sif_coefficient=1e-4)
    m2v_distill_s = time.perf_counter() - t0
    print(f"model2vec {__import__('model2vec').__version__}: distilled {args.model_dir} in {m2v_distill_s:.1f} s "
          f"(torch threads {__import__('torch').get_num_threads()})")

    ratios = {}
    for spec in args.corpus:
        name, rest = spec.split("=", 1)
        path, field, k = rest.rsplit(":", 2)
        k = int(k)
        texts, truth = load_corpus(path, field)
        n = len(texts)
        rows = []
        vecs = {}
        for e in embedders:
            x = np.load(os.path.join(args.work, f"{name}.{e.replace(':', '-')}.npy"))
            assert x.shape[0] == n, (e, x.shape, n)
            vecs[e] = x
            rows.append((f"strata {e}", x.shape[1], times[f"{name}.{e}"], x))
        m2v.encode(texts[:100])   # warm-up
        t0 = time.perf_counter()
        xm = m2v.encode(texts)
        rows.append(("model2vec distill (same MiniLM)", xm.shape[1], time.perf_counter() - t0, unit(xm)))
        for share in [float(s) for s in args.fit_shares.split(",") if s]:
            # Cost: MiniLM over the share, static over the rest (the map itself is negligible).
            cost = share * times[f"{name}.minilm"] + times[f"{name}.static"]
            rows.append((f"static + ridge map on {share:.0%} (NumPy prototype)", 384, cost,
                         ridge_fitted(vecs["static"], vecs["minilm"], share)))
        print(f"\n{name}: {n} documents, k = {k}, KMeans n_init=1, median of {args.seeds} seeds")
        print(f"| vectors | dim | encode s | docs/s | × MiniLM speed | NMI | AMI | NMI share of MiniLM |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        base_nmi = None
        base_rate = n / times[f"{name}.minilm"]
        for label, dim, seconds, x in rows:
            nmi, ami = scores(x, truth, k, args.seeds)
            if base_nmi is None:
                base_nmi = nmi
            rate = n / seconds
            print(f"| {label} | {dim} | {seconds:.2f} | {rate:,.0f} | {rate / base_rate:.1f} | {nmi:.4f} | {ami:.4f} | {nmi / base_nmi:.1%} |")
            key = label.replace(" ", "_")
            ratios[f"{name}.{key}.nmi_share"] = round(nmi / base_nmi, 3)
            ratios[f"{name}.{key}.speed"] = round(rate / base_rate, 1)
        sys.stdout.flush()
    print("\nratios: " + " ".join(f"{k}={v}" for k, v in ratios.items() if "strata_static" in k or "model2vec" in k))


if __name__ == "__main__":
    main()
