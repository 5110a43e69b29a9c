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
        t0 = time.time()
        subprocess.run([args.strata, "run", local, "--k", str(k), "--quiet"], check=True)
        strata_s = time.time() - t0
        out = os.path.join(work, name + ".topics.jsonl")
        truth, pred, ids = [], [], []
        with open(out) as f:
            for line in f:
                o = json.loads(line)
                ids.append(o["id"]); truth.append(o[truth_field]); pred.append(o["topic_id"])
        npy = os.path.join(work, name + ".npy")
        subprocess.run([args.strata, "embed", local, "--out", npy, "--quiet"], check=True)
        X = np.load(npy)
        t0 = time.time()
        with threadpool_limits(2):
            sk = KMeans(n_clusters=k, n_init=4, random_state=0).fit_predict(X)
        sk_s = time.time() - t0
        r = dict(corpus=name, n=len(ids), k=k,
                 strata_nmi=normalized_mutual_info_score(truth, pred), strata_ari=adjusted_rand_score(truth, pred),
                 sk_nmi=normalized_mutual_info_score(truth, sk), sk_ari=adjusted_rand_score(truth, sk),
                 strata_s=strata_s, sk_s=sk_s)
        rows.append(r)
        print(f"{name}: n={r['n']} k={k}  Strata NMI {r['strata_nmi']:.4f} ARI {r['strata_ari']:.4f} "
              f"(whole run {strata_s:.1f} s)  |  scikit-learn KMeans NMI {r['sk_nmi']:.4f} ARI {r['sk_ari']:.4f} "
              f"(fit {sk_s:.1f} s)", flush=True)
    ok = all(r["strata_nmi"] >= r["sk_nmi"] for r in rows)
    print("quality: " + " ".join(f"{r['corpus']}_nmi_strata={r['strata_nmi']:.4f} {r['corpus']}_nmi_sklearn={r['sk_nmi']:.4f}" for r in rows)
          + f" strata_ge_sklearn={'yes' if ok else 'no'}")


if __name__ == "__main__":
    main()
