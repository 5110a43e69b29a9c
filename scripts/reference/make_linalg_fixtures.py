#!/usr/bin/env python3
"""Write reference fixtures for the StrataLinalg tests.

Deterministic (fixed seeds everywhere). Produces JSON files in
Tests/StrataLinalgTests/Fixtures/ computed with scikit-learn and SciPy:

    pca.json        PCA (covariance_eigh), whitening, n_components for a variance fraction
    kmeans.json     Lloyd k-means from a fixed k-means++ init
    kmeanspp.json   k-means++ init inertia and fitted inertia statistics over 20 seeds
    minibatch.json  full k-means vs mini-batch k-means inertia
    metrics.json    silhouette, Calinski-Harabasz, Davies-Bouldin, NMI, ARI, contingency
    hungarian.json  linear_sum_assignment cases
    ridge.json      ridge maps without intercept (sklearn Ridge) and the held-out choice of penalty

Conventions (see README.md next to this script):
  * matrices are flat row-major lists;
  * data matrices are float32; each value is written as the shortest decimal that
    round-trips to the same float32, so parsing it as Float (or as Double and then
    converting to Float) gives exactly the bits scikit-learn saw;
  * reference outputs are written as float64 with full (round-trip) precision.

Usage:  python3 scripts/reference/make_linalg_fixtures.py [--out DIR] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys

import numpy as np
import scipy
import sklearn
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans, MiniBatchKMeans, kmeans_plusplus
from sklearn.datasets import make_blobs
from sklearn.decomposition import PCA
from sklearn.metrics import (
    adjusted_mutual_info_score,
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    normalized_mutual_info_score,
    silhouette_samples,
    silhouette_score,
)
from sklearn.metrics.cluster import contingency_matrix
from threadpoolctl import threadpool_limits

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_OUT = os.path.join(REPO, "Tests", "StrataLinalgTests", "Fixtures")

VERSIONS = {
    "python": sys.version.split()[0],
    "numpy": np.__version__,
    "scipy": scipy.__version__,
    "sklearn": sklearn.__version__,
}


# ---------------------------------------------------------------- helpers

def f32_list(a) -> list[float]:
    """Flat list of float32 values, each the shortest decimal that round-trips to float32."""
    a = np.ascontiguousarray(a, dtype=np.float32).ravel()
    out = [float(np.format_float_positional(v, unique=True, trim="-")) for v in a]
    # Exactness check: parsing the written decimal as double and narrowing to float32
    # must give back the original bits.
    back = np.asarray(out, dtype=np.float64).astype(np.float32)
    assert np.array_equal(back.view(np.uint32), a.view(np.uint32)), "float32 round-trip failed"
    return out


def f64_list(a) -> list[float]:
    """Flat list of float64 values (Python's repr is round-trip exact)."""
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def int_list(a) -> list[int]:
    return [int(v) for v in np.asarray(a).ravel()]


def blobs_f32(n, d, centers, std, seed, decimals=4, box=10.0):
    """make_blobs rounded to `decimals` then cast to float32 (keeps the JSON small; the
    rounded float32 values are the data every reference result is computed from)."""
    X, y = make_blobs(n_samples=n, n_features=d, centers=centers, cluster_std=std,
                      center_box=(-box, box), random_state=seed)
    X = np.round(X, decimals).astype(np.float32)
    return X, y


def sq_dist_min(X, C):
    """Per-point min squared Euclidean distance to the rows of C, in float64."""
    X = np.asarray(X, dtype=np.float64)
    C = np.asarray(C, dtype=np.float64)
    d2 = (X * X).sum(1)[:, None] - 2.0 * X @ C.T + (C * C).sum(1)[None, :]
    # exact recomputation for the chosen centre avoids cancellation
    j = np.argmin(d2, axis=1)
    return ((X - C[j]) ** 2).sum(1), j


def write(out_dir, name, obj):
    obj = {"versions": VERSIONS, **obj}
    path = os.path.join(out_dir, name)
    with open(path, "w") as fh:
        json.dump(obj, fh, separators=(",", ":"), allow_nan=False)
        fh.write("\n")
    print(f"wrote {path} ({os.path.getsize(path) / 1024:.1f} KiB)")


# ---------------------------------------------------------------- fixtures

def make_pca(out_dir):
    rng = np.random.default_rng(20240601)
    n, d, p = 500, 24, 8
    stds = np.geomspace(10.0, 0.01, d)
    Z = rng.standard_normal((n, d)) * stds
    Q, R = np.linalg.qr(rng.standard_normal((d, d)))
    Q = Q * np.sign(np.diag(R))  # uniformly random orthogonal matrix
    X = (Z @ Q.T + 1000.0).astype(np.float32)
    X64 = X.astype(np.float64)

    pca = PCA(n_components=p, svd_solver="covariance_eigh").fit(X64)
    pca_w = PCA(n_components=p, svd_solver="covariance_eigh", whiten=True).fit(X64)
    fractions = {}
    for f in ("0.5", "0.9", "0.99"):
        fractions[f] = int(PCA(n_components=float(f), svd_solver="full").fit(X64).n_components_)

    # Sanity: covariance_eigh forms X^T X - n*mean*mean^T (cancellation with the 1000 offset);
    # make sure it agrees with the SVD of the centred data for the kept components.
    full = PCA(n_components=p, svd_solver="full").fit(X64)
    rel = np.max(np.abs(full.explained_variance_ - pca.explained_variance_)
                 / full.explained_variance_)
    assert rel < 1e-8, rel
    assert np.allclose(np.abs(full.components_), np.abs(pca.components_), atol=1e-8)

    write(out_dir, "pca.json", {
        "n": n, "d": d, "X": f32_list(X), "n_components": p,
        "mean": f64_list(pca.mean_),
        "components": f64_list(pca.components_),
        "explained_variance": f64_list(pca.explained_variance_),
        "explained_variance_ratio": f64_list(pca.explained_variance_ratio_),
        "singular_values": f64_list(pca.singular_values_),
        "transformed": f64_list(pca.transform(X64)),
        "transformed_whiten": f64_list(pca_w.transform(X64)),
        "n_components_for_fraction": fractions,
    })


def make_kmeans(out_dir):
    n, d, k = 3000, 16, 10
    # centre box (-4, 4) instead of the default (-10, 10): overlapping clusters, so Lloyd
    # needs ~10 iterations instead of 2.
    X, _ = blobs_f32(n, d, k, 1.5, seed=7, box=4.0)
    init, _ = kmeans_plusplus(X, k, random_state=0)
    tol = 1e-4
    log = io.StringIO()
    with contextlib.redirect_stdout(log):
        km = KMeans(n_clusters=k, init=init, n_init=1, algorithm="lloyd", max_iter=300,
                    tol=tol, verbose=1).fit(X)
    log = log.getvalue()
    if "strict convergence" in log:
        converged_by = "strict"  # labels identical to the previous iteration's
    elif "within tolerance" in log:
        converged_by = "tol"  # sum of squared centre shifts <= tol_scaled
    else:
        converged_by = "max_iter"
    tol_scaled = float(np.mean(np.var(X, axis=0)) * tol)  # == sklearn.cluster._kmeans._tolerance
    inertia64, lab64 = sq_dist_min(X, km.cluster_centers_)
    assert np.array_equal(lab64, km.labels_)
    write(out_dir, "kmeans.json", {
        "n": n, "d": d, "k": k, "X": f32_list(X),
        "init": f32_list(init),
        "labels": int_list(km.labels_),
        "centers": f32_list(km.cluster_centers_),
        "inertia": float(km.inertia_),
        "inertia_float64": float(inertia64.sum()),
        "n_iter": int(km.n_iter_),
        "converged_by": converged_by,
        "tol": tol,
        "tol_scaled": tol_scaled,
    })


def make_kmeanspp(out_dir):
    n, d, k = 4000, 8, 25
    X, _ = blobs_f32(n, d, k, 2.0, seed=11)
    init_inertia, fit_inertia = [], []
    for s in range(20):
        C, _ = kmeans_plusplus(X, k, random_state=s)
        init_inertia.append(float(sq_dist_min(X, C)[0].sum()))
        fit_inertia.append(float(KMeans(k, init="k-means++", n_init=1, random_state=s,
                                        algorithm="lloyd").fit(X).inertia_))
    write(out_dir, "kmeanspp.json", {
        "n": n, "d": d, "k": k, "X": f32_list(X),
        "init_inertia": init_inertia,
        "fit_inertia": fit_inertia,
    })


def make_minibatch(out_dir):
    n, d, k = 8000, 16, 12
    X, _ = blobs_f32(n, d, k, 1.0, seed=3, decimals=3)
    full = KMeans(k, n_init=3, random_state=0).fit(X)
    mb = [float(MiniBatchKMeans(k, batch_size=1024, random_state=s, n_init=3).fit(X).inertia_)
          for s in range(5)]
    write(out_dir, "minibatch.json", {
        "n": n, "d": d, "k": k, "X": f32_list(X),
        "inertia_full": float(full.inertia_),
        "inertia_minibatch": mb,
    })


def make_metrics(out_dir):
    n, d = 600, 8
    X, y = blobs_f32(n, d, 6, 2.0, seed=5)
    pred = KMeans(5, n_init=3, random_state=1).fit_predict(X)
    X64 = X.astype(np.float64)
    C = contingency_matrix(y, pred)
    rng = np.random.default_rng(11)
    rand_truth, rand_pred = rng.integers(0, 5, size=300), rng.integers(0, 40, size=300)
    write(out_dir, "metrics.json", {
        "n": n, "d": d, "X": f32_list(X),
        "labels_true": int_list(y),
        "labels_pred": int_list(pred),
        "silhouette": float(silhouette_score(X64, pred, metric="euclidean")),
        "silhouette_samples": f64_list(silhouette_samples(X64, pred, metric="euclidean")),
        "calinski_harabasz": float(calinski_harabasz_score(X64, pred)),
        "davies_bouldin": float(davies_bouldin_score(X64, pred)),
        "nmi": float(normalized_mutual_info_score(y, pred)),
        "ari": float(adjusted_rand_score(y, pred)),
        "ami": float(adjusted_mutual_info_score(y, pred)),
        "contingency": int_list(C),
        "contingency_rows": int(C.shape[0]),
        "contingency_cols": int(C.shape[1]),
        "metrics_cosine": {
            "silhouette_cosine": float(silhouette_score(X64, pred, metric="cosine")),
        },
        # Unrelated random labelings, many clusters: NMI is well above 0, AMI ≈ 0.
        "random_truth": int_list(rand_truth),
        "random_pred": int_list(rand_pred),
        "random_nmi": float(normalized_mutual_info_score(rand_truth, rand_pred)),
        "random_ami": float(adjusted_mutual_info_score(rand_truth, rand_pred)),
    })


def make_hungarian(out_dir):
    rng = np.random.default_rng(99)
    cases = []

    def add(cost, maximize=False, note=""):
        cost = np.asarray(cost, dtype=np.float64)
        r, c = linear_sum_assignment(cost, maximize=maximize)
        case = {
            "rows": int(cost.shape[0]), "cols": int(cost.shape[1]),
            "cost": f64_list(cost),
            "row_ind": int_list(r), "col_ind": int_list(c),
            "total": float(cost[r, c].sum()),
        }
        if maximize:
            case["maximize"] = True
        if note:
            case["note"] = note
        cases.append(case)

    add(rng.uniform(0, 1, (1, 1)), note="1x1 uniform")
    add(rng.uniform(0, 1, (3, 3)), note="3x3 uniform")
    add(rng.uniform(0, 10, (10, 10)), note="10x10 uniform")
    add(rng.uniform(0, 1, (50, 50)), note="50x50 uniform")
    add(rng.uniform(0, 1, (7, 12)), note="7x12 wide")
    add(rng.uniform(0, 1, (12, 7)), note="12x7 tall")
    add(rng.standard_normal((40, 25)), note="40x25 tall normal (negative entries)")
    add(rng.standard_normal((15, 15)) * 5.0 - 3.0, note="15x15 mostly negative costs")
    add(rng.uniform(-1, 1, (20, 20)), maximize=True, note="20x20 maximize")
    write(out_dir, "hungarian.json", {"cases": cases})


def make_ridge(out_dir):
    """Ridge without intercept, penalty lambda per row (alpha = lambda * m), as CorpusFit uses it: static
    vectors (unit rows) mapped to targets (unit rows). Also Ridge.fitChoosingPenalty's rule: fit on the
    rows whose index % 10 != 9, mean cosine of the mapped held-out rows to their targets per candidate,
    the best candidate refitted on every row."""
    from sklearn.linear_model import Ridge
    rng = np.random.default_rng(7)
    m, p, q = 200, 12, 7
    X = rng.normal(size=(m, p)) @ rng.normal(size=(p, p))
    X = (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)
    Y = np.tanh(X.astype(np.float64) @ rng.normal(size=(p, q))) + 0.3 * rng.normal(size=(m, q))
    Y = (Y / np.linalg.norm(Y, axis=1, keepdims=True)).astype(np.float32)
    Xd, Yd = X.astype(np.float64), Y.astype(np.float64)
    lam = 1e-2
    W = Ridge(alpha=lam * m, fit_intercept=False, solver="cholesky").fit(Xd, Yd).coef_.T
    candidates = [1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    held = np.arange(m) % 10 == 9
    cos = []
    for c in candidates:
        w = Ridge(alpha=c * (~held).sum(), fit_intercept=False, solver="cholesky").fit(Xd[~held], Yd[~held]).coef_.T
        z = Xd[held] @ w
        cos.append(float(np.mean((z * Yd[held]).sum(1) / (np.linalg.norm(z, axis=1) * np.linalg.norm(Yd[held], axis=1)))))
    best = candidates[int(np.argmax(cos))]
    Wbest = Ridge(alpha=best * m, fit_intercept=False, solver="cholesky").fit(Xd, Yd).coef_.T
    write(out_dir, "ridge.json", {"m": m, "p": p, "q": q, "X": f32_list(X), "Y": f32_list(Y), "lambda": lam, "W": f64_list(W),
                             "candidates": candidates, "held_out_cosine": cos, "chosen": best, "W_chosen": f64_list(Wbest)})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--only", nargs="*", help="write only these fixtures (e.g. ridge)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    print("versions:", VERSIONS)
    # One thread for BLAS and OpenMP: sklearn's k-means accumulates in float32 per chunk and
    # per thread, so the last bits of centres/inertia depend on the thread count.
    makers = {"pca": make_pca, "kmeans": make_kmeans, "kmeanspp": make_kmeanspp, "minibatch": make_minibatch,
              "metrics": make_metrics, "hungarian": make_hungarian, "ridge": make_ridge}
    with threadpool_limits(limits=1):
        for name, make in makers.items():
            if not args.only or name in args.only:
                make(args.out)
    total = sum(os.path.getsize(os.path.join(args.out, f))
                for f in os.listdir(args.out) if f.endswith(".json"))
    print(f"total {total / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
