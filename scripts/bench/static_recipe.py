#!/usr/bin/env python3
"""Which static-table recipe clusters best: an exploration in NumPy/PyTorch (not Strata's code) that
chose the defaults of `strata distill`. Embeds every MiniLM vocabulary entry as [CLS] t [SEP] with
transformers (mean of the three outputs), then for each variant — token vectors L2-normalised or raw,
[unusedN] placeholders kept or dropped, PCA dimension, SIF coefficient a — builds the table, embeds the
shipped 3,000-document samples (sum of rows, L2 norm) and scores scikit-learn KMeans at fixed k (NMI,
median of 3 seeds). The first variant is the recipe Strata used first and reproduces its figures.

    /tmp/strata-m2v-venv/bin/python scripts/bench/static_recipe.py   # venv from scripts/bench/static_embedder.sh
"""
import json
import os
import re

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score as nmi
from transformers import AutoModel, AutoTokenizer

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
md = os.path.join(os.environ.get("STRATA_HOME", os.path.expanduser("~/.cache/strata")), "models/all-MiniLM-L6-v2")
tok = AutoTokenizer.from_pretrained(md)
model = AutoModel.from_pretrained(md).eval()
V = tok.vocab_size
ids = torch.tensor([[tok.cls_token_id, i, tok.sep_token_id] for i in range(V)])
with torch.no_grad():
    raw = torch.cat([model(input_ids=ids[s:s + 1024], attention_mask=torch.ones_like(ids[s:s + 1024])).last_hidden_state.mean(1)
                     for s in range(0, V, 1024)]).numpy().astype(np.float64)
unused = np.array([bool(re.fullmatch(r"\[unused\d+\]", t)) for t in tok.convert_ids_to_tokens(list(range(V)))])


def load(name, field, k):
    texts, truth = [], []
    for line in open(os.path.join(root, "corpora/sample", name)):
        r = json.loads(line)
        texts.append(r["text"])
        truth.append(r[field])
    enc = [tok(t, add_special_tokens=False, truncation=True, max_length=510)["input_ids"] for t in texts]
    return enc, truth, k


corpora = {"nouns": load("wordnet-nouns-3000.jsonl", "lexname", 26), "fortunes": load("fortunes-3000.jsonl", "category", 43)}


def pca(x, d):
    mu = x.mean(0)
    w, u = np.linalg.eigh(np.cov((x - mu).T))
    return (x - mu) @ u[:, ::-1][:, :d]


def build(norm, drop, d=256, a=1e-4):
    x = raw / np.linalg.norm(raw, axis=1, keepdims=True) if norm else raw
    keep = ~unused if drop else np.ones(V, bool)
    r = np.arange(1, keep.sum() + 1)
    p = (1 / r) / np.sum(1 / r)
    table = np.zeros((V, d))
    table[keep] = pca(x[keep], d) * (a / (a + p))[:, None]
    return table


def score(table):
    out = {}
    for name, (enc, truth, k) in corpora.items():
        m = np.stack([table[i].sum(0) if len(i) else table[tok.unk_token_id] for i in enc])
        m /= np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)
        out[name] = round(float(np.median([nmi(truth, KMeans(k, n_init=1, random_state=s).fit_predict(m)) for s in range(3)])), 4)
    return out


print("| token vectors | [unusedN] | dim | a | NMI nouns | NMI fortunes |")
print("|---|---|---:|---:|---:|---:|")
for norm, drop, d, a in [(True, False, 256, 1e-4), (True, True, 256, 1e-4), (False, False, 256, 1e-4), (False, True, 256, 1e-4),
                         (False, True, 256, 1e-3), (False, True, 256, 3e-5), (False, True, 256, 1e-5), (False, True, 384, 1e-4),
                         (False, True, 384, 3e-5), (False, True, 384, 1e-5)]:
    s = score(build(norm, drop, d, a))
    print(f"| {'L2-normalised' if norm else 'raw mean'} | {'dropped' if drop else 'kept'} | {d} | {a:g} | {s['nouns']} | {s['fortunes']} |", flush=True)
