#!/usr/bin/env python3
"""The state database's embedding-cache layout (issue #26/#27): write and read cost per vector of the
schema-1 layout (WITHOUT ROWID, key (model, hash)) against schema 2's (rowid table + unique key index),
through the system SQLite that Strata links, with Strata's settings (WAL, synchronous NORMAL, rounds of
32,768 rows per transaction, random SHA-256 keys, 256 float32 = 1 kB per vector).
    python3 scripts/bench/cache_layout.py [N] [DIM]          (default 100000 256)"""
import hashlib, os, sqlite3, sys, tempfile, time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
DIM = int(sys.argv[2]) if len(sys.argv) > 2 else 256
MODEL = "static:256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef:sif-3e-05"
LAYOUTS = {
    "schema 1: WITHOUT ROWID": ("CREATE TABLE e (model TEXT NOT NULL, text_sha256 TEXT NOT NULL, dim INTEGER, vector BLOB,"
                                " PRIMARY KEY (model, text_sha256)) WITHOUT ROWID", "SELECT text_sha256, dim, vector FROM e WHERE model = ?"),
    "schema 2: rowid + unique index": ("CREATE TABLE e (model TEXT NOT NULL, text_sha256 TEXT NOT NULL, dim INTEGER, vector BLOB);"
                                       " CREATE UNIQUE INDEX ek ON e (model, text_sha256)",
                                       "SELECT text_sha256, dim, vector FROM e NOT INDEXED WHERE model = ?"),
}

def median(xs):
    return sorted(xs)[len(xs) // 2]

def one(schema, scan, keys, blob, folder):
    path = os.path.join(folder, "state.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix): os.remove(path + suffix)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(schema)
    t = time.perf_counter()
    for c in range(0, N, 32_768):
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT OR REPLACE INTO e VALUES (?, ?, ?, ?)", [(MODEL, k, DIM, blob) for k in keys[c:c + 32_768]])
        db.execute("COMMIT")
    write = (time.perf_counter() - t) / N * 1e6
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = os.path.getsize(path) / N
    t = time.perf_counter(); n = sum(1 for _ in db.execute(scan, (MODEL,))); read = (time.perf_counter() - t) / n * 1e6
    t = time.perf_counter()
    for k in keys[:20_000]: db.execute("SELECT dim, vector FROM e WHERE model = ? AND text_sha256 = ?", (MODEL, k)).fetchone()
    probe = (time.perf_counter() - t) / 20_000 * 1e6
    db.close()
    return write, read, probe, size

def main():
    keys = [hashlib.sha256(b"doc %d" % i).hexdigest() for i in range(N)]
    blob = os.urandom(DIM * 4)
    print(f"sqlite {sqlite3.sqlite_version}, {N} vectors × {DIM} float32, 3 repeats, medians")
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, (schema, scan) in LAYOUTS.items():
            runs = [one(schema, scan, keys, blob, folder) for _ in range(3)]
            results[name] = [median([r[i] for r in runs]) for i in range(4)]
            w, r, p, s = results[name]
            print(f"{name:32s} write {w:6.1f} µs/row   scan {r:5.2f} µs/row   probe {p:5.1f} µs   file {s:6.0f} B/row")
    (w1, r1, _, s1), (w2, r2, _, s2) = results.values()
    print(f"ratios: write_schema1_vs_2={w1 / w2:.2f} scan_schema1_vs_2={r1 / r2:.2f} file_schema1_vs_2={s1 / s2:.2f}")

if __name__ == "__main__":
    main()
