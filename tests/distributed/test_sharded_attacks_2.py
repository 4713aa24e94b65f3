"""Second pass of attacks on vexfs.distributed: workers killed inside a call (before or after the
shard applied it, once or again right after the reopen, both workers at once), sync modes, errors
that must name every failing shard, metrics totals, searches against one collection (ties,
payloads, empty filters, huge k), and index parameters through create and reopen.

Kills inside a call are made deterministic with a worker plugin that patches the worker's Shard
class (on every worker, restarted ones too): a patched method takes a token file, if one is left,
and SIGKILLs its own process before or after running the real method."""
import json
import os
import signal
import threading
import time
import uuid

import numpy as np
import pytest
from distributed.diagnostics.plugin import WorkerPlugin

import vexfs
from conftest import worker_pids
from vexfs.distributed import ShardError, ShardedCollection, ShardLostError, shard_of

DIM = 4


def ids_on(shard, shards, n, start=0):
    """n ids owned by shard."""
    out, i = [], start
    while len(out) < n:
        if int(shard_of(np.array([i], np.uint64), shards)[0]) == shard:
            out.append(i)
        i += 1
    return np.array(out)


class Dying(WorkerPlugin):
    """Patches Shard.<method> on every worker (and on the ones started later) to SIGKILL the
    worker process before or after the real call, while token files are left in tokens/."""

    def __init__(self, method, when, tokens):
        self.method, self.when, self.tokens = method, when, tokens
        self.name = f"dying-{uuid.uuid4().hex}"

    def setup(self, worker):
        from vexfs.distributed.shard import Shard
        method, when, tokens = self.method, self.when, self.tokens
        original = getattr(Shard, method)

        def take():
            for name in sorted(os.listdir(tokens)):
                try:
                    os.remove(os.path.join(tokens, name))
                    return True
                except FileNotFoundError:
                    continue
            return False

        def dying(self, *args, **kwargs):
            if when == "before" and take():
                os.kill(os.getpid(), signal.SIGKILL)
            result = original(self, *args, **kwargs)
            if when == "after" and take():
                os.kill(os.getpid(), signal.SIGKILL)
            return result

        setattr(Shard, method, dying)


def arm(client, tmp_path, method, when, kills=1):
    """Kills the worker on the next `kills` calls of Shard.<method> (any worker)."""
    tokens = tmp_path / f"tokens-{uuid.uuid4().hex}"
    tokens.mkdir()
    for i in range(kills):
        (tokens / f"{i:03d}").touch()
    client.register_worker_plugin(Dying(method, when, str(tokens)))
    return tokens


def wait_workers(client, n=2, timeout=30):
    deadline = time.monotonic() + timeout
    while len(client.scheduler_info()["workers"]) < n:
        assert time.monotonic() < deadline
        time.sleep(0.1)


def durable(client, tmp_path, name="k", shards=2, n=200, sync="full", payloads=True):
    rows = np.random.default_rng(1).random((n, DIM), dtype=np.float32)
    c = ShardedCollection.create(client, name, DIM, shards=shards, index="flat",
                                 path=tmp_path / "d", sync=sync)
    c.add(np.arange(n), rows, [{"i": i} for i in range(n)] if payloads else None)
    return c, rows


def close_quietly(c):
    try:
        c.close()
    except Exception:  # noqa: B902: the test's own failure is what matters
        pass


# ---- a worker killed inside a call ----

@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("op", ["add", "remove", "upsert", "set_payload_merge",
                                "create_payload_index", "checkpoint", "close"])
