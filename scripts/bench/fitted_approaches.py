#!/usr/bin/env python3
"""The approaches tried for issue #26's corpus-fitted mode, on vectors `strata embed` wrote (NumPy and
scikit-learn; needs the `tokenizers` package for the per-token refinement). NMI at fixed k, median of 3
seeds, as a share of MiniLM's, for a random sample of 5% and 10% of the corpus through MiniLM:

  ridge                         static vectors × a ridge map (with intercept, λ = 1e-2 per row) fitted on the sample
  ridge+kept                    the same, the sample keeping its MiniLM vectors
  ridge, fit on sample minilm   k-means on the sample's MiniLM vectors, every other document assigned by its mapped vector
  refine lam=L                  every token row refined by block conjugate gradients so that the sample's
                                normalised sums match MiniLM, regularised toward the ridge-mapped table
  active (--active)             half the budget random, half the documents with the smallest margin between
                                their two nearest centroids

    strata embed CORPUS --embedder minilm --out M.npy; strata embed CORPUS --embedder static --out S.npy
    python3 scripts/bench/fitted_approaches.py CORPUS FIELD K S.npy M.npy [--active]

Strata ships the plain ridge map (no intercept, so it folds into the table) with the penalty chosen on
held-out rows: the measured best (BENCHMARKS.md, "Corpus-fitted static table").
"""
import numpy as np, scipy.sparse as sp
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score as nmi
from tokenizers import Tokenizer

import os
HOME = os.environ.get("STRATA_HOME", os.path.expanduser("~/.cache/strata"))
MD = HOME + "/models/all-MiniLM-L6-v2"
def read_table(path):
    raw = open(path, "rb").read(); (n,) = struct.unpack("<Q", raw[:8]); h = json.loads(raw[8:8+n]); i = h["embeddings"]
    s, e = i["data_offsets"]; return np.frombuffer(raw[8+n+s:8+n+e], dtype="<f4").reshape(i["shape"]).astype(np.float64)
def unit(x): return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
def load(path, field):
    t, y = [], []
    for l in open(path):
        r = json.loads(l); t.append(r["text"]); y.append(r[field])
    return t, y
def score(x, truth, k, seeds=3, fit_idx=None):
    out = []
    for s in range(seeds):
        km = KMeans(n_clusters=k, n_init=1, random_state=s)
        if fit_idx is None: lab = km.fit_predict(x)
        else:
            km.fit(x[fit_idx]); c = unit(km.cluster_centers_); lab = np.argmax(x @ c.T, axis=1)
        out.append(nmi(truth, lab))
    return statistics.median(out)

def tokens_matrix(texts, V):
    tok = Tokenizer.from_file(MD + "/tokenizer.json"); tok.no_truncation(); tok.no_padding()
    rows, cols = [], []
    for i, enc in enumerate(tok.encode_batch(texts, add_special_tokens=False)):
        ids = enc.ids[:510] or [100]
        rows += [i]*len(ids); cols += ids
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(texts), V))

def block_cg(apply, b, iters=60):
    x = np.zeros_like(b); r = b.copy(); p = r.copy(); rs = (r*r).sum(0)
    for it in range(iters):
        ap = apply(p); a = rs / np.maximum((p*ap).sum(0), 1e-30)
        x += p*a; r -= ap*a; rn = (r*r).sum(0)
        if np.sqrt(rn.max()) < 1e-6: break
        p = r + p*(rn/np.maximum(rs,1e-30)); rs = rn
    return x

def refine(A, base, Y, idx, lam):
    """Token rows T' = base + D; minimise ||diag(s) A_s T' - Y||^2 + lam ||D||^2, s = 1/||A_s base||."""
    As = A[idx]; s = 1/np.maximum(np.linalg.norm(As @ base, axis=1), 1e-12)
    M = sp.diags(s) @ As
    R = Y[idx] - M @ base
    used = np.unique(As.indices); Mu = M[:, used].tocsc(); MuT = Mu.T.tocsr()
    D = block_cg(lambda X: MuT @ (Mu @ X) + lam*X, MuT @ R)
    T = base.copy(); T[used] += D; return T

def main():
    path, field, k, static_npy, minilm_npy = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
    texts, truth = load(path, field)
    S = np.load(static_npy).astype(np.float64); Y = np.load(minilm_npy).astype(np.float64)
    T0 = read_table(HOME + "/models/minilm-static/static-256.safetensors")
    A = tokens_matrix(texts, T0.shape[0]); n = len(texts)
    chk = unit(A[:50] @ T0); print("static check max diff", np.abs(chk - S[:50]).max())
    full_m = score(Y, truth, k); full_s = score(S, truth, k)
    print(f"minilm {full_m:.4f}  static {full_s:.4f} ({full_s/full_m:.1%})", flush=True)
    if "--active" in sys.argv:
        return active(S, Y, truth, k, full_m)
    for share in [0.05, 0.10]:
        rng = np.random.default_rng(0); idx = np.sort(rng.choice(n, size=int(share*n), replace=False))
        # ridge map 256->384 with intercept
        xs = np.hstack([S[idx], np.ones((len(idx),1))]); W = np.linalg.solve(xs.T@xs + 1e-2*len(idx)*np.eye(257), xs.T@Y[idx])
        mapped = unit(np.hstack([S, np.ones((n,1))]) @ W)
        kept = mapped.copy(); kept[idx] = Y[idx]
        r = {"ridge": score(mapped, truth, k), "ridge+kept": score(kept, truth, k),
             "ridge, fit on sample minilm": score(kept, truth, k, fit_idx=idx)}
        # refine token table in minilm space: base = T0 @ W[:256] (no intercept)
        base = T0 @ W[:256]
        for lam in [0.3, 1, 3]:
            t0=time.time(); T = refine(A, base, Y, idx, lam); F = unit(A @ T); dt=time.time()-t0
            Fk = F.copy(); Fk[idx] = Y[idx]
            r[f"refine lam={lam} ({dt:.0f}s)"] = score(F, truth, k)
            r[f"refine lam={lam} +kept, fit on sample"] = score(Fk, truth, k, fit_idx=idx)
        for name, v in r.items(): print(f"share {share:.0%} {name}: {v:.4f} ({v/full_m:.1%})", flush=True)
def active(S, Y, truth, k, full):
    """Half the MiniLM budget on a random sample, half on the least certain documents."""
    n = len(S)
    def ridge(idx):
        xs = np.hstack([S[idx], np.ones((len(idx), 1))])
        W = np.linalg.solve(xs.T @ xs + 1e-2 * len(idx) * np.eye(xs.shape[1]), xs.T @ Y[idx])
        return unit(np.hstack([S, np.ones((n, 1))]) @ W)
    for budget in [0.1, 0.2]:
        for mode in ["random", "active"]:
            res = []
            for s in range(3):
                rng = np.random.default_rng(s)
                first = int(budget * n) if mode == "random" else int(budget * n / 2)
                idx = np.sort(rng.choice(n, first, replace=False)); V = ridge(idx); V[idx] = Y[idx]
                C = unit(KMeans(k, n_init=1, random_state=s).fit(Y[idx]).cluster_centers_)
                if mode == "active":
                    top = np.sort(V @ C.T, axis=1); margin = top[:, -1] - top[:, -2]; margin[idx] = 9
                    extra = np.argsort(margin)[:int(budget * n) - first]; V[extra] = Y[extra]
                res.append(nmi(truth, np.argmax(V @ C.T, axis=1)))
            m = statistics.median(res); print(f"budget {budget:.0%} {mode}: {m:.4f} ({m/full:.1%})", flush=True)

main()
