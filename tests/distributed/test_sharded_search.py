"""Sharded search against one collection holding the same rows: exactly equal for FLAT shards
(every metric, filters, k beyond some shards' counts, payloads), close for HNSW; one call per
shard per batch."""
import numpy as np
import pytest

import vexfs
from conftest import clustered
from vexfs.distributed import ShardedCollection, shard_of

NO_ID = np.uint64(2**64 - 1)


def pair(client, rng, metric, n=3000, dim=24, shards=3, index="flat", **params):
    """(sharded, single) holding the same n rows, random ids and payloads."""
    ids = rng.choice(10**9, size=n, replace=False).astype(np.uint64)
    rows = clustered(rng, n, dim)
    payloads = [{"tag": ["a", "b", "c"][i % 3], "rank": int(i)} for i in range(n)]
    sharded = ShardedCollection.create(client, f"s_{metric}_{index}", dim, shards=shards,
                                       metric=metric, index=index, **params)
    single = vexfs.Collection(dim, metric=metric, index=index, **params)
    sharded.add(ids, rows, payloads)
    single.add(ids, rows, payloads)
    return sharded, single, ids, rows


@pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
def test_flat_equals_one_collection(client, metric):
    rng = np.random.default_rng(7)
    sharded, single, ids, rows = pair(client, rng, metric)
    try:
        queries = clustered(rng, 40, 24)
        for k in (1, 10, 100):
            got, want = sharded.search(queries, k=k), single.search(queries, k=k)
            assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
        # a stored row as the query: ties and zero distances order as one collection does
        one = rows[5]
        got, want = sharded.search(one, k=7), single.search(one, k=7)
        assert got[0].shape == (7,) and np.array_equal(got[0], want[0])
        assert np.array_equal(got[1], want[1])
        flt = {"must": [{"key": "tag", "match": {"value": "b"}}]}
        got = sharded.search(queries, k=10, filter=flt)
        want = single.search(queries, k=10, filter=flt)
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
        assert sharded.count() == len(single) == len(sharded)
        assert np.array_equal(sharded.ids(), single.ids())
    finally:
        sharded.close()


def test_k_beyond_shard_counts(client):
    """20 rows over 3 shards, k = 15: every shard holds fewer than k; the merge still gives the
    15 best, and k past the whole count pads with NO_ID at inf as one collection does."""
    rng = np.random.default_rng(3)
    sharded, single, ids, rows = pair(client, rng, "l2", n=20, dim=8)
    try:
        counts = np.bincount(shard_of(ids, 3), minlength=3)
        assert (counts < 15).all()
        queries = rng.random((5, 8), dtype=np.float32)
        for k in (15, 20, 33):
            got, want = sharded.search(queries, k=k), single.search(queries, k=k)
            assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
        assert (got[0][:, 20:] == NO_ID).all() and np.isinf(got[1][:, 20:]).all()
        hits = sharded.search(queries[0], k=33)
        assert hits[0].shape == (20,)
        assert np.array_equal(hits[0], single.search(queries[0], k=33)[0])
        flt = {"must": [{"key": "tag", "match": {"value": "a"}}]}  # 7 rows admitted
        got = sharded.search(queries, k=10, filter=flt)
        want = single.search(queries, k=10, filter=flt)
        assert np.array_equal(got[0], want[0]) and (got[0][:, 7:] == NO_ID).all()
    finally:
        sharded.close()


def test_payloads_travel_with_their_hits(client):
    rng = np.random.default_rng(11)
    sharded, single, ids, rows = pair(client, rng, "cosine", n=500, dim=16)
    try:
        queries = rng.random((6, 16), dtype=np.float32)
        got = sharded.search(queries, k=12, with_payload=True)
        want = single.search(queries, k=12, with_payload=True)
        assert np.array_equal(got[0], want[0]) and got[2] == want[2]
        one = sharded.search(queries[2], k=4, with_payload=True)
        assert len(one) == 3 and one[2] == want[2][2][:4]
        id0 = int(ids[0])
        assert sharded.get_payload(id0) == single.get_payload(id0)
        assert np.array_equal(sharded.get(id0), rows[0])
    finally:
        sharded.close()


