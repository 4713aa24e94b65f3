#!/usr/bin/python3
"""What the Python binding adds to a search: single-query HNSW searches at d=128 (20000 clustered
vectors, M=16, efConstruction=200, ef=64, k=10, one thread) through `vexfs`, against the same
calls' time inside C (the library's own latency metrics, recorded by those very calls), and against
hnswlib's Python binding (Debian python3-hnswlib) on the same data. Then the same queries from 2
Python threads against 1 (the GIL is released during C work). Rounds interleave; medians.

usage: /usr/bin/python3 benchmarks/python_overhead.py [rounds]
env:   VEXFS_LIBRARY (default build/lib/libvexfs.so.1)
"""
import os
import statistics
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("VEXFS_LIBRARY", os.path.join(ROOT, "build/lib/libvexfs.so.1"))
sys.path.insert(0, os.path.join(ROOT, "bindings/python"))

import hnswlib  # noqa: E402
import numpy as np  # noqa: E402
import vexfs  # noqa: E402


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    rng = np.random.default_rng(1)
    centres = rng.random((100, 128), dtype=np.float32)

    def blobs(m):
        picked = centres[rng.integers(0, 100, m)]
        return (picked + 0.1 * (rng.random((m, 128), dtype=np.float32) - 0.5)).astype(np.float32)

    data, queries = blobs(20000), blobs(2000)
    ours = vexfs.Collection(dim=128, index="hnsw", m=16, ef_construction=200, ef_search=64)
    ours.add(np.arange(len(data)), data)
    peer = hnswlib.Index("l2", 128)
    peer.init_index(len(data), 16, 200)
    peer.add_items(data)
    peer.set_ef(64)
    peer.set_num_threads(1)

    def searched_by(threads):
        """Seconds for `threads` Python threads to search every query once between them."""
        parts = [queries[t::threads] for t in range(threads)]
        workers = [threading.Thread(target=lambda p=p: [ours.search(q, k=10, threads=1) for q in p])
                   for p in parts]
        t0 = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        return time.perf_counter() - t0

    python_us, c_us, hnswlib_us, speedups = [], [], [], []
    for _ in range(rounds):
        ours.search(queries[0], k=10, threads=1)
        vexfs._native.lib.vexfs_metrics_reset(ours._c)
        t0 = time.perf_counter()
        for q in queries:
            ours.search(q, k=10, threads=1)
        python_us.append((time.perf_counter() - t0) / len(queries) * 1e6)
        c_us.append(ours.metrics()["search_latency_us"]["mean"])
        t0 = time.perf_counter()
        for q in queries:
            peer.knn_query(q, k=10)
        hnswlib_us.append((time.perf_counter() - t0) / len(queries) * 1e6)
        speedups.append(searched_by(1) / searched_by(2))

    p, c, h = (statistics.median(x) for x in (python_us, c_us, hnswlib_us))
    print(f"single-query HNSW search, 20000x128, k=10, ef=64, one thread, median of {rounds} rounds "
          f"of {len(queries)} queries; vexfs {vexfs.__version__} ({vexfs.simd_isa()})\n")
    print("| measured | microseconds per call |")
    print("|---|---|")
    print(f"| vexfs from Python | {p:.1f} |")
    print(f"| the same calls inside C (library metrics) | {c:.1f} |")
    print(f"| hnswlib from Python (python3-hnswlib) | {h:.1f} |")
    print(f"\nPython / C: {p / c:.3f}x (target <= 1.15x); vexfs / hnswlib per call: {p / h:.3f}x "
          f"(target <= 1.00x)")
    print(f"2 Python threads vs 1 on the same {len(queries)} queries: "
          f"{statistics.median(speedups):.2f}x faster ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