def test_worker_killed_inside_a_call_durable(own_client, tmp_path, op, when):
    """A durable shard's worker dies inside a remove, upsert, set_payload(merge=True),
    create_payload_index, checkpoint or close (before or after the shard applied it): the call
    returns, its effect is there exactly once, and it is still there after a reopen."""
    client = own_client
    c, rows = durable(client, tmp_path)
    on0 = ids_on(0, 2, 5)
    method = {"add": "add", "remove": "remove", "upsert": "add", "set_payload_merge": "set_payload",
              "create_payload_index": "create_payload_index", "checkpoint": "checkpoint",
              "close": "close"}[op]
    tokens = arm(client, tmp_path, method, when)
    try:
        if op == "add":
            c.add(np.arange(1000, 1010), np.ones((10, DIM), np.float32))
        elif op == "remove":
            c.remove(np.arange(50))
        elif op == "upsert":
            c.upsert(on0, rows[on0] + 1, [{"new": 1}] * len(on0))
        elif op == "set_payload_merge":
            c.set_payload(int(on0[0]), {"extra": 2}, merge=True)
        elif op == "create_payload_index":
            c.create_payload_index("i", "numeric")
        elif op == "checkpoint":
            c.checkpoint()
        c.close()
        assert not os.listdir(tokens)  # the worker was killed
        c = ShardedCollection.open(client, tmp_path / "d")
        want = {"remove": np.arange(50, 200),
                "add": np.concatenate([np.arange(200), np.arange(1000, 1010)])}.get(
                    op, np.arange(200))
        assert np.array_equal(c.ids(), want.astype(np.uint64))
        if op == "upsert":
            assert np.array_equal(c.get(int(on0[1])), rows[on0[1]] + 1)
            assert c.get_payload(int(on0[1])) == {"new": 1}
        if op == "set_payload_merge":
            assert c.get_payload(int(on0[0])) == {"i": int(on0[0]), "extra": 2}
        if op == "create_payload_index":
            with pytest.raises(vexfs.AlreadyExistsError):
                c.create_payload_index("i", "numeric")
        hits = c.search(rows[120], k=1, filter={"must": [{"key": "i", "range": {"gte": 100}}]})
        assert hits[0].tolist() == [120]
    finally:
        close_quietly(c)


def test_both_workers_killed_inside_one_search(own_client, tmp_path):
    """Both workers die inside the same search: it returns the right answer once both shards
    are reopened, and the collection keeps working."""
    client = own_client
    c, rows = durable(client, tmp_path)
    tokens = arm(client, tmp_path, "search", "before", kills=2)
    try:
        assert c.search(rows[7], k=1)[0].tolist() == [7]
        assert not os.listdir(tokens)
        c.add([1000], rows[:1])
        assert c.count() == 201
    finally:
        close_quietly(c)


def test_worker_killed_again_right_after_the_reopen(own_client, tmp_path):
    """A shard's worker dies in an add, and the worker it is reopened on dies in the rerun: the
    call raises ShardLostError naming that shard (lost again), nothing else applied wrongly, and
    the next calls reopen it and work; every acknowledged row is there."""
    client = own_client
    c, rows = durable(client, tmp_path)
    new = ids_on(0, 2, 4, start=1000)
    tokens = arm(client, tmp_path, "add", "before", kills=2)
    try:
        with pytest.raises(ShardLostError) as e:
            c.add(new, np.ones((4, DIM), np.float32))
        assert not os.listdir(tokens)
        assert e.value.lost == [0] and e.value.applied == []
        wait_workers(client)
        c.add(new, np.ones((4, DIM), np.float32))  # not applied before: applies now
        assert c.count() == 204
        assert np.isin(np.arange(200), c.ids()).all()
    finally:
        close_quietly(c)


@pytest.mark.parametrize("sync", ["normal", "full"])
def test_acknowledged_writes_survive_a_kill_with_sync(own_client, tmp_path, sync):
    """sync="normal" survives a process crash (vexfs.Database): every add that returned before a
    worker was killed is there after the shard is reopened."""
    client = own_client
    c, rows = durable(client, tmp_path, sync=sync, payloads=False)
    try:
        c.add(np.arange(1000, 1100), np.ones((100, DIM), np.float32))
        pids = worker_pids(client)
        os.kill(pids[c.workers()[0]], signal.SIGKILL)
        os.kill(pids[c.workers()[1]], signal.SIGKILL)
        time.sleep(0.5)
        assert c.count() == 300
        assert np.array_equal(c.get(1050), np.ones(DIM, np.float32))
    finally:
        close_quietly(c)


