#!/usr/bin/python3
"""Sharded collections on Dask against one collection, on this machine: Fashion-MNIST 60 000 x 784,
HNSW M=16, efConstruction=200, k=10.

- Build: one vexfs.Collection fed the whole set on 1 thread and on 2 threads, against a
  ShardedCollection of 2 shards on a LocalCluster of 2 worker processes (1 thread each), fed the
  same batch by one add() call: the time from the call to its return, which includes splitting the
  batch and sending each half to its worker.
- Batched search: the first 2 000 test images as one batch, at the same ef on both, through the
  single collection (all cores) and through the sharded one (one call per shard, merged);
  queries per second and recall@10 against exact neighbours (a FLAT collection's).
- Per-call overhead: one query per call at ef 40, median latency through Dask against the local
  call's. Then the same on a small FLAT collection (2 000 rows, where the search itself is short)
  through a Client with direct_to_workers=True (what this benchmark uses throughout: the client
  calls the workers itself) and through a default Client (the scheduler relays every call).
Rounds interleave the three builds; medians are reported.

usage: /usr/bin/python3 benchmarks/distributed.py [rounds]   (default 3)
env:   VEXFS_LIBRARY (default build/lib/libvexfs.so.1), FASHION_MNIST_DIR
"""
import importlib.util
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
os.environ.setdefault("VEXFS_LIBRARY", os.path.join(ROOT, "build/lib/libvexfs.so.1"))
# this file's folder leaves the path, or this file would be imported as Dask's `distributed`;
# fashion_mnist.py comes from there by name
sys.path = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]
sys.path.insert(0, os.path.join(ROOT, "bindings/python"))
os.environ["PYTHONPATH"] = os.pathsep.join(  # the workers import vexfs from here too
    [os.path.join(ROOT, "bindings/python")] + os.environ.get("PYTHONPATH", "").split(os.pathsep))

import numpy as np  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

import vexfs  # noqa: E402
from vexfs.distributed import ShardedCollection  # noqa: E402

