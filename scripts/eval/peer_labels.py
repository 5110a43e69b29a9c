"""Name a Strata fit's topics with two peer LLM topic namers, through the same local LLM server.

    python scripts/eval/peer_labels.py DIR --base-url URL [--model gemma-3-270m] [--method toponymy|bertopic|both]

DIR holds docs.jsonl and .strata/ (a finished `strata run`). The peers get the same documents, the same
clusters (Strata's topic_id per document) and the same MiniLM vectors (`strata embed`); each picks its own
keywords and representative documents and asks the LLM for the names. Writes DIR/labels-METHOD.json and,
beside it, DIR/labels-METHOD.calls.jsonl (every request the peer sent and the model's reply).
Run by scripts/eval/peer_labels.sh, which sets up the virtualenv and the server.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from importlib.metadata import version
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import httpx
import numpy as np

SERVER_NOTE = ("the server's Gemma chat template (llama-cpp-python chat_format 'gemma') drops system "
               "messages, so only the user message reaches the model")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def load_fit(fit_dir, strata_bin):
    """Texts, Strata's topic_id per text, MiniLM vectors (n x 384) and the topic ids of topics.json."""
    docs_path = fit_dir / "docs.jsonl"
    docs = [json.loads(line) for line in docs_path.open() if line.strip()]
    sidecar = fit_dir / "docs.topics.jsonl"  # where `strata run` writes the topic columns of a .jsonl source
    rows = [json.loads(line) for line in sidecar.open() if line.strip()] if sidecar.exists() else docs
    topic_of = {row["id"]: row.get("topic_id") for row in rows}
    topics = json.loads((fit_dir / ".strata" / "topics.json").read_text())["topics"]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "vectors.npy"
        subprocess.run([strata_bin, "embed", str(docs_path), "--out", str(out), "--format", "npy", "--quiet"],
                       check=True)
        vectors = np.load(out)
    keep = [i for i, d in enumerate(docs) if topic_of.get(d["id"]) is not None]
    texts = [docs[i]["text"] for i in keep]
    labels = np.array([topic_of[docs[i]["id"]] for i in keep], dtype=np.int64)
    return texts, labels, vectors[keep], sorted(t["id"] for t in topics)


class CallMeter:
    """httpx event hooks: counts the LLM requests, times them, logs prompt and reply."""

    def __init__(self, log_path, method):
        self.calls, self.busy, self.method, self._t0 = 0, 0.0, method, 0.0
        self.log = open(log_path, "w")

    def client(self):
        return httpx.Client(timeout=600, event_hooks={"request": [self._request], "response": [self._response]})

    def reset(self, why):
        self.calls, self.busy = 0, 0.0
        self.log.write(json.dumps({"reset": why}) + "\n")

    def _request(self, request):
        self.calls += 1
        self._t0 = time.monotonic()

    def _response(self, response):
        response.read()
        seconds = time.monotonic() - self._t0
        self.busy += seconds
        try:
            sent = json.loads(response.request.content)
            body = response.json()
            reply = body["choices"][0]["message"]["content"] if response.is_success else body
        except Exception:  # noqa: BLE001 - keep whatever came back
            sent, reply = response.request.content.decode(errors="replace"), response.text
        self.log.write(json.dumps({"call": self.calls, "status": response.status_code, "seconds": round(seconds, 2),
                                   "messages": sent.get("messages") if isinstance(sent, dict) else sent,
                                   "reply": reply}) + "\n")
        self.log.flush()
        log(f"  {self.method}: call {self.calls} ({seconds:.1f} s)")


def toponymy_names(texts, labels, vectors, ids, embedder, meter, args):
    """Toponymy with Strata's clusters as its single cluster layer; its own prompts and disambiguation."""
    from toponymy import Toponymy, ClusterLayerText
    from toponymy.clustering import Clusterer, build_cluster_tree, centroids_from_labels
    from toponymy.llm_wrappers import OpenAINamer

    class StrataClusters(Clusterer):
        """A Clusterer that does no clustering: one layer, whose clusters are the given labels."""

        def __init__(self, cluster_labels):
            super().__init__()
            self.cluster_labels = cluster_labels

        def fit(self, clusterable_vectors, embedding_vectors, layer_class=ClusterLayerText, **layer_kwargs):
            layer_kwargs.pop("verbose", None)
            layer_kwargs.pop("show_progress_bar", None)
            centroids = centroids_from_labels(self.cluster_labels, embedding_vectors)
            self.cluster_layers_ = [layer_class(self.cluster_labels, centroids, layer_id=0, **layer_kwargs)]
            self.cluster_tree_ = build_cluster_tree([self.cluster_labels])
            return self

        def fit_predict(self, clusterable_vectors, embedding_vectors, layer_class=ClusterLayerText, **layer_kwargs):
            self.fit(clusterable_vectors, embedding_vectors, layer_class, **layer_kwargs)
            return self.cluster_layers_, self.cluster_tree_

    class LocalNamer(OpenAINamer):
        # Toponymy's "combined" prompt (one user message) instead of system + user: see SERVER_NOTE.
        @property
        def supports_system_prompts(self):
            return False

    namer = LocalNamer(api_key="local", model=args.model, base_url=args.base_url, http_client=meter.client())
    status = namer.connectivity_status()
    if not status["success"]:
        raise RuntimeError(f"toponymy OpenAINamer cannot reach the server: {status['error_type']}: "
                           f"{status['error_message']}")
    meter.reset("the connectivity check above is not counted")
    index = np.searchsorted(ids, labels)  # Toponymy wants cluster labels 0..k-1
    model = Toponymy(llm_wrapper=namer, text_embedding_model=embedder, clusterer=StrataClusters(index),
                     object_description=args.object_description, corpus_description=args.corpus_description,
                     verbose=False)
    model.fit(texts, vectors, vectors)
    names = list(model.topic_names_[0])
    notes = [f"toponymy's combined prompt, not system + user: {SERVER_NOTE}",
             "one cluster layer, so Toponymy names it at its finest detail level (0.0: "
             "'domain expert level (8 to 15 word)' names)"]
    return {i: (name, "") for i, name in zip(ids, names)}, notes