def bounded(call, limit=20.0):
    """(finished, what call returned or raised) within limit seconds (a daemon thread)."""
    out = []

    def go():
        try:
            out.append(call())
        except BaseException as e:  # noqa: B902: the caller judges it
            out.append(e)

    t = threading.Thread(target=go, daemon=True)
    t.start()
    t.join(limit)
    return (not t.is_alive()), (out[0] if out else None)


def test_worker_killed_while_open_starts_a_shard(own_client, tmp_path):
    """A worker dies while open() starts a shard's actor on it: open() succeeds (the shard placed
    on a live worker) or raises a VexfsError; it does not wait forever for the dead worker."""
    client = own_client
    c, rows = durable(client, tmp_path)
    c.close()
    wait_workers(client)
    arm(client, tmp_path, "__init__", "before")
    finished, got = bounded(lambda: ShardedCollection.open(client, tmp_path / "d"))
    assert finished, "open() hangs after a worker died while starting a shard"
    if isinstance(got, ShardedCollection):
        try:
            assert got.count() == 200
        finally:
            close_quietly(got)
    else:
        assert isinstance(got, vexfs.VexfsError), repr(got)


def test_worker_killed_while_create_starts_a_shard(own_client, tmp_path):
    """A worker dies while create() starts a shard's actor on it: create() succeeds or raises a
    VexfsError leaving nothing behind; it does not wait forever for the dead worker."""
    client = own_client
    arm(client, tmp_path, "__init__", "before")
    path = tmp_path / "new"
    finished, got = bounded(lambda: ShardedCollection.create(client, "n", DIM, shards=2,
                                                             index="flat", path=path))
    assert finished, "create() hangs after a worker died while starting a shard"
    if isinstance(got, ShardedCollection):
        close_quietly(got)
    else:
        assert isinstance(got, vexfs.VexfsError) and not path.exists(), repr(got)


def test_worker_killed_while_a_lost_shard_is_reopened(own_client, tmp_path):
    """A shard's worker dies in an add, and the worker chosen to reopen it dies while the shard
    opens: the add reopens it on another live worker (or raises ShardLostError); it does not wait
    forever for the dead worker (sharded.py's _reopen means to retry: "the chosen worker died
    too")."""
    client = own_client
    c, rows = durable(client, tmp_path)
    new = ids_on(0, 2, 3, start=1000)
    arm(client, tmp_path, "add", "before")
    arm(client, tmp_path, "__init__", "before")
    finished = False
    try:
        finished, got = bounded(lambda: c.add(new, np.ones((3, DIM), np.float32)))
        assert finished, "the add hangs after the worker reopening its shard died"
        if got is not None:
            assert isinstance(got, ShardLostError), repr(got)
    finally:
        if finished:
            close_quietly(c)


# ---- errors that name every failing shard ----

def test_lost_in_memory_shard_error_keeps_the_other_shards_refusals(own_client):
    """In memory, an add where shard 0 refuses its part (an id it holds) while shard 1's worker
    died: the error says shard 0 failed with AlreadyExistsError and shard 1 was lost, and
    nothing is listed as applied."""
    client = own_client
    c = ShardedCollection.create(client, "refuse_lost", DIM, shards=2, index="flat")
    try:
        old = ids_on(0, 2, 1)
        c.add(old, np.ones((1, DIM), np.float32))
        address = c.workers()[1]
        os.kill(worker_pids(client)[address], signal.SIGKILL)
        while address in client.scheduler_info()["workers"]:
            time.sleep(0.05)
        ids = np.concatenate([old, ids_on(1, 2, 3, start=500)])
        with pytest.raises(ShardError) as e:
            c.add(ids, np.ones((4, DIM), np.float32))
        assert e.value.applied == []
        assert 1 in e.value.failed
        assert isinstance(e.value.failed.get(0), vexfs.AlreadyExistsError), e.value.failed
    finally:
        close_quietly(c)


# ---- metrics ----

