#!/usr/bin/env python3
"""Strata vs BERTopic vs scikit-learn KMeans on one set of MiniLM embeddings, against the true classes.

For each corpus (PATH:TRUTH_FIELD:K), every method is fitted --runs times (seeds 42, 43, …) and the
table shows medians:
  1. `strata embed` computes the MiniLM vectors once (timed: the shared embedding time) into a fresh
     state directory, whose embedding cache then serves every Strata run.
  2. `strata run --full --cold-start --relabel` (keyword labels, offline) with its default `--k auto` and with
     `--k K`. Its fit time is the process's wall time minus the `embed` stage it reports in topics.json
     (a cache read).
  3. BERTopic with default settings (UMAP + HDBSCAN + c-TF-IDF) and with nr_topics=K, both given the
     vectors of step 1 (no embedding model is ever loaded).
  4. scikit-learn KMeans(n_clusters=K, n_init=1, random_state=seed) on the L2-normalised vectors.
Then NMI, AMI and ARI against TRUTH_FIELD (scikit-learn), the number of topics, and label fidelity: every
topic name is embedded with `strata embed`, each document goes to the name nearest by cosine, and
fidelity is the share of documents whose nearest name is their own topic's.
The NMI target is judged like for like: Strata's default against BERTopic's default, and Strata's
--k K against BERTopic's nr_topics=K (NMI rises with the number of clusters, so a setting with more
clusters has an edge); the two cross pairings are printed beside them.

Meant to be started by compare.sh, which sets up the venv and the BLAS environment.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score, normalized_mutual_info_score

SEED = 42
# compare.sh drops OPENBLAS_* for this process (they slow the numpy/scikit-learn wheels down) and
# passes the original values here; every strata process gets them back.
SAVED_BLAS_ENV = "STRATA_SAVED_BLAS_ENV"


def strata_env():
    env = dict(os.environ)
    env.pop(SAVED_BLAS_ENV, None)
    env.update(json.loads(os.environ.get(SAVED_BLAS_ENV, "{}")))
    return env


def strata(binary, *args):
    """Runs one strata command (quiet) and returns its wall time in seconds."""
    t0 = time.perf_counter()
    subprocess.run([binary, *args, "--quiet"], check=True, env=strata_env())
    return time.perf_counter() - t0


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def unit_rows(a):
    a = np.asarray(a, dtype=np.float32)
    return a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)


def label_fidelity(X, pred, name_vecs):
    """Share of documents whose nearest topic name (cosine) is their own topic's.

    X: unit document vectors; pred: topic per document; name_vecs: {topic: unit name vector}.
    Documents whose topic has no name (BERTopic's outliers, -1) are left out."""
    topics = sorted(name_vecs)
    N = np.stack([name_vecs[t] for t in topics])
    index = {t: i for i, t in enumerate(topics)}
    own = np.array([index.get(t, -1) for t in pred])
    keep = np.flatnonzero(own >= 0)
    hits = 0
    for start in range(0, len(keep), 8192):  # chunks: BERTopic may find thousands of topics
        rows = keep[start:start + 8192]
        hits += int(np.sum(np.argmax(X[rows] @ N.T, axis=1) == own[rows]))
    return hits / len(keep) if len(keep) else float("nan")


def fit_bertopic(docs, X, nr_topics=None, seed=SEED):
    """BERTopic with its defaults (optionally nr_topics) on precomputed embeddings; returns
    (topic per document, {topic: name}, fit seconds). The name is the one BERTopic shows in
    get_topic_info()['Name'] without the leading topic number: its top four c-TF-IDF words, taken from
    get_topic() so that words containing '_' are not split."""
    from bertopic import BERTopic
    from hdbscan import HDBSCAN
    from umap import UMAP

    model = BERTopic(embedding_model=None, nr_topics=nr_topics)
    # BERTopic silently swaps in PCA / scikit-learn's HDBSCAN when umap / hdbscan fail to import.
    assert isinstance(model.umap_model, UMAP) and isinstance(model.hdbscan_model, HDBSCAN)
    # UMAP is left unseeded, as by default (a seed makes it single-threaded); it then draws from
    # numpy's global generator, seeded here. Its parallel optimisation still varies from run to run.
    np.random.seed(seed)
    t0 = time.perf_counter()
    pred, _ = model.fit_transform(docs, embeddings=X)
    seconds = time.perf_counter() - t0
    names = {t: " ".join(w for w, _ in model.get_topic(t)[:4]) for t in model.get_topic_info()["Topic"] if t != -1}
    return np.asarray(pred), names, seconds


def warm_up_numba():
    """UMAP and pynndescent compile their numba kernels on first use (cached on disk only in part).
    Untimed fits on random data keep that compile time out of BERTopic's fit times: UMAP takes exact
    neighbours below 4,096 points and pynndescent's approximate ones above, so one fit of each size."""
    from umap import UMAP

    rng = np.random.default_rng(SEED)
    t0 = time.perf_counter()
    for n in (1000, 5000):
        UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine").fit(unit_rows(rng.normal(size=(n, 384))))
    return time.perf_counter() - t0


def median(values):
    return float(np.median(np.asarray(values, dtype=float)))


def evaluate(binary, path, truth_field, k, work, runs):
    load0 = os.getloadavg()[0]
    name = os.path.splitext(os.path.basename(path))[0]
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    # A copy, because strata writes <stem>.topics.jsonl beside its input.
    local = os.path.join(d, os.path.basename(path))
    shutil.copyfile(path, local)
    state = os.path.join(d, "state")
    records = read_jsonl(local)
    docs = [r["text"] for r in records]
    truth = [r[truth_field] for r in records]
    ids = [r["id"] for r in records]

    # 1. The shared embeddings, computed once; they stay in `state`'s cache for every Strata run.
    x_path = os.path.join(d, "X.npy")
    embed_s = strata(binary, "embed", local, "--out", x_path, "--state", state)
    X = unit_rows(np.load(x_path))  # MiniLM vectors are L2-normalised already; this is a no-op guard
    assert X.shape[0] == len(records)

    def strata_fit(k_arg, seed):
        """One full, cold `strata run` (keyword labels) on the shared state; returns
        (topic per document, {topic: label + description}, fit seconds, topics.json run block)."""
        # --relabel: a refit keeps the labels of topics matched to the previous run's (stability for
        # nightly runs); here every fit must be described afresh, or label fidelity would score the
        # previous fit's labels.
        wall = strata(binary, "run", local, "--k", k_arg, "--seed", str(seed), "--state", state, "--full", "--cold-start",
                      "--relabel")
        with open(os.path.join(state, "topics.json"), encoding="utf-8") as f:
            doc = json.load(f)
        by_id = {r["id"]: r["topic_id"] for r in read_jsonl(os.path.splitext(local)[0] + ".topics.jsonl")}
        pred = np.array([by_id[i] for i in ids])
        names = {t["id"]: f"{t['label']} {t['description']}" for t in doc["topics"]}
        return pred, names, wall - float(doc["run"]["timings"]["embed"]), doc["run"]

    # 2–4. Every method `runs` times: Strata with seeds SEED, SEED+1, …; BERTopic with numpy's global
    # generator seeded the same way (its UMAP is unseeded by default and varies from run to run anyway);
    # scikit-learn KMeans with random_state = the seed.
    methods = [
        ("strata-auto", "Strata default (k auto)", lambda s: strata_fit("auto", s)),
        ("strata-k", f"Strata --k {k}", lambda s: strata_fit(str(k), s)),
        ("bt-default", "BERTopic default", lambda s: fit_bertopic(docs, X, seed=s)),
        ("bt-k", f"BERTopic nr_topics={k}", lambda s: fit_bertopic(docs, X, nr_topics=k, seed=s)),
        ("kmeans", f"scikit-learn KMeans K={k}", None),
    ]
    fits = {tag: [] for tag, _, _ in methods}
    last_run = None
    for r in range(runs):
        seed = SEED + r
        for tag, _, fit in methods:
            if tag == "kmeans":
                t0 = time.perf_counter()
                pred = KMeans(n_clusters=k, n_init=1, random_state=seed).fit_predict(X)
                fits[tag].append(dict(pred=pred, names=None, seconds=time.perf_counter() - t0))
                continue
            out = fit(seed)
            fits[tag].append(dict(pred=out[0], names=out[1], seconds=out[2]))
            if tag == "strata-k":
                last_run = out[3]

    # Label fidelity: every named run's topic names in one `strata embed` call, with a scratch state.
    names_path = os.path.join(d, "names.jsonl")
    with open(names_path, "w", encoding="utf-8") as f:
        for tag in fits:
            for r, fitted in enumerate(fits[tag]):
                for t, text in (fitted["names"] or {}).items():
                    f.write(json.dumps({"id": f"{tag}:{r}:{t}", "text": text}) + "\n")
    names_npy = os.path.join(d, "names.npy")
    strata(binary, "embed", names_path, "--out", names_npy, "--state", os.path.join(d, "names-state"))
    name_rows = unit_rows(np.load(names_npy))
    row = 0
    for tag in fits:
        for fitted in fits[tag]:
            if fitted["names"] is None:
                fitted["fid"] = None
                continue
            vecs = {}
            for t in fitted["names"]:
                vecs[t] = name_rows[row]
                row += 1
            fitted["fid"] = label_fidelity(X, fitted["pred"], vecs)

    summary = {}
    for tag, title, _ in methods:
        runs_ = fits[tag]
        for f_ in runs_:
            f_["nmi"] = normalized_mutual_info_score(truth, f_["pred"])
            f_["ami"] = adjusted_mutual_info_score(truth, f_["pred"])
            f_["ari"] = adjusted_rand_score(truth, f_["pred"])
            f_["topics"] = len(set(f_["pred"].tolist()) - {-1})
            f_["outliers"] = float(np.mean(f_["pred"] == -1))
        summary[tag] = dict(
            title=title, nmi=median([f_["nmi"] for f_ in runs_]), ami=median([f_["ami"] for f_ in runs_]),
            ari=median([f_["ari"] for f_ in runs_]), seconds=median([f_["seconds"] for f_ in runs_]),
            fid=None if runs_[0]["fid"] is None else median([f_["fid"] for f_ in runs_]),
            topics=[f_["topics"] for f_ in runs_], outliers=median([f_["outliers"] for f_ in runs_]),
            nmis=[f_["nmi"] for f_ in runs_])

    # The table: medians over the runs; the NMI range beside them.
    print(f"\n== {name}: {len(records):,} documents, {len(set(truth))} classes ({truth_field}), K={k}; "
          f"medians of {runs} runs ==")
    print(f"shared MiniLM embeddings (`strata embed`, computed once, {X.shape[1]}-d): {embed_s:.1f} s")
    print(f"{'method':<27} {'topics':>17} {'NMI':>7} {'(min–max)':>15} {'AMI':>7} {'ARI':>7} {'label fid.':>10} "
          f"{'fit s':>8}")
    for tag, _, _ in methods:
        m = summary[tag]
        lo, hi = min(m["topics"]), max(m["topics"])
        topics = (f"{lo}" if lo == hi else f"{lo}–{hi}") + (f" +{m['outliers']:.0%} out" if m["outliers"] > 0 else "")
        fid = "–" if m["fid"] is None else f"{m['fid']:.3f}"
        spread = f"{min(m['nmis']):.4f}–{max(m['nmis']):.4f}"
        print(f"{m['title']:<27} {topics:>17} {m['nmi']:>7.4f} {spread:>15} {m['ami']:>7.4f} {m['ari']:>7.4f} "
              f"{fid:>10} {m['seconds']:>8.2f}")
    stages = ", ".join(f"{st} {sec:.2f}" for st, sec in last_run["timings"].items())
    print(f"Strata's fit time: `strata run` wall minus its embed stage (embedding-cache read; documents "
          f"re-embedded in the last --k run: {last_run['counts']['embedded']}); last --k run's stages (s): {stages}")
    # Fit times on a shared machine move with its load; the 1-minute load average says how busy it was.
    print(f"1-min load average before / after this corpus: {load0:.1f} / {os.getloadavg()[0]:.1f} "
          f"({os.cpu_count()} CPUs)")
    for tag in ("bt-default", "bt-k"):
        if summary[tag]["outliers"] > 0:
            print(f"{summary[tag]['title']}: {summary[tag]['outliers']:.1%} of documents in outlier topic -1; it "
                  f"counts as one more cluster for NMI/AMI/ARI and those documents are left out of label fidelity")

    sa, sk, bd, bk = summary["strata-auto"], summary["strata-k"], summary["bt-default"], summary["bt-k"]
    ratio_d, ratio_k = sa["seconds"] / bd["seconds"], sk["seconds"] / bk["seconds"]
    yn = lambda b: "yes" if b else "NO"
    ok_nmi = sa["nmi"] >= bd["nmi"] and sk["nmi"] >= bk["nmi"]
    ok_time = ratio_d <= 1 / 3 and ratio_k <= 1 / 3
    print(f"like for like — defaults: Strata {sa['nmi']:.4f} vs BERTopic {bd['nmi']:.4f} ({yn(sa['nmi'] >= bd['nmi'])}); "
          f"K={k}: Strata {sk['nmi']:.4f} vs BERTopic {bk['nmi']:.4f} ({yn(sk['nmi'] >= bk['nmi'])})")
    print(f"across settings: Strata --k {k} vs BERTopic default {sk['nmi']:.4f} vs {bd['nmi']:.4f} "
          f"({yn(sk['nmi'] >= bd['nmi'])}); Strata default vs BERTopic nr_topics={k} {sa['nmi']:.4f} vs {bk['nmi']:.4f} "
          f"({yn(sa['nmi'] >= bk['nmi'])})")
    print(f"Strata time / BERTopic time: {ratio_d:.3f} (defaults), {ratio_k:.3f} (K={k}); target ≤ 0.333 "
          f"{yn(ok_time)}", flush=True)
    return dict(corpus=name, nmi_strata_auto=sa["nmi"], nmi_strata_k=sk["nmi"], nmi_bt_default=bd["nmi"],
                nmi_bt_k=bk["nmi"], ratio_default=ratio_d, ratio_k=ratio_k, ok=ok_nmi and ok_time)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--strata", required=True, help="path to the strata binary")
    ap.add_argument("--corpus", action="append", required=True, help="PATH:TRUTH_FIELD:K")
    ap.add_argument("--workdir", default=None, help="keep the intermediate files here (default: a temp dir, removed)")
    ap.add_argument("--runs", type=int, default=3,
                    help="fits per method (seeds 42, 43, …); the table shows medians (default 3)")
    args = ap.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="strata-compare-")
    os.makedirs(work, exist_ok=True)

    t_start = time.perf_counter()
    strata_version = subprocess.run([args.strata, "--version"], capture_output=True, text=True,
                                    env=strata_env()).stdout.strip()
    print(f"Strata {strata_version}; BERTopic {version('bertopic')} (umap-learn {version('umap-learn')}, "
          f"hdbscan {version('hdbscan')}); scikit-learn {version('scikit-learn')}; seed {SEED}")
    print("label fidelity: share of documents nearest (cosine) to their own topic's name; names are Strata's "
          "label + description and BERTopic's top 4 c-TF-IDF words (get_topic_info Name); KMeans has none")
    print(f"fit times exclude embedding; numba JIT warm-up before BERTopic, not counted: {warm_up_numba():.1f} s",
          flush=True)
    # Another checkout may rebuild the binary while this runs; say so rather than mix two builds silently.
    built = os.stat(args.strata).st_mtime
    results = []
    try:
        for spec in args.corpus:
            path, truth_field, k = spec.rsplit(":", 2)
            results.append(evaluate(args.strata, path, truth_field, int(k), work, args.runs))
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    if os.stat(args.strata).st_mtime != built:
        print(f"warning: {args.strata} was rebuilt during this run; its results may mix two builds")
    print(f"\ntotal: {time.perf_counter() - t_start:.0f} s")
    print("compare: " + " ".join(
        f"{r['corpus']}_nmi_strata_auto={r['nmi_strata_auto']:.4f} {r['corpus']}_nmi_strata_k={r['nmi_strata_k']:.4f} "
        f"{r['corpus']}_nmi_bertopic_default={r['nmi_bt_default']:.4f} "
        f"{r['corpus']}_nmi_bertopic_k={r['nmi_bt_k']:.4f} {r['corpus']}_time_ratio_default={r['ratio_default']:.3f} "
        f"{r['corpus']}_time_ratio_k={r['ratio_k']:.3f}" for r in results)
        + f" targets_met={'yes' if all(r['ok'] for r in results) else 'no'}")


if __name__ == "__main__":
    sys.exit(main())
