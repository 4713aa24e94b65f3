#!/usr/bin/python3
"""Exact k-NN on Fashion-MNIST: libvexfs FLAT against faiss IndexFlatL2, one thread each, same run.

60000x784 train vectors, the 10000 test images as queries, k=10 (the ann-benchmarks set, from
Debian's dataset-fashion-mnist). Libraries alternate round by round and the medians are reported,
because the machine is shared and noisy.

usage: /usr/bin/python3 benchmarks/flat_fashion_mnist.py [--rounds N] [--single N] [--batch N]
env:   VEXFS_LIBRARY=path/to/libvexfs.so.1 (default: build/lib/libvexfs.so.1)
"""
import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402  (after the thread settings, which BLAS reads at load)
import faiss  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vexfs_ctypes import Flat  # noqa: E402
from fashion_mnist import load  # noqa: E402

K = 10


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--single", type=int, default=40, help="single queries per round")
    ap.add_argument("--batch", type=int, default=2000, help="queries in the batch")
    args = ap.parse_args()

    train, test = load()
    faiss.omp_set_num_threads(1)
    index = faiss.IndexFlatL2(train.shape[1])
    index.add(train)
    ours = Flat(train, threads=1)
    print(f"Fashion-MNIST {train.shape[0]}x{train.shape[1]}, k={K}, one thread; "
          f"libvexfs {ours.version} ({ours.isa}), faiss {faiss.__version__}")

    # Agreement on the first 200 queries: exact search on both sides.
    _, ref = index.search(test[:200], K)
    got, _ = ours.search(test[:200], K)
    agree = np.mean([len(set(a) & set(b)) / K for a, b in zip(ref, got)])
    print(f"top-{K} agreement with faiss on 200 queries: {agree:.4f}")

    rows = []
    singles = {"vexfs": [], "faiss": []}
    for r in range(args.rounds):
        qs = test[(r * args.single) % 9000:][: args.single]
        t, _ = timed(lambda: [ours.search(q[None, :], K) for q in qs])
        singles["vexfs"].append(len(qs) / t)
        t, _ = timed(lambda: [index.search(q[None, :], K) for q in qs])
        singles["faiss"].append(len(qs) / t)
    rows.append(("single query", singles))

    batches = {"vexfs": [], "faiss": []}
    qs = test[: args.batch]
    for r in range(max(3, args.rounds // 2)):
        t, _ = timed(lambda: ours.search(qs, K))
        batches["vexfs"].append(len(qs) / t)
        t, _ = timed(lambda: index.search(qs, K))
        batches["faiss"].append(len(qs) / t)
    rows.append((f"batch of {args.batch}", batches))

    gflop = 2.0 * train.shape[0] * train.shape[1] / 1e9
    print(f"\n| workload | libvexfs qps | faiss qps | ratio |")
    print(f"|---|---|---|---|")
    for name, res in rows:
        v, f = statistics.median(res["vexfs"]), statistics.median(res["faiss"])
        print(f"| {name} | {v:.1f} ({v * gflop:.0f} GFLOP/s) | {f:.1f} ({f * gflop:.0f} GFLOP/s) "
              f"| {v / f:.2f}x |")


if __name__ == "__main__":
    main()
