#!/usr/bin/python3
"""What an LSH index on Fashion-MNIST could gain from data-aware hashing (issue 17): a study in
numpy of the two stages that bound libvexfs LSH's speed, outside the library.

1. The prefilter: how many of each query's exact 10 nearest rows are among the R best rows by a
   256-bit score, every row scored (no tables): the sketch libvexfs LSH ranks by today (256
   Gaussian directions, median thresholds, the query's margins summed over the bits it differs
   in), against the same margins over signs in the data's principal subspace, and against the
   RaBitQ estimator (Gao and Long, SIGMOD 2024) over signs of a random rotation of the top 256 or
   128 principal coordinates, with two numbers per row: |x - m|^2 and |a| / <sign(a)/sqrt(D),
   a/|a|> (a the row's principal coordinates).
2. The tables: 9 tables of 12 bits, `T` buckets probed per table by least perturbation score (as
   lsh_search.c does): the share of the exact 10 nearest in the probed buckets, and the distinct
   rows they hold, for Gaussian directions in all 784 coordinates against Gaussian directions
   within the top p principal axes.

Usage: /usr/bin/python3 benchmarks/ann/lsh_design_study.py [--queries N] [--table-queries N]
(Debian's python3-numpy; about 3 minutes on two cores). Output: benchmarks/README.md, "LSH".
"""
import argparse
import gzip
import heapq

import numpy as np

BASE = "/usr/share/datasets/fashion-mnist"
TABLES, BITS = 9, 12


def load(part):
    with gzip.open(f"{BASE}/{part}-images-idx3-ubyte.gz") as f:
        raw = np.frombuffer(f.read(), np.uint8, offset=16)
    return raw.reshape(-1, 784).astype(np.float32)


def nearest(x, q, k=10):
    d = (q * q).sum(1)[:, None] + (x * x).sum(1)[None, :] - 2 * q @ x.T
    return np.argsort(d, 1)[:, :k]


def margin_score(px, pq):
    """The query's margins summed over the sign bits a row differs in (rows: px, queries: pq)."""
    bx = px > 0
    out = np.empty((len(pq), len(px)), np.float32)
    for i in range(len(pq)):
        out[i] = ((bx != (pq[i] > 0)) * np.abs(pq[i])).sum(1)
    return out


def rabitq_score(x, q, mean, axes):
    """RaBitQ's estimate of |x - q|^2 from the signs of the rows' coordinates on `axes`
    (orthonormal rows), |x - mean|^2 and the per-row factor; the part of x - q off the axes is
    taken as orthogonal to both (its cross term left out)."""
    a, aq = (x - mean) @ axes.T, (q - mean) @ axes.T
    dims = axes.shape[0]
    signs = np.where(a > 0, 1.0, -1.0).astype(np.float32) / np.sqrt(dims)
    norm = np.linalg.norm(a, axis=1)
    factor = norm / np.maximum((signs * a).sum(1) / np.maximum(norm, 1e-9), 1e-9)
    fx, fq = ((x - mean) ** 2).sum(1), ((q - mean) ** 2).sum(1)
    return fx[None, :] + fq[:, None] - 2 * factor[None, :] * (aq @ signs.T)


def recall_within(score, truth, depths):
    order = np.argsort(score, 1)
    return [np.mean([len(np.intersect1d(t, o[:r])) / 10 for t, o in zip(truth, order)]) for r in depths]


def probe_masks(margins2, probes):
    """The `probes` flip masks of least perturbation score (Lv et al. 2007), first the query's own
    bucket (mask 0)."""
    z = np.argsort(margins2)
    out, heap = [0], [(margins2[z[0]], 1)]
    while len(out) < probes and heap:
        score, mask = heapq.heappop(heap)
        out.append(sum(1 << int(z[j]) for j in range(BITS) if mask >> j & 1))
        j = mask.bit_length() - 1
        if j + 1 < BITS:
            heapq.heappush(heap, (score - margins2[z[j]] + margins2[z[j + 1]], (mask ^ (1 << j)) | (1 << (j + 1))))
            heapq.heappush(heap, (score + margins2[z[j + 1]], mask | (1 << (j + 1))))
    return out


