#!/usr/bin/env python3
"""Time Strata, scikit-learn and FAISS on the same k-means and PCA problems.

Usually started by scripts/bench/kmeans_pca.sh, which builds strata-bench first. Runs:

  * Lloyd k-means, fixed iterations (default 20) from the same initial centres, at d=384 and
    d=64 (n=200,000, k=100): Strata, scikit-learn and FAISS, ms per iteration;
  * PCA of n×384 to 64 components (d=384 only): Strata vs scikit-learn (covariance_eigh);
  * a full fit to convergence (tol 1e-4, max 300 iterations) from the same k-means++ centres,
    at d=64 by default (--fit-d), because Strata runs k-means on PCA-reduced vectors: Strata
    (Hamerly's bounds, and plain Lloyd) vs scikit-learn's lloyd and elkan, final labels compared;
  * sgemm 4096³ as the peak that the achieved GFLOP/s are compared against.

Threads: 2 for everyone (threadpoolctl for scikit-learn/numpy, omp_set_num_threads for FAISS,
--threads to change).

BLAS environment: this machine sets OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE. For this benchmark alone
both are unset (the process re-executes itself if they are set), for numpy/scikit-learn and for
strata-bench alike, so both sides run the same OpenBLAS generation with the kernel it picks for this
CPU: numpy's bundled scipy-openblas, and Strata's runtime-loaded scipy-openblas32 when
scripts/fetch-openblas.sh installed it (each side's library and kernel are printed; the system
OpenBLAS's sgemm rate is printed too). --strata-blas-env original hands strata-bench the original
values instead. FAISS runs in a subprocess with the original values by default (--faiss-blas-env):
the OpenBLAS 0.3.15 that the faiss-cpu wheel bundles does not recognise newer CPUs and falls back
to its slow "Barcelona" kernels without OPENBLAS_CORETYPE.

Exit status: 0 when every measurement ran, 1 when some failed (the table says which).
"""

from __future__ import annotations

import json
import os
import sys

BLAS_ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
SAVED_ENV_KEY = "STRATA_BENCH_SAVED_BLAS_ENV"


def _reexec_without_blas_env() -> None:
    """Drop OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE before numpy is loaded; remember them."""
    present = {v: os.environ[v] for v in BLAS_ENV_VARS if v in os.environ}
    if not present:
        return
    env = dict(os.environ)
    for v in present:
        del env[v]
    saved = json.loads(env.get(SAVED_ENV_KEY, "{}"))
    saved.update(present)
    env[SAVED_ENV_KEY] = json.dumps(saved)
    os.execve(sys.executable, [sys.executable, os.path.abspath(__file__)] + sys.argv[1:], env)


if __name__ == "__main__" and "--faiss-worker" not in sys.argv:
    _reexec_without_blas_env()

import argparse  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402


# ---------------------------------------------------------------------------- helpers

def saved_blas_env() -> dict[str, str]:
    return json.loads(os.environ.get(SAVED_ENV_KEY, "{}"))


def original_env() -> dict[str, str]:
    """This process's environment with the OPENBLAS_* variables restored as they were."""
    env = dict(os.environ)
    env.pop(SAVED_ENV_KEY, None)
    env.update(saved_blas_env())
    return env


def blas_info() -> list[dict]:
    from threadpoolctl import threadpool_info
    keys = ("user_api", "internal_api", "prefix", "version", "architecture", "num_threads",
            "threading_layer", "filepath")
    return [{k: i.get(k) for k in keys if i.get(k) is not None} for i in threadpool_info()]


def print_blas_info(title: str, infos: list[dict]) -> None:
    print(title)
    for i in infos:
        print(f"  {i.get('internal_api', '?'):9} {i.get('prefix', ''):20} "
              f"v{i.get('version') or '?':14} arch={i.get('architecture', '-'):10} "
              f"threads={i.get('num_threads')}  {os.path.basename(i.get('filepath', ''))}")


def median(xs):
    return statistics.median(xs)