def bertopic_names(texts, labels, vectors, ids, embedder, meter, args):
    """BERTopic manual topic modelling (Strata's clusters as y) with its OpenAI representation model."""
    import openai
    from bertopic import BERTopic
    from bertopic.cluster import BaseCluster
    from bertopic.dimensionality import BaseDimensionalityReduction
    from bertopic.representation import OpenAI
    from sklearn.feature_extraction.text import CountVectorizer

    client = openai.OpenAI(api_key="local", base_url=args.base_url, http_client=meter.client())
    representation = OpenAI(client, model=args.model)  # default chat prompt and system prompt, nr_docs=4
    model = BERTopic(embedding_model=embedder, umap_model=BaseDimensionalityReduction(),
                     hdbscan_model=BaseCluster(), vectorizer_model=CountVectorizer(stop_words="english"),
                     representation_model=representation)
    topics, _ = model.fit_transform(texts, vectors, y=labels)
    ours_to_theirs = dict(zip(labels.tolist(), topics))  # BERTopic renumbers topics by size
    names = {i: (model.get_topic(ours_to_theirs[i])[0][0], "") for i in ids if i in ours_to_theirs}
    notes = [f"BERTopic sends its default system prompt and its default chat prompt; {SERVER_NOTE}",
             "keywords from CountVectorizer(stop_words='english') (BERTopic's default vectorizer keeps stop words)"]
    return names, notes


def run_peer(method, name_fn, fit, embedder, args):
    texts, labels, vectors, ids = fit
    out = args.dir / f"labels-{method}.json"
    meter = CallMeter(args.dir / f"labels-{method}.calls.jsonl", method)
    package = {"toponymy": "toponymy", "bertopic": "bertopic"}[method]
    result = {"method": f"{method} {version(package)}", "model": args.model, "base_url": args.base_url}
    names, notes, error = {}, [], None
    start = time.monotonic()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            names, notes = name_fn(texts, labels, vectors, ids, embedder, meter, args)
        except Exception as e:  # noqa: BLE001 - a peer that cannot run is reported, the other still runs
            error = f"{type(e).__name__}: {e}"
    seconds = time.monotonic() - start
    warned = {}
    for w in caught:
        if method in w.filename:  # the peer's own warnings (failed LLM calls, skipped renames)
            text = f"{w.category.__name__}: {w.message}"
            warned[text] = warned.get(text, 0) + 1
    notes += [f"warning ({n}x): {t}" for t, n in warned.items()]
    topics = []
    for i in ids:
        label, description = names.get(i, ("", ""))
        if not label.strip():
            notes.append(f"topic {i}: {method} produced no label" + (" (it did not run)" if error else ""))
        topics.append({"id": i, "label": label, "description": description})
    result.update(seconds=round(seconds, 1), llm_seconds=round(meter.busy, 1), llm_calls=meter.calls,
                  topics=topics, notes=notes)
    if error:
        result["error"] = error
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    shown = "; ".join(f"{t['id']}: {t['label']}" for t in topics)
    print(f"{args.dir.name} {result['method']}: {result['seconds']} s, {meter.calls} LLM calls"
          + (f", FAILED: {error}" if error else "") + f" | {shown}", flush=True)
    return error is None


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir", type=Path, help="a Strata fit: the folder holding docs.jsonl and .strata/")
    p.add_argument("--base-url", required=True, help="OpenAI-compatible base URL, e.g. http://127.0.0.1:8089/v1")
    p.add_argument("--model", default="gemma-3-270m")
    p.add_argument("--method", choices=["toponymy", "bertopic", "both"], default="both")
    p.add_argument("--strata", default=os.environ.get("STRATA_BIN", "strata"), help="the strata binary")
    p.add_argument("--minilm", default=os.path.expanduser(
        os.path.join(os.environ.get("STRATA_HOME", "~/.cache/strata"), "models", "all-MiniLM-L6-v2")))
    p.add_argument("--object-description", default="documents", help="Toponymy's object_description")
    p.add_argument("--corpus-description", default="collection of documents", help="Toponymy's corpus_description")
    args = p.parse_args()

    log(f"{args.dir}: loading documents, topics and vectors")
    fit = load_fit(args.dir, args.strata)
    log(f"{args.dir}: {len(fit[0])} documents in {len(fit[3])} topics")
    from sentence_transformers import SentenceTransformer
    embedder = SentenceTransformer(args.minilm, device="cpu")
    peers = {"toponymy": toponymy_names, "bertopic": bertopic_names}
    methods = list(peers) if args.method == "both" else [args.method]
    ok = [run_peer(m, peers[m], fit, embedder, args) for m in methods]
    sys.exit(0 if all(ok) else 1)


if __name__ == "__main__":
    main()