def test_metrics_total_pool_counts_each_worker_once(client):
    """metrics()["total"]["memory_bytes"]["pool"] sums memory: a worker's scratch pool is one per
    process (every shard on it reports the same pool), so the total counts it once per worker,
    not once per shard."""
    c = ShardedCollection.create(client, "pool", DIM, shards=4, index="flat")
    try:
        c.add(np.arange(2000), np.random.default_rng(2).random((2000, DIM), dtype=np.float32))
        c.search(np.random.default_rng(3).random((50, DIM), dtype=np.float32), k=5)
        m = c.metrics()
        per_worker = {}
        for s in m["shards"]:
            per_worker[s["worker"]] = max(per_worker.get(s["worker"], 0),
                                          s["memory_bytes"]["pool"])
        assert len(per_worker) == 2 and min(per_worker.values()) > 0
        assert m["total"]["memory_bytes"]["pool"] <= sum(per_worker.values()), \
            (m["total"]["memory_bytes"]["pool"], per_worker)
    finally:
        c.close()


def test_count_ids_metrics_while_other_threads_write(client):
    """count(), ids() and metrics() answer while two threads add and remove: counts stay within
    what was written, and the final totals are exact."""
    c = ShardedCollection.create(client, "busy", DIM, shards=3, index="flat")
    errors = []

    def writer(t):
        try:
            for b in range(30):
                ids = np.arange(t * 10000 + b * 10, t * 10000 + b * 10 + 10)
                c.add(ids, np.ones((10, DIM), np.float32))
                if b % 3 == 2:
                    c.remove(ids[:5])
        except Exception as e:  # noqa: B902: reported below
            errors.append(e)

    try:
        threads = [threading.Thread(target=writer, args=(t,)) for t in range(2)]
        for t in threads:
            t.start()
        seen = 0
        while any(t.is_alive() for t in threads):
            n = c.count()
            ids = c.ids()
            m = c.metrics()
            assert 0 <= n <= 600 and ids.shape[0] <= 600
            assert np.all(np.diff(ids.astype(np.int64)) > 0)
            assert m["total"]["vectors"] <= 600
            seen += 1
        for t in threads:
            t.join()
        assert not errors, errors
        assert c.count() == 600 - 2 * 10 * 5
        m = c.metrics()["total"]
        assert m["inserts"] == 600 and m["removes"] == 100 and m["vectors"] == 500
        assert seen > 0
    finally:
        c.close()


# ---- several collections ----

def test_two_in_memory_collections_with_the_same_name(client):
    """Two in-memory sharded collections of the same name on one cluster are independent."""
    a = ShardedCollection.create(client, "same", DIM, shards=2, index="flat")
    b = ShardedCollection.create(client, "same", DIM, shards=2, index="flat")
    try:
        a.add([1, 2, 3], np.ones((3, DIM), np.float32))
        b.add([1, 2], np.zeros((2, DIM), np.float32))
        assert a.count() == 3 and b.count() == 2
        assert np.array_equal(b.get(1), np.zeros(DIM, np.float32))
        a.close()
        assert b.count() == 2
    finally:
        a.close()
        b.close()


def test_open_twice_then_the_first_keeps_working(client, tmp_path):
    """A second open() of a path already open raises BusyError and leaves the first one
    working; once it is closed a new open succeeds."""
    c, rows = durable(client, tmp_path)
    try:
        for _ in range(2):
            with pytest.raises(vexfs.BusyError):
                ShardedCollection.open(client, tmp_path / "d")
        c.add([1000], rows[:1])
        assert c.count() == 201
    finally:
        c.close()
    d = ShardedCollection.open(client, tmp_path / "d")
    assert d.count() == 201
    d.close()


# ---- searches against one collection ----

@pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
def test_flat_payloads_empty_filters_has_id_and_ties_equal_one_collection(client, metric):
    """FLAT: with_payload when shards hold fewer than k rows, a filter admitting nothing, a
    has_id filter, and ties across shards (cosine: scaled copies; ip: equal dot products) give
    exactly one collection's ids, distances and payloads."""
    rng = np.random.default_rng(31)
    base = rng.random((5, DIM), dtype=np.float32)
    scale = np.float32(1) + (np.arange(60) % 4 if metric == "cosine" else 0)
    rows = (base[np.arange(60) % 5] * np.reshape(scale, (-1, 1))).astype(np.float32)
    ids = rng.choice(10**6, 60, replace=False).astype(np.uint64)
    payloads = [{"g": int(i % 3)} if i % 7 else None for i in range(60)]
    sharded = ShardedCollection.create(client, f"eq_{metric}", DIM, shards=3, index="flat",
                                       metric=metric)
    single = vexfs.Collection(DIM, metric=metric, index="flat")
    try:
        sharded.add(ids, rows, payloads)
        single.add(ids, rows, payloads)
        queries = np.concatenate([base, rng.random((3, DIM), dtype=np.float32)])
        filters = [None, {"must": [{"key": "g", "match": {"value": 9}}]},
                   {"must": [{"has_id": [int(i) for i in ids[::5]]}]},
                   {"must_not": [{"has_id": [int(i) for i in ids[:50]]}]}]
        for flt in filters:
            for k in (1, 7, 25, 80, 100000):
                got = sharded.search(queries, k=k, filter=flt, with_payload=True)
                want = single.search(queries, k=k, filter=flt, with_payload=True)
                assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
                assert got[2] == want[2]
                one = sharded.search(queries[1], k=k, filter=flt, with_payload=True)
                ref = single.search(queries[1], k=k, filter=flt, with_payload=True)
                assert np.array_equal(one[0], ref[0]) and np.array_equal(one[1], ref[1])
                assert one[2] == ref[2]
    finally:
        sharded.close()


def test_large_batches_and_k(client):
    """A 200 000-row add split over 4 shards, and a search with k = 100000 over them, equal one
    collection's answer."""
    rng = np.random.default_rng(4)
    n = 200_000
    rows = rng.random((n, DIM), dtype=np.float32)
    sharded = ShardedCollection.create(client, "large", DIM, shards=4, index="flat")
    single = vexfs.Collection(DIM, index="flat")
    try:
        sharded.add(np.arange(n), rows)
        single.add(np.arange(n), rows)
        assert sharded.count() == n
        q = rng.random((2, DIM), dtype=np.float32)
        got, want = sharded.search(q, k=100000), single.search(q, k=100000)
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
        sharded.remove(np.arange(0, n, 2))
        assert sharded.count() == n // 2
    finally:
        sharded.close()


# ---- index parameters through create and reopen ----

@pytest.mark.parametrize("index, params", [
    ("auto", dict(ef_search=33, m=12)),
    ("ivf", dict(ivf_nlist=8, nprobe=8, ivf_codes="f32", seed=3)),
    ("lsh", dict(lsh_tables=6, lsh_bits=4, lsh_probes=3, lsh_bucket_width=1.5, seed=9)),
    ("hnsw", dict(m=8, ef_construction=40, ef_search=20, threads=1, seed=2**63)),
])
def test_index_params_through_create_and_reopen(client, tmp_path, index, params):
    """Every shard's collection holds the given index parameters, the manifest stores them, and
    a reopen (after enough rows for AUTO to pick an index) keeps them and finds stored rows."""
    rng = np.random.default_rng(8)
    rows = rng.random((3000, DIM), dtype=np.float32)
    path = tmp_path / index
    c = ShardedCollection.create(client, "p", DIM, shards=2, index=index, path=path, **params)
    try:
        c.add(np.arange(3000), rows)
    finally:
        c.close()
    m = json.loads((path / "manifest.json").read_text())
    assert m["index"] == index and m["index_params"] == params
    c = ShardedCollection.open(client, path)
    try:
        configs = c._broadcast("config", "config")
        for s in range(2):
            for key, value in params.items():
                assert configs[s][key] == value, (s, key, configs[s][key], value)
            assert configs[s]["index"] == index
        assert c._index_params == params
        found = [int(c.search(rows[i], k=1)[0][0]) == i for i in range(0, 3000, 300)]
        assert sum(found) >= 8
    finally:
        c.close()