def last_json_line(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no JSON object on stdout")


def run_json(cmd: list[str], env: dict[str, str], label: str, errors: list[str]) -> dict | None:
    """Run a subprocess that prints one JSON object on stdout; None (and an error) on failure."""
    print(f"  $ {' '.join(cmd)}", flush=True)
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    except OSError as e:
        errors.append(f"{label}: {e}")
        print(f"  ! {label}: {e}", flush=True)
        return None
    if p.returncode != 0:
        msg = f"{label}: exit {p.returncode}: {p.stderr.strip()[-2000:]}"
        errors.append(msg)
        print(f"  ! {msg}", flush=True)
        return None
    try:
        return last_json_line(p.stdout)
    except ValueError as e:
        errors.append(f"{label}: {e}; stdout was {p.stdout[-500:]!r}")
        print(f"  ! {label}: {e}", flush=True)
        return None


def inertia_of(X: np.ndarray, C: np.ndarray, block: int = 16384) -> float:
    """Sum of squared distances to the nearest centre, float64 accumulation (blocked GEMM)."""
    C64 = C.astype(np.float64)
    cc = (C64 * C64).sum(1)
    total = 0.0
    for s in range(0, X.shape[0], block):
        xb = X[s:s + block].astype(np.float64)
        d2 = (xb * xb).sum(1)[:, None] - 2.0 * (xb @ C64.T) + cc[None, :]
        total += float(np.maximum(d2.min(1), 0.0).sum())
    return total


def make_data(n: int, d: int, n_clusters: int, seed: int) -> np.ndarray:
    """Gaussian mixture with uneven cluster sizes and spreads, L2-normalised rows, float32."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_clusters, d), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    weights = rng.dirichlet(np.full(n_clusters, 2.0))
    spread = rng.uniform(0.5, 1.1, n_clusters).astype(np.float32) / np.float32(np.sqrt(d))
    assign = rng.choice(n_clusters, size=n, p=weights)
    X = np.empty((n, d), dtype=np.float32)
    block = 32768
    for s in range(0, n, block):
        a = assign[s:s + block]
        noise = rng.standard_normal((a.size, d), dtype=np.float32)
        X[s:s + block] = centres[a] + noise * spread[a][:, None]
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return np.ascontiguousarray(X, dtype=np.float32)


def numpy_sgemm_gflops(size: int = 4096) -> float:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    a @ b
    ts = []
    for _ in range(3):
        t = time.perf_counter()
        a @ b
        ts.append(time.perf_counter() - t)
    return 2.0 * size ** 3 / min(ts) / 1e9


def fmt(x, spec=".1f", na="n/a"):
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return na
    return format(x, spec)


def ratio(other, strata):
    if other is None or strata is None or strata <= 0:
        return None
    return other / strata


# ---------------------------------------------------------------------------- FAISS worker

def faiss_worker(argv: list[str]) -> None:
    """Runs in a subprocess: FAISS k-means on .npy inputs, prints one JSON object."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--faiss-worker", action="store_true")
    ap.add_argument("--data", required=True)
    ap.add_argument("--init", required=True)
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    import faiss
    faiss.omp_set_num_threads(a.threads)
    X = np.load(a.data)
    C = np.load(a.init)
    n, d = X.shape
    k = C.shape[0]
    # Recent FAISS stops early when the objective stops improving (early_stop_threshold,
    # default 0.0); a negative threshold makes it run all `niter` iterations like the others.
    extra = {}
    if hasattr(faiss.ClusteringParameters(), "early_stop_threshold"):
        extra["early_stop_threshold"] = -1.0
    times, obj, centroids = [], None, None
    for _ in range(a.repeats):
        km = faiss.Kmeans(d, k, niter=a.iterations, max_points_per_centroid=10 ** 9,
                          min_points_per_centroid=1, seed=1234, verbose=False, **extra)
        t = time.perf_counter()
        km.train(X, init_centroids=C)
        times.append(time.perf_counter() - t)
        obj, centroids = km.obj, km.centroids
    out_c = os.path.join(os.path.dirname(a.data), "faiss_centroids.npy")
    np.save(out_c, np.ascontiguousarray(centroids, dtype=np.float32))
    print(json.dumps({
        "ms_per_iteration": median(times) * 1e3 / max(len(obj), 1),
        "ms_total": median(times) * 1e3,
        "iterations": len(obj),
        "empty_cluster_splits": int(sum(st["nsplit"] for st in km.iteration_stats)),
        "objective_last": float(obj[-1]),
        "centroids": out_c,
        "version": faiss.__version__,
        "blas": blas_info(),
    }))