def _fashion_mnist():
    spec = importlib.util.spec_from_file_location("fashion_mnist",
                                                  os.path.join(HERE, "fashion_mnist.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fashion_mnist = _fashion_mnist()
M, EFC, K, QUERIES = 16, 200, 10, 2000
EFS = (16, 40, 100)
LATENCY_CALLS = 400


def seconds(call):
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def recall(found, truth):
    return float(np.mean([len(set(f[f != vexfs.NO_ID].tolist()) & set(t.tolist())) / K
                          for f, t in zip(found, truth)]))


def build_single(train, threads):
    c = vexfs.Collection(train.shape[1], index="hnsw", m=M, ef_construction=EFC, threads=threads)
    return c, seconds(lambda: c.add(np.arange(len(train)), train))


def build_sharded(client, train, name):
    sc = ShardedCollection.create(client, name, train.shape[1], shards=2, index="hnsw", m=M,
                                  ef_construction=EFC)
    return sc, seconds(lambda: sc.add(np.arange(len(train)), train))


def search_qps(collection, queries, ef, repeats=3):
    """(queries per second, median of repeats; the last answer's ids)."""
    times, ids = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        ids = collection.search(queries, k=K, ef=ef)[0]
        times.append(time.perf_counter() - start)
    return len(queries) / statistics.median(times), ids


def latency_us(collection, queries, ef):
    out = []
    for q in queries:
        start = time.perf_counter()
        collection.search(q, k=K, ef=ef)
        out.append(time.perf_counter() - start)
    return statistics.median(out) * 1e6


def call_overhead(cluster, rows, queries, direct):
    """(local median us, sharded median us) of one-query FLAT searches over rows, the sharded
    collection's calls made through a Client with direct_to_workers=direct."""
    # made the default client: the actors' proxies call through whichever client is the default
    with Client(cluster, direct_to_workers=direct) as client:
        sc = ShardedCollection.create(client, f"overhead{int(direct)}", rows.shape[1], shards=2,
                                      index="flat")
        local = vexfs.Collection(rows.shape[1], index="flat")
        sc.add(np.arange(len(rows)), rows)
        local.add(np.arange(len(rows)), rows)
        result = latency_us(local, queries, None), latency_us(sc, queries, None)
        sc.close()
        local.close()
    return result


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    train, test = fashion_mnist.load()
    queries = np.ascontiguousarray(test[:QUERIES])
    exact = vexfs.Collection(train.shape[1], index="flat")
    exact.add(np.arange(len(train)), train)
    truth = exact.search(queries, k=K)[0]
    exact.close()

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address="127.0.0.1:0", worker_dashboard_address="127.0.0.1:0")
    client = Client(cluster, direct_to_workers=True)
    print(f"vexfs {vexfs.__version__} ({vexfs.simd_isa()}), {os.cpu_count()} cores; Fashion-MNIST "
          f"{train.shape[0]} x {train.shape[1]}, HNSW M={M} efConstruction={EFC}, k={K}; "
          f"Dask: 2 worker processes x 1 thread, 2 shards; {rounds} rounds")
    builds = {"1 thread": [], "2 threads": [], "sharded": []}
    qps = {ef: {"single": [], "sharded": []} for ef in EFS}
    recalls = {ef: {} for ef in EFS}
    latency = {"single": [], "sharded": []}
    for r in range(rounds):
        one, t1 = build_single(train, 1)
        one.close()
        two, t2 = build_single(train, 2)
        sc, ts = build_sharded(client, train, f"fmnist{r}")
        for name, t in (("1 thread", t1), ("2 threads", t2), ("sharded", ts)):
            builds[name].append(t)
        print(f"round {r + 1}: build 1 thread {t1:.2f} s, 2 threads {t2:.2f} s, "
              f"sharded {ts:.2f} s ({t1 / ts:.2f}x the 1-thread build)", flush=True)
        for ef in EFS:
            for name, c in (("single", two), ("sharded", sc)):
                rate, ids = search_qps(c, queries, ef)
                qps[ef][name].append(rate)
                recalls[ef][name] = recall(ids, truth)
        picked = queries[:LATENCY_CALLS]
        latency["single"].append(latency_us(two, picked, 40))
        latency["sharded"].append(latency_us(sc, picked, 40))
        sc.close()
        two.close()
    client.close()
    small = {True: [], False: []}
    for _ in range(rounds):
        for direct in (True, False):
            small[direct].append(call_overhead(cluster, train[:2000], queries[:LATENCY_CALLS],
                                               direct))
    cluster.close()

    med = {k: statistics.median(v) for k, v in builds.items()}
    print("\nbuild (median s)   1 thread   2 threads   sharded (2 x 1)   sharded vs 1 thread   "
          "vs 2 threads")
    print(f"                   {med['1 thread']:8.2f}   {med['2 threads']:9.2f}   "
          f"{med['sharded']:15.2f}   {med['1 thread'] / med['sharded']:18.2f}x   "
          f"{med['2 threads'] / med['sharded']:11.2f}x")
    print(f"\nbatched search, {QUERIES} queries   QPS single (2 threads)   QPS sharded   ratio   "
          "recall single   recall sharded   difference")
    for ef in EFS:
        s, d = statistics.median(qps[ef]["single"]), statistics.median(qps[ef]["sharded"])
        rs, rd = recalls[ef]["single"], recalls[ef]["sharded"]
        print(f"ef {ef:3d}                       {s:20.0f}   {d:11.0f}   {d / s:5.2f}   "
              f"{rs:13.4f}   {rd:14.4f}   {rd - rs:+10.4f}")
    ls, ld = statistics.median(latency["single"]), statistics.median(latency["sharded"])
    print("\none query per call (median us)            local   sharded   overhead")
    print(f"HNSW ef 40, Fashion-MNIST, direct    {ls:12.0f}   {ld:7.0f}   {ld - ls:8.0f}")
    for direct, name in ((True, "direct_to_workers"), (False, "relayed by the scheduler")):
        lo = statistics.median(r[0] for r in small[direct])
        sh = statistics.median(r[1] for r in small[direct])
        print(f"FLAT 2000 rows, {name:24s} {lo:5.0f}   {sh:7.0f}   {sh - lo:8.0f}")


if __name__ == "__main__":
    main()
