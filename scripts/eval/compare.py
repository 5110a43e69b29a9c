#!/usr/bin/env python3
"""Strata vs BERTopic vs scikit-learn KMeans on one set of MiniLM embeddings, against the true classes.

For each corpus (PATH:TRUTH_FIELD:K):
  1. `strata embed` computes the MiniLM vectors once (timed: the shared embedding time) into a fresh
     state directory, whose embedding cache then serves step 2.
  2. `strata run --k K` on that state (keyword labels, offline). Its fit time is the process's wall
     time minus the `embed` stage it reports in topics.json (a cache read).
  3. BERTopic with default settings (UMAP + HDBSCAN + c-TF-IDF) and with nr_topics=K, both given the
     vectors of step 1 (no embedding model is ever loaded).
  4. scikit-learn KMeans(n_clusters=K, n_init=1, random_state=42) on the L2-normalised vectors.
Then NMI and ARI against TRUTH_FIELD (scikit-learn), the number of topics, and label fidelity: every
topic name is embedded with `strata embed`, each document goes to the name nearest by cosine, and
fidelity is the share of documents whose nearest name is their own topic's.

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
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

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


def fit_bertopic(docs, X, nr_topics=None):
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
    np.random.seed(SEED)
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


def evaluate(binary, path, truth_field, k, work):
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

    # 1. The shared embeddings, computed once; they stay in `state`'s cache for step 2.
    x_path = os.path.join(d, "X.npy")
    embed_s = strata(binary, "embed", local, "--out", x_path, "--state", state)
    X = unit_rows(np.load(x_path))  # MiniLM vectors are L2-normalised already; this is a no-op guard
    assert X.shape[0] == len(records)

    # 2. Strata.
    run_wall = strata(binary, "run", local, "--k", str(k), "--seed", str(SEED), "--state", state)
    with open(os.path.join(state, "topics.json"), encoding="utf-8") as f:
        doc = json.load(f)
    run_embed = float(doc["run"]["timings"]["embed"])
    re_embedded = int(doc["run"]["counts"]["embedded"])
    by_id = {r["id"]: r["topic_id"] for r in read_jsonl(os.path.splitext(local)[0] + ".topics.jsonl")}
    s_pred = np.array([by_id[i] for i in ids])
    s_names = {t["id"]: f"{t['label']} {t['description']}" for t in doc["topics"]}

    # 3. BERTopic, twice.
    bd_pred, bd_names, bd_s = fit_bertopic(docs, X)
    bk_pred, bk_names, bk_s = fit_bertopic(docs, X, nr_topics=k)

    # 4. scikit-learn KMeans.
    t0 = time.perf_counter()
    km_pred = KMeans(n_clusters=k, n_init=1, random_state=SEED).fit_predict(X)
    km_s = time.perf_counter() - t0

    # Label fidelity: all topic names in one `strata embed` call, with a scratch state of their own.
    named = [("strata", s_names), ("bt-default", bd_names), ("bt-k", bk_names)]
    names_path = os.path.join(d, "names.jsonl")
    with open(names_path, "w", encoding="utf-8") as f:
        for tag, names in named:
            for t, text in names.items():
                f.write(json.dumps({"id": f"{tag}:{t}", "text": text}) + "\n")
    names_npy = os.path.join(d, "names.npy")
    strata(binary, "embed", names_path, "--out", names_npy, "--state", os.path.join(d, "names-state"))
    name_rows = unit_rows(np.load(names_npy))
    vecs, row = {}, 0
    for tag, names in named:
        vecs[tag] = {}
        for t in names:
            vecs[tag][t] = name_rows[row]
            row += 1

    def scores(pred):
        return normalized_mutual_info_score(truth, pred), adjusted_rand_score(truth, pred)

    def n_topics(pred):
        return len(set(pred.tolist()) - {-1})

    rows = [
        dict(method=f"Strata (k-means, K={k})", pred=s_pred, fid=label_fidelity(X, s_pred, vecs["strata"]),
             seconds=run_wall - run_embed),
        dict(method="BERTopic default", pred=bd_pred, fid=label_fidelity(X, bd_pred, vecs["bt-default"]),
             seconds=bd_s),
        dict(method=f"BERTopic nr_topics={k}", pred=bk_pred, fid=label_fidelity(X, bk_pred, vecs["bt-k"]),
             seconds=bk_s),
        dict(method=f"scikit-learn KMeans K={k}", pred=km_pred, fid=None, seconds=km_s),
    ]
    for r in rows:
        r["nmi"], r["ari"] = scores(r["pred"])
        r["topics"] = n_topics(r["pred"])
        r["outliers"] = float(np.mean(r["pred"] == -1))

    # The table.
    print(f"\n== {name}: {len(records):,} documents, {len(set(truth))} classes ({truth_field}), K={k} ==")
    print(f"shared MiniLM embeddings (`strata embed`, computed once, {X.shape[1]}-d): {embed_s:.1f} s")
    print(f"{'method':<28} {'topics':>13} {'NMI':>7} {'ARI':>7} {'label fid.':>10} {'fit s (excl. embedding)':>24}")
    for r in rows:
        topics = f"{r['topics']}" + (" +outliers" if r["outliers"] > 0 else "")
        fid = "–" if r["fid"] is None else f"{r['fid']:.3f}"
        print(f"{r['method']:<28} {topics:>13} {r['nmi']:>7.4f} {r['ari']:>7.4f} {fid:>10} {r['seconds']:>24.2f}")
    stages = ", ".join(f"{st} {sec:.2f}" for st, sec in doc["run"]["timings"].items())
    print(f"Strata's time: `strata run` wall {run_wall:.2f} s minus its embed stage {run_embed:.2f} s "
          f"(embedding-cache read; documents re-embedded: {re_embedded}); stages (s): {stages}")
    # Fit times on a shared machine move with its load; the 1-minute load average says how busy it was.
    print(f"1-min load average before / after this corpus: {load0:.1f} / {os.getloadavg()[0]:.1f} "
          f"({os.cpu_count()} CPUs)")
    s, bd, bk = rows[0], rows[1], rows[2]
    for r in (bd, bk):
        if r["outliers"] > 0:
            print(f"{r['method']}: {r['outliers']:.1%} of documents in outlier topic -1; it counts as one more "
                  f"cluster for NMI/ARI and those documents are left out of label fidelity")
    if bk["outliers"] > 0:
        print(f"(BERTopic's nr_topics={k} counts topic -1 as one of the {k})")
    if re_embedded:
        print(f"warning: strata run embedded {re_embedded} documents again (the cache should have served all)")

    ratio_d, ratio_k = s["seconds"] / bd["seconds"], s["seconds"] / bk["seconds"]
    ok_nmi = s["nmi"] >= bd["nmi"] and s["nmi"] >= bk["nmi"]
    ok_time = ratio_d <= 1 / 3 and ratio_k <= 1 / 3
    yn = lambda b: "yes" if b else "NO"
    print(f"Strata time / BERTopic time: {ratio_d:.3f} (default), {ratio_k:.3f} (nr_topics={k}); target ≤ 0.333")
    print(f"targets: NMI ≥ BERTopic default {yn(s['nmi'] >= bd['nmi'])}, "
          f"NMI ≥ BERTopic nr_topics={k} {yn(s['nmi'] >= bk['nmi'])}, time ≤ 1/3 {yn(ok_time)}", flush=True)
    return dict(corpus=name, nmi_strata=s["nmi"], nmi_bt_default=bd["nmi"], nmi_bt_k=bk["nmi"],
                ratio_default=ratio_d, ratio_k=ratio_k, ok=ok_nmi and ok_time)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--strata", required=True, help="path to the strata binary")
    ap.add_argument("--corpus", action="append", required=True, help="PATH:TRUTH_FIELD:K")
    ap.add_argument("--workdir", default=None, help="keep the intermediate files here (default: a temp dir, removed)")
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
            results.append(evaluate(args.strata, path, truth_field, int(k), work))
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    if os.stat(args.strata).st_mtime != built:
        print(f"warning: {args.strata} was rebuilt during this run; its results may mix two builds")
    print(f"\ntotal: {time.perf_counter() - t_start:.0f} s")
    print("compare: " + " ".join(
        f"{r['corpus']}_nmi_strata={r['nmi_strata']:.4f} {r['corpus']}_nmi_bertopic_default={r['nmi_bt_default']:.4f} "
        f"{r['corpus']}_nmi_bertopic_k={r['nmi_bt_k']:.4f} {r['corpus']}_time_ratio_default={r['ratio_default']:.3f} "
        f"{r['corpus']}_time_ratio_k={r['ratio_k']:.3f}" for r in results)
        + f" targets_met={'yes' if all(r['ok'] for r in results) else 'no'}")


if __name__ == "__main__":
    sys.exit(main())