# ---------------------------------------------------------------------------- benchmarks

def bench_sklearn_kmeans(X, C, iterations, repeats, threads):
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits
    times, n_iters, km = [], [], None
    with threadpool_limits(threads):
        for _ in range(repeats):
            t = time.perf_counter()
            km = KMeans(n_clusters=C.shape[0], init=C, n_init=1, max_iter=iterations, tol=0,
                        algorithm="lloyd").fit(X)
            times.append(time.perf_counter() - t)
            n_iters.append(int(km.n_iter_))
        # Fixed cost of a fit (validation, copy and centring of X, final E-step, inertia):
        # a 1-iteration fit; the marginal per-iteration cost is (T_full - T_1) / (iters - 1).
        t1 = []
        for _ in range(repeats):
            with warnings.catch_warnings():
                # after a single iteration some clusters may be empty: expected here
                warnings.simplefilter("ignore", ConvergenceWarning)
                t = time.perf_counter()
                KMeans(n_clusters=C.shape[0], init=C, n_init=1, max_iter=1, tol=0,
                       algorithm="lloyd").fit(X)
                t1.append(time.perf_counter() - t)
    it = n_iters[-1]
    T = median(times)
    return {
        "ms_per_iteration": T * 1e3 / it,
        "ms_total": T * 1e3,
        "iterations": it,
        "iterations_all": n_iters,
        "marginal_ms_per_iteration": (T - median(t1)) * 1e3 / (it - 1) if it > 1 else None,
        "inertia_reported": float(km.inertia_),
        "centroids": km.cluster_centers_,
    }


def bench_sklearn_pca(X, components, repeats, threads):
    from sklearn.decomposition import PCA
    from threadpoolctl import threadpool_limits
    times = []
    with threadpool_limits(threads):
        for _ in range(repeats):
            t = time.perf_counter()
            p = PCA(components, svd_solver="covariance_eigh").fit(X)
            times.append(time.perf_counter() - t)
    return {"ms": median(times) * 1e3,
            "explained_variance_ratio_sum": float(p.explained_variance_ratio_.sum())}


def bench_sklearn_fit(X, C2, repeats, threads, tol, max_iter, algorithm="lloyd"):
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits
    times, km = [], None
    with threadpool_limits(threads):
        for _ in range(repeats):
            t = time.perf_counter()
            km = KMeans(n_clusters=C2.shape[0], init=C2, n_init=1, algorithm=algorithm,
                        max_iter=max_iter, tol=tol).fit(X)
            times.append(time.perf_counter() - t)
    return {"ms": median(times) * 1e3, "iterations": int(km.n_iter_), "labels": km.labels_,
            "inertia": float(km.inertia_), "inertia_f64": inertia_of(X, km.cluster_centers_)}


# ---------------------------------------------------------------------------- main

def default_strata_bin(repo: str) -> str:
    p = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=repo,
                       capture_output=True, text=True, check=True)
    return p.stdout.strip().splitlines()[-1]


