#!/usr/bin/env python3
"""Strata vs scikit-learn KMeans on the same MiniLM embeddings and the same k, against the true classes.

For each corpus: runs `strata run CORPUS --k K` (keyword labels, offline), reads the topic column it
wrote, exports the same embeddings with `strata embed` (served from Strata's cache), fits
scikit-learn `KMeans(n_clusters=K, n_init=4, random_state=0)` on them, and prints NMI and ARI of both
against the corpus's truth field. Metrics are computed here with scikit-learn (independent of Strata).
"""
import argparse, json, os, subprocess, sys, tempfile, time

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from threadpoolctl import threadpool_limits


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--strata", required=True, help="path to the strata binary")
    ap.add_argument("--corpus", action="append", required=True, help="PATH:TRUTH_FIELD:K")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--seeds", type=int, default=3, help="runs per side; NMI varies by ±0.01 between seeds")
    args = ap.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="strata-quality-")
    rows = []
    for spec in args.corpus:
        path, truth_field, k = spec.rsplit(":", 2)
        k = int(k)
        name = os.path.splitext(os.path.basename(path))[0]
        local = os.path.join(work, os.path.basename(path))
        if not os.path.exists(local):
            os.symlink(os.path.abspath(path), local)
        out = os.path.join(work, name + ".topics.jsonl")
        s_nmi, s_ari, s_time = [], [], []
        for seed in range(args.seeds):
            t0 = time.time()
            subprocess.run([args.strata, "run", local, "--k", str(k), "--seed", str(seed), "--quiet"], check=True,
                           stderr=subprocess.DEVNULL)
            s_time.append(time.time() - t0)
            truth, pred = [], []
            with open(out) as f:
                for line in f:
                    o = json.loads(line)
                    truth.append(o[truth_field]); pred.append(o["topic_id"])
            s_nmi.append(normalized_mutual_info_score(truth, pred)); s_ari.append(adjusted_rand_score(truth, pred))
        npy = os.path.join(work, name + ".npy")
        subprocess.run([args.strata, "embed", local, "--out", npy, "--quiet"], check=True)
        X = np.load(npy)
        k_nmi, k_ari, k_time = [], [], []
        for seed in range(args.seeds):
            t0 = time.time()
            with threadpool_limits(2):
                sk = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(X)
            k_time.append(time.time() - t0)
            k_nmi.append(normalized_mutual_info_score(truth, sk)); k_ari.append(adjusted_rand_score(truth, sk))
        r = dict(corpus=name, n=len(truth), k=k, strata_nmi=float(np.mean(s_nmi)), sk_nmi=float(np.mean(k_nmi)))
        rows.append(r)
        fmt = lambda xs: "[" + ", ".join(f"{x:.4f}" for x in xs) + "]"
        print(f"{name}: n={r['n']} k={k}, {args.seeds} seeds each", flush=True)
        print(f"  Strata (whole run, embeddings cached after the first): NMI mean {np.mean(s_nmi):.4f} {fmt(s_nmi)}  ARI mean {np.mean(s_ari):.4f}  run {fmt(s_time)} s")
        print(f"  scikit-learn KMeans(n_init=4) on the 384-d embeddings: NMI mean {np.mean(k_nmi):.4f} {fmt(k_nmi)}  ARI mean {np.mean(k_ari):.4f}  fit {fmt(k_time)} s", flush=True)
    ok = all(r["strata_nmi"] >= r["sk_nmi"] for r in rows)
    print("quality: " + " ".join(f"{r['corpus']}_nmi_strata={r['strata_nmi']:.4f} {r['corpus']}_nmi_sklearn={r['sk_nmi']:.4f}" for r in rows)
          + f" strata_ge_sklearn={'yes' if ok else 'no'}")


if __name__ == "__main__":
    main()