def table_coverage(x, q, truth, directions, sample, probe_counts):
    thresholds = np.median(sample @ directions.T, 0)
    px, pq = x @ directions.T - thresholds, q @ directions.T - thresholds
    weights = 1 << np.arange(BITS)
    tables = []
    for t in range(TABLES):
        keys = (px[:, t * BITS:(t + 1) * BITS] > 0).astype(np.int64) @ weights
        order = np.argsort(keys, kind="stable")
        tables.append((order, keys[order]))
    out = []
    for probes in probe_counts:
        covered = held = 0.0
        for i in range(len(q)):
            rows = []
            for t, (order, keys) in enumerate(tables):
                p = pq[i, t * BITS:(t + 1) * BITS]
                key = int((p > 0).astype(np.int64) @ weights)
                for flip in probe_masks(p * p, probes):
                    lo, hi = np.searchsorted(keys, key ^ flip), np.searchsorted(keys, key ^ flip, "right")
                    rows.append(order[lo:hi])
            rows = np.unique(np.concatenate(rows))
            held += len(rows)
            covered += len(np.intersect1d(rows, truth[i])) / 10
        out.append((covered / len(q), held / len(q)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--table-queries", type=int, default=300)
    o = ap.parse_args()
    rng = np.random.default_rng(1)
    x, q_all = load("train"), load("t10k")
    q = q_all[:o.queries]
    truth = nearest(x, q)
    mean = x.mean(0)
    sample = x[rng.choice(len(x), 4096, replace=False)]
    _, vecs = np.linalg.eigh(np.cov((sample - mean).T))
    principal = vecs[:, ::-1].T.astype(np.float32)  # rows: axes by decreasing variance

    depths = [16, 32, 64, 128, 256, 512, 1024]
    print(f"## prefilter: share of the exact 10 nearest among the R best by each 256-bit score ({len(q)} queries)\n")
    print("| score | " + " | ".join(f"R={r}" for r in depths) + " |")
    print("|---|" + "---|" * len(depths))
    gauss = rng.standard_normal((256, 784)).astype(np.float32)
    gauss /= np.linalg.norm(gauss, axis=1, keepdims=True)
    t = np.median(sample @ gauss.T, 0)
    rows = [("margins, 256 Gaussian directions (libvexfs LSH now)", margin_score(x @ gauss.T - t, q @ gauss.T - t))]
    for dims in (256, 128):
        rotation, _ = np.linalg.qr(rng.standard_normal((dims, dims)))
        axes = (rotation @ principal[:dims]).astype(np.float32)
        if dims == 256:
            rows.append((f"margins, signs of {dims} rotated principal coordinates",
                         margin_score((x - mean) @ axes.T, (q - mean) @ axes.T)))
        rows.append((f"RaBitQ estimate, {dims} rotated principal coordinates", rabitq_score(x, q, mean, axes)))
    for name, score in rows:
        print(f"| {name} | " + " | ".join(f"{v:.3f}" for v in recall_within(score, truth, depths)) + " |")

    probe_counts = [4, 8, 16, 32]
    qt = q[:o.table_queries]
    print(f"\n## tables: {TABLES} x {BITS} bits, T buckets probed per table: share of the exact 10 nearest"
          f" in them / distinct rows they hold ({len(qt)} queries)\n")
    print("| directions | " + " | ".join(f"T={p}" for p in probe_counts) + " |")
    print("|---|" + "---|" * len(probe_counts))
    choices = [("Gaussian in all 784 coordinates (libvexfs LSH now)",
                rng.standard_normal((TABLES * BITS, 784)).astype(np.float32))]
    for p in (16, 32, 64, 128):
        choices.append((f"Gaussian within the top {p} principal axes",
                        (rng.standard_normal((TABLES * BITS, p)) @ principal[:p]).astype(np.float32)))
    for name, directions in choices:
        cells = table_coverage(x, qt, truth[:len(qt)], directions, sample, probe_counts)
        print(f"| {name} | " + " | ".join(f"{c:.3f} / {n:.0f}" for c, n in cells) + " |", flush=True)


if __name__ == "__main__":
    main()