def test_hnsw_recall(client):
    rng = np.random.default_rng(5)
    n, dim = 6000, 32
    rows = clustered(rng, n, dim, centres=50)
    queries = clustered(rng, 200, dim, centres=50)
    sharded = ShardedCollection.create(client, "hnsw_recall", dim, shards=2, index="hnsw",
                                       m=16, ef_construction=100)
    exact = vexfs.Collection(dim, index="flat")
    try:
        sharded.add(np.arange(n), rows)
        exact.add(np.arange(n), rows)
        got = sharded.search(queries, k=10, ef=64)[0]
        truth = exact.search(queries, k=10)[0]
        recall = np.mean([len(set(g) & set(t)) / 10 for g, t in zip(got, truth)])
        assert recall >= 0.95, recall
        assert sharded.metrics()["total"]["vectors"] == n
    finally:
        sharded.close()


class CountingActor:
    """An actor proxy that counts the calls made through it."""

    def __init__(self, actor, calls):
        self._actor, self._calls = actor, calls

    def __getattr__(self, method):
        self._calls.append(method)
        return getattr(self._actor, method)


def test_one_call_per_shard_per_batch(client):
    rng = np.random.default_rng(2)
    sharded = ShardedCollection.create(client, "calls", 8, shards=4, index="flat")
    try:
        calls = []
        sharded._actors = [CountingActor(a, calls) for a in sharded._actors]
        sharded.add(np.arange(1000), rng.random((1000, 8), dtype=np.float32))
        assert sorted(calls) == ["add"] * 4  # each shard's part in one call
        calls.clear()
        ids, _ = sharded.search(rng.random((300, 8), dtype=np.float32), k=5)
        assert calls == ["search"] * 4 and ids.shape == (300, 5)
        calls.clear()
        sharded.get(17)
        assert calls == ["get"]  # only the owning shard
        per_shard = [m["searches"] for m in sharded.metrics()["shards"]]
        assert per_shard == [300] * 4
    finally:
        sharded.close()


def test_payload_index_and_metrics(client):
    rng = np.random.default_rng(9)
    sharded, single, ids, rows = pair(client, rng, "l2", n=800, dim=8)
    try:
        sharded.create_payload_index("tag")
        single.create_payload_index("tag")
        with pytest.raises(vexfs.AlreadyExistsError, match="shard 0"):
            sharded.create_payload_index("tag")
        flt = {"must": [{"key": "tag", "match": {"value": "c"}}]}
        q = rng.random((4, 8), dtype=np.float32)
        assert np.array_equal(sharded.search(q, k=5, filter=flt)[0],
                              single.search(q, k=5, filter=flt)[0])
        sharded.drop_payload_index("tag")
        m = sharded.metrics()
        assert len(m["shards"]) == 3 and m["total"]["vectors"] == 800
        assert m["total"]["inserts"] == sum(s["inserts"] for s in m["shards"]) == 800
        assert m["total"]["memory_bytes"]["vectors"] == sum(
            s["memory_bytes"]["vectors"] for s in m["shards"])
        assert set(sharded.workers()) == {0, 1, 2}
        sharded.checkpoint()  # in memory: nothing to write, and no error
    finally:
        sharded.close()
    with pytest.raises(vexfs.InvalidArgumentError, match="closed"):
        sharded.count()
    sharded.close()  # idempotent


def test_index_knobs_reach_every_shard(client):
    """nprobe (IVF), probes (LSH) and exact=True are applied by each shard: IVF shards scanning
    every list, or exact, answer as one FLAT collection does."""
    rng = np.random.default_rng(13)
    rows = clustered(rng, 3000, 16)
    queries = clustered(rng, 30, 16)
    exact = vexfs.Collection(16, index="flat")
    exact.add(np.arange(3000), rows)
    truth = exact.search(queries, k=10)
    ivf = ShardedCollection.create(client, "ivf_knobs", 16, shards=2, index="ivf", ivf_nlist=16,
                                   nprobe=1)
    lsh = ShardedCollection.create(client, "lsh_knobs", 16, shards=2, index="lsh")
    try:
        ivf.add(np.arange(3000), rows)
        lsh.add(np.arange(3000), rows)
        for got in (ivf.search(queries, k=10, nprobe=16), ivf.search(queries, k=10, exact=True),
                    lsh.search(queries, k=10, exact=True)):
            assert np.array_equal(got[0], truth[0]) and np.array_equal(got[1], truth[1])
        few = lsh.search(queries, k=10, probes=1)[0]
        many = lsh.search(queries, k=10, probes=64)[0]
        def hits(found):
            return np.mean([len(set(f) & set(t)) for f, t in zip(found, truth[0])])
        assert hits(many) >= hits(few)
        with pytest.raises(vexfs.InvalidArgumentError):
            ivf.search(queries, nprobe=-1)
        with pytest.raises(vexfs.InvalidArgumentError):
            ivf.search(queries, exact=1)
    finally:
        ivf.close()
        lsh.close()