def main() -> int:
    if "--faiss-worker" in sys.argv:
        faiss_worker(sys.argv[1:])
        return 0

    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    ap = argparse.ArgumentParser(description="Strata vs scikit-learn vs FAISS: k-means and PCA.")
    ap.add_argument("--n", type=int, default=200_000, help="rows (default 200000)")
    ap.add_argument("--k", type=int, default=100, help="clusters (default 100)")
    ap.add_argument("--dims", default="384,64", help="comma-separated d values (default 384,64)")
    ap.add_argument("--iterations", type=int, default=20, help="fixed Lloyd iterations (20)")
    ap.add_argument("--repeats", type=int, default=3, help="repeats; medians are reported (3)")
    ap.add_argument("--threads", type=int, default=2, help="threads for every library (2)")
    ap.add_argument("--pca-components", type=int, default=64)
    ap.add_argument("--fit-d", type=int, default=64,
                    help="d of the full fit-to-convergence comparison (default 64; 0 = skip)")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--strata-bin", default=None,
                    help="directory holding strata-bench (default: swift build -c release "
                         "--show-bin-path)")
    ap.add_argument("--skip-strata", action="store_true", help="only scikit-learn and FAISS")
    ap.add_argument("--skip-faiss", action="store_true")
    ap.add_argument("--faiss-blas-env", choices=("original", "unset"), default="original",
                    help="run FAISS with OPENBLAS_* as originally set (default) or unset")
    ap.add_argument("--strata-blas-env", choices=("original", "unset"), default="unset",
                    help="run strata-bench with OPENBLAS_* unset (default: the same OpenBLAS "
                         "generation and kernel choice as numpy) or as originally set")
    ap.add_argument("--workdir", default=None, help="where the .npy files go (default: a temp "
                    "dir, removed at the end)")
    ap.add_argument("--keep-data", action="store_true")
    args = ap.parse_args()
    dims = [int(x) for x in args.dims.split(",") if x.strip()]
    errors: list[str] = []

    import sklearn
    print(f"Strata k-means/PCA benchmark: n={args.n} k={args.k} dims={dims} "
          f"iterations={args.iterations} repeats={args.repeats} threads={args.threads}")
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, "
          f"scikit-learn {sklearn.__version__}")
    saved = saved_blas_env()
    print(f"OPENBLAS_* unset in this process; original values "
          f"{saved if saved else '(none were set)'} given to strata-bench "
          f"({args.strata_blas_env}) and FAISS ({args.faiss_blas_env})")
    from threadpoolctl import threadpool_limits
    with threadpool_limits(args.threads):
        print_blas_info("BLAS/OpenMP libraries in use by numpy/scikit-learn (threadpoolctl):",
                        blas_info())
        np_peak = numpy_sgemm_gflops()
    print(f"numpy sgemm 4096³ on {args.threads} threads: {np_peak:.1f} GFLOP/s")

    strata = None
    if not args.skip_strata:
        bin_dir = args.strata_bin or default_strata_bin(repo)
        strata = os.path.join(bin_dir, "strata-bench")
        if not os.access(strata, os.X_OK):
            print(f"error: {strata} not found or not executable (build it with "
                  f"scripts/bench/kmeans_pca.sh, or pass --skip-strata)", file=sys.stderr)
            return 1
    strata_env = original_env() if args.strata_blas_env == "original" else dict(os.environ)
    strata_env.pop(SAVED_ENV_KEY, None)
    faiss_env = original_env() if args.faiss_blas_env == "original" else dict(os.environ)
    faiss_env.pop(SAVED_ENV_KEY, None)

    work = args.workdir or tempfile.mkdtemp(prefix="strata-bench-")
    os.makedirs(work, exist_ok=True)
    R = str(args.repeats)
    peak, peak_src = np_peak, "numpy sgemm"
    sgemm_rates: dict[str, float] = {}
    if strata:
        print("\n== sgemm peak (strata-bench) ==")
        for which in ("system", "active"):
            env = dict(strata_env, STRATA_BLAS="system") if which == "system" else strata_env
            r = run_json([strata, "sgemm", "--size", "4096"], env, f"strata sgemm ({which})", errors)
            if r and r.get("gflops"):
                print(f"  Strata sgemm 4096³ on the {which} BLAS: {float(r['gflops']):.1f} GFLOP/s, "
                      f"{r.get('threads', '?')} threads; {r.get('library', r.get('core', '?'))}")
                sgemm_rates[which] = float(r["gflops"])
                if which == "active":
                    peak, peak_src = float(r["gflops"]), f"Strata sgemm ({r.get('core', '?')})"

    km_rows: dict[int, dict[str, dict]] = {}
    pca_rows: dict[str, dict] = {}
    fit_rows: dict[str, dict] = {}
    faiss_blas_printed = False
    try:
        for d in dims:
            print(f"\n== d={d}: generating {args.n}×{d} float32 ({args.n * d * 4 / 2**20:.0f} MiB) ==",
                  flush=True)
            X = make_data(args.n, d, 100, args.seed + d)
            rng = np.random.default_rng(args.seed + 7 * d)
            C = np.ascontiguousarray(X[np.sort(rng.choice(args.n, args.k, replace=False))])
            xp, cp = os.path.join(work, f"X{d}.npy"), os.path.join(work, f"C{d}.npy")
            np.save(xp, X)
            np.save(cp, C)
            rows = km_rows.setdefault(d, {})

            print(f"-- k-means, {args.iterations} Lloyd iterations, k={args.k}", flush=True)
            sk = bench_sklearn_kmeans(X, C, args.iterations, args.repeats, args.threads)
            sk["inertia"] = inertia_of(X, sk.pop("centroids"))
            rows["scikit-learn"] = sk
            if sk["iterations"] != args.iterations:
                msg = (f"scikit-learn stopped after {sk['iterations']} of {args.iterations} "
                       f"iterations at d={d} (strict convergence: labels unchanged; tol=0 does "
                       f"not prevent it); its ms/iter is fit time / {sk['iterations']}")
                print(f"  note: {msg}")
                sk["note"] = msg
            print(f"  scikit-learn: {sk['ms_per_iteration']:.1f} ms/iter "
                  f"(marginal {fmt(sk['marginal_ms_per_iteration'])}), n_iter_={sk['iterations']}",
                  flush=True)

            if not args.skip_faiss:
                fr = run_json([sys.executable, os.path.abspath(__file__), "--faiss-worker",
                               "--data", xp, "--init", cp, "--iterations", str(args.iterations),
                               "--repeats", R, "--threads", str(args.threads)],
                              faiss_env, f"faiss d={d}", errors)
                if fr:
                    fr["inertia"] = inertia_of(X, np.load(fr.pop("centroids")))
                    if not faiss_blas_printed:
                        print_blas_info(f"  FAISS {fr['version']} subprocess BLAS "
                                        f"(OPENBLAS_* {args.faiss_blas_env}):", fr["blas"])
                        faiss_blas_printed = True
                    rows["FAISS"] = fr
                    print(f"  FAISS: {fr['ms_per_iteration']:.1f} ms/iter, {fr['iterations']} "
                          f"iterations, {fr['empty_cluster_splits']} empty-cluster splits",
                          flush=True)

            if strata:
                r = run_json([strata, "kmeans", "--data", xp, "--init", cp, "--iterations",
                              str(args.iterations), "--repeats", R], strata_env,
                             f"strata kmeans d={d}", errors)
                if r:
                    rows["Strata"] = r
                    print(f"  Strata: {r['ms_per_iteration']:.1f} ms/iter", flush=True)

            if d == 384:
                print(f"-- PCA {args.n}×{d} → {args.pca_components}", flush=True)
                pca_rows["scikit-learn"] = bench_sklearn_pca(X, args.pca_components,
                                                             args.repeats, args.threads)
                print(f"  scikit-learn: {pca_rows['scikit-learn']['ms']:.1f} ms", flush=True)
                if strata:
                    r = run_json([strata, "pca", "--data", xp, "--components",
                                  str(args.pca_components), "--repeats", R], strata_env,
                                 "strata pca", errors)
                    if r:
                        pca_rows["Strata"] = r
                        print(f"  Strata: {r['ms']:.1f} ms", flush=True)

            if d == args.fit_d:
                print(f"-- full fit to convergence, d={d}: k-means++ (sklearn, random_state=0), "
                      f"tol=1e-4, max_iter=300", flush=True)
                from sklearn.cluster import kmeans_plusplus
                with threadpool_limits(args.threads):
                    C2, _ = kmeans_plusplus(X, args.k, random_state=0)
                c2p = os.path.join(work, f"C2_{d}.npy")
                np.save(c2p, np.ascontiguousarray(C2, dtype=np.float32))
                for algo in ("lloyd", "elkan"):
                    s = bench_sklearn_fit(X, C2, args.repeats, args.threads, 1e-4, 300, algo)
                    fit_rows[f"sklearn-{algo}"] = s
                    print(f"  scikit-learn {algo}: {s['ms']:.0f} ms, {s['iterations']} iterations",
                          flush=True)
                if strata:
                    for algo in ("hamerly", "lloyd"):
                        lp = os.path.join(work, f"labels_{algo}.npy")
                        r = run_json([strata, "fit", "--data", xp, "--init", c2p, "--tol", "1e-4",
                                      "--max-iterations", "300", "--repeats", R, "--algorithm",
                                      algo, "--labels-out", lp], strata_env,
                                     f"strata fit {algo}", errors)
                        if r:
                            labels = np.load(lp).reshape(-1).astype(np.int64)
                            for name in ("sklearn-lloyd", "sklearn-elkan"):
                                same = int((labels == fit_rows[name]["labels"]).sum())
                                r[f"same_as_{name}"] = same
                            fit_rows["Strata" if algo == "hamerly" else "Strata-lloyd"] = r
                            print(f"  Strata {algo}: {r['ms']:.0f} ms, {r.get('iterations')} "
                                  f"iterations, rows recomputed {100 * r.get('rows_assigned_share', 1):.1f}%, "
                                  f"labels equal to scikit-learn lloyd/elkan: "
                                  f"{r['same_as_sklearn-lloyd']}/{r['same_as_sklearn-elkan']} of {args.n}",
                                  flush=True)
            del X
    finally:
        if not (args.keep_data or args.workdir):
            shutil.rmtree(work, ignore_errors=True)
        elif args.keep_data:
            print(f"\ndata kept in {work}")

    # ------------------------------------------------------------------ report
    print(f"\n#### Results (n={args.n}, k={args.k}, {args.threads} threads, medians of "
          f"{args.repeats}; peak = {peak_src} {peak:.1f} GFLOP/s)")
    print(f"\nk-means, {args.iterations} Lloyd iterations from the same initial centres; "
          f"2·n·k·d flops per iteration; inertia: as reported by strata-bench, recomputed in "
          f"float64 at the final centres for scikit-learn and FAISS")
    hdr = (f"{'d':>4}  {'impl':13} {'ms/iter':>9} {'GFLOP/s':>8} {'%peak':>6} {'iters':>5} "
           f"{'inertia':>14} {'×Strata':>8}")
    print(hdr)
    print("-" * len(hdr))
    for d, rows in km_rows.items():
        flops = 2.0 * args.n * args.k * d
        st = rows.get("Strata", {}).get("ms_per_iteration")
        for name in ("Strata", "scikit-learn", "FAISS"):
            r = rows.get(name)
            if r is None:
                continue
            ms = r["ms_per_iteration"]
            gf = flops / (ms / 1e3) / 1e9
            rt = ratio(ms, st) if name != "Strata" else None
            print(f"{d:>4}  {name:13} {ms:>9.1f} {gf:>8.1f} {100 * gf / peak:>5.1f}% "
                  f"{r.get('iterations', '?'):>5} {fmt(r.get('inertia'), '.7g'):>14} "
                  f"{fmt(rt, '.2f', '-'):>8}")
        sk = rows.get("scikit-learn")
        if sk and sk.get("marginal_ms_per_iteration"):
            print(f"{'':4}  (scikit-learn marginal ms/iter excluding fixed fit cost: "
                  f"{sk['marginal_ms_per_iteration']:.1f}; reported inertia_ "
                  f"{sk['inertia_reported']:.6g})")
        fr = rows.get("FAISS")
        if fr:
            print(f"{'':4}  (FAISS obj[-1], before the last centroid update: "
                  f"{fr['objective_last']:.6g})")

    if pca_rows:
        d = 384
        flops = float(args.n) * d * d
        print(f"\nPCA fit {args.n}×{d} → {args.pca_components} (n·d² flops, the SYRK count)")
        hdr = f"{'impl':13} {'ms':>9} {'GFLOP/s':>8} {'%peak':>6} {'×Strata':>8}"
        print(hdr)
        print("-" * len(hdr))
        st = pca_rows.get("Strata", {}).get("ms")
        for name in ("Strata", "scikit-learn"):
            r = pca_rows.get(name)
            if r is None:
                continue
            gf = flops / (r["ms"] / 1e3) / 1e9
            rt = ratio(r["ms"], st) if name != "Strata" else None
            print(f"{name:13} {r['ms']:>9.1f} {gf:>8.1f} {100 * gf / peak:>5.1f}% "
                  f"{fmt(rt, '.2f', '-'):>8}")

    if fit_rows:
        d = args.fit_d
        print(f"\nfull fit to convergence, d={d}, from the same k-means++ centres "
              f"(tol 1e-4, max 300 iterations)")
        hdr = (f"{'impl':13} {'ms':>9} {'iters':>5} {'ms/iter':>8} {'inertia':>14} "
               f"{'×Strata':>8}")
        print(hdr)
        print("-" * len(hdr))
        st = fit_rows.get("Strata", {}).get("ms")
        for name in ("Strata", "Strata-lloyd", "sklearn-lloyd", "sklearn-elkan"):
            r = fit_rows.get(name)
            if r is None:
                continue
            it = r.get("iterations")
            per = r["ms"] / it if it else None
            rt = ratio(r["ms"], st) if name != "Strata" else None
            print(f"{name:13} {r['ms']:>9.0f} {fmt(it, 'd', '?'):>5} {fmt(per):>8} "
                  f"{fmt(r.get('inertia'), '.7g'):>14} {fmt(rt, '.2f', '-'):>8}")
        sk = fit_rows.get("sklearn-lloyd")
        if sk:
            print(f"(scikit-learn inertia_ is summed in float32; float64 recomputation "
                  f"{sk['inertia_f64']:.7g})")
        for name in ("Strata", "Strata-lloyd"):
            r = fit_rows.get(name)
            if r:
                print(f"{name}: final labels equal to scikit-learn lloyd's on "
                      f"{r['same_as_sklearn-lloyd']} of {args.n} rows, elkan's on "
                      f"{r['same_as_sklearn-elkan']}")

    if errors:
        print("\nerrors:")
        for e in errors:
            print(f"  {e}")

    km384 = km_rows.get(384, {})
    st = km384.get("Strata", {}).get("ms_per_iteration")

    def rf(x):
        return fmt(x, ".2f")

    if sgemm_rates:
        print("\nsgemm 4096³ GFLOP/s: " + ", ".join(f"{k} BLAS {v:.1f}" for k, v in sgemm_rates.items()))
    if st and sgemm_rates.get("active"):
        gf = 2.0 * args.n * args.k * 384 / (st / 1e3) / 1e9
        print(f"Strata k-means iteration (d=384): {gf:.1f} GFLOP/s = "
              f"{100 * gf / sgemm_rates['active']:.0f}% of its sgemm peak (goal ≥ 75%)")
    sk_fit = [fit_rows[n]["ms"] for n in ("sklearn-lloyd", "sklearn-elkan") if n in fit_rows]
    print()
    print(f"ratios: kmeans_vs_sklearn="
          f"{rf(ratio(km384.get('scikit-learn', {}).get('ms_per_iteration'), st))} "
          f"kmeans_vs_faiss={rf(ratio(km384.get('FAISS', {}).get('ms_per_iteration'), st))} "
          f"pca_vs_sklearn={rf(ratio(pca_rows.get('scikit-learn', {}).get('ms'), pca_rows.get('Strata', {}).get('ms')))} "
          f"fit_vs_sklearn={rf(ratio(min(sk_fit) if sk_fit else None, fit_rows.get('Strata', {}).get('ms')))}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
