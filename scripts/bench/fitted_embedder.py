#!/usr/bin/env python3
"""Scores the vectors fitted_embedder.sh wrote: NMI/AMI against the truth labels at fixed k
(scikit-learn KMeans, n_init=1, median of --seeds seeds), with each embedder's wall time and its
speed and quality as shares of MiniLM's."""
import argparse
import json
import os
import statistics

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_mutual_info_score, normalized_mutual_info_score


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--corpus", action="append", required=True, help="NAME=PATH:FIELD:K")
    ap.add_argument("--embedders", required=True)
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    times = json.load(open(os.path.join(args.work, "times.json")))
    ratios = {}
    for spec in args.corpus:
        name, rest = spec.split("=", 1)
        path, field, k = rest.rsplit(":", 2)
        truth = [json.loads(line)[field] for line in open(path)]
        print(f"\n{name}: {len(truth)} documents, k = {k}, KMeans n_init=1, median of {args.seeds} seeds")
        print("| vectors | dim | strata embed s | × MiniLM speed | NMI | AMI | NMI share of MiniLM |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        base = None
        for e in args.embedders.split(","):
            x = np.load(os.path.join(args.work, f"{name}.{e}.npy"))
            nmi, ami = [], []
            for s in range(args.seeds):
                labels = KMeans(n_clusters=int(k), n_init=1, random_state=s).fit_predict(x)
                nmi.append(normalized_mutual_info_score(truth, labels))
                ami.append(adjusted_mutual_info_score(truth, labels))
            n, a = statistics.median(nmi), statistics.median(ami)
            base = base or (n, times[f"{name}.minilm"])
            speed = base[1] / times[f"{name}.{e}"]
            print(f"| {e} | {x.shape[1]} | {times[f'{name}.{e}']:.2f} | {speed:.1f} | {n:.4f} | {a:.4f} | {n / base[0]:.1%} |", flush=True)
            ratios[f"{name}.{e}.nmi_share"] = round(n / base[0], 3)
            ratios[f"{name}.{e}.speed"] = round(speed, 1)
    print("\nratios: " + " ".join(f"{k}={v}" for k, v in ratios.items()))


if __name__ == "__main__":
    main()
