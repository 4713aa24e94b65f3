"""Attacks on vexfs.distributed, each test stating the promised behaviour: input only the library
refuses (surrogates, huge numbers, payloads that grow when stored, norms at the limit) changes
nothing; bad paths and manifests raise vexfs errors; a worker that died while the collection was
idle is found on the next call; threads writing through a kill; dtypes and ties against one
collection."""
import decimal
import json
import os
import signal
import threading
import time

import numpy as np
import pytest

import vexfs
from conftest import worker_pids
from vexfs.distributed import ShardedCollection, ShardLostError, shard_of

DIM = 4


@pytest.fixture
def sc(client):
    c = ShardedCollection.create(client, "attack", DIM, shards=3, index="flat")
    c.add(np.arange(30), np.arange(120, dtype=np.float32).reshape(30, DIM))
    yield c
    c.close()


def unchanged(sc):
    assert sc.count() == 30
    assert np.array_equal(sc.ids(), np.arange(30, dtype=np.uint64))


def spread_ids(shards=3, per_shard=2, start=1000):
    """Ids owning every one of the shards, per_shard of each."""
    ids, seen = [], {s: 0 for s in range(shards)}
    i = start
    while min(seen.values()) < per_shard:
        s = int(shard_of(np.array([i], np.uint64), shards)[0])
        if seen[s] < per_shard:
            ids.append(i)
            seen[s] += 1
        i += 1
    return np.array(ids)


# ---- bad input must be refused before any shard is called ----

@pytest.mark.parametrize("bad", [
    '{"a": "\\ud800"}',          # lone high surrogate escape: the library refuses it
    {"a": "\ud800"},             # the same from a dict (json.dumps escapes it so)
    '{"a": "\\udc00"}',          # lone low surrogate
    '{"a": 1e400}',              # out of the range of a double
    '{"a": [-1E999]}',
])
def test_payload_the_library_refuses_changes_nothing(sc, bad):
    """A payload every shard would refuse (lone surrogate, number beyond double) is refused with
    InvalidArgumentError before any shard is called; nothing is written."""
    ids = spread_ids()
    payloads = [{}] * (len(ids) - 1) + [bad]
    with pytest.raises(vexfs.InvalidArgumentError):
        sc.add(ids, np.ones((len(ids), DIM), np.float32), payloads)
    unchanged(sc)


def test_payload_too_long_as_stored_changes_nothing(sc):
    """A payload under VEXFS_MAX_PAYLOAD_BYTES as given but above it as stored (compact JSON,
    '\\b' written '\\u0008') is refused before any shard is called; nothing is written."""
    text = '{"a":"' + "\\b" * (23 << 19) + '"}'  # ~23 MiB given, ~69 MiB stored
    ids = spread_ids()
    payloads = [{}] * (len(ids) - 1) + [text]
    with pytest.raises(vexfs.InvalidArgumentError):
        sc.add(ids, np.ones((len(ids), DIM), np.float32), payloads)
    unchanged(sc)


def test_deeply_nested_payload_text_is_invalid_argument(sc):
    """A payload text nested 100000 deep is refused with InvalidArgumentError (as one collection
    refuses it), not a RecursionError from json.loads."""
    text = '{"a":' + "[" * 100000 + "]" * 100000 + "}"
    with pytest.raises(vexfs.InvalidArgumentError):
        sc.add([1000], np.ones((1, DIM), np.float32), [text])
    unchanged(sc)


def test_row_whose_float32_squared_norm_is_too_large_changes_nothing(sc):
    """A row the library refuses for its squared norm, as its float32 kernel computes it (just
    above VEXFS_MAX_SQUARED_NORM), is refused before any shard is called."""
    rng = np.random.default_rng(0)
    probe = vexfs.Collection(DIM, index="flat")
    limit = np.sqrt(float(np.finfo(np.float32).max) / 4)
    row = None
    for trial in range(1000):
        x = rng.random(DIM) + 0.5
        x = (x / np.sqrt((x * x).sum()) * limit * (1 + rng.normal() * 1e-6)).astype(np.float32)
        try:
            probe.add([trial], x.reshape(1, DIM))
        except vexfs.InvalidArgumentError:
            row = x
            break
    probe.close()
    assert row is not None, "no row near the limit was refused"
    ids = spread_ids()
    rows = np.ones((len(ids), DIM), np.float32)
    rows[-1] = row
    with pytest.raises(vexfs.InvalidArgumentError, match=f"row {len(ids) - 1}"):
        sc.add(ids, rows)
    unchanged(sc)


def test_filter_bytes_not_utf8_is_invalid_argument(sc):
    """A filter given as bytes that are not UTF-8 raises InvalidArgumentError (as one collection
    does), not UnicodeDecodeError."""
    with pytest.raises(vexfs.InvalidArgumentError):
        sc.search(np.ones(DIM, np.float32), k=3, filter=b"\xff")


def test_use_after_close_is_refused_for_empty_batches(client):
    """After close(), every call is refused (InvalidArgumentError "closed"), empty batches too,
    as one closed collection refuses them."""
    c = ShardedCollection.create(client, "closed_empty", DIM, shards=2, index="flat")
    c.close()
    with pytest.raises(vexfs.InvalidArgumentError, match="closed"):
        c.add([], np.empty((0, DIM), np.float32))
    with pytest.raises(vexfs.InvalidArgumentError, match="closed"):
        c.upsert([], np.empty((0, DIM), np.float32))
    with pytest.raises(vexfs.InvalidArgumentError, match="closed"):
        c.remove([])


# ---- create / open errors ----

@pytest.mark.parametrize("make", ["parent_missing", "under_a_file", "nul", "not_a_path"])
def test_create_bad_path_raises_vexfs_error(client, tmp_path, make):
    """create() with a path it cannot use raises a VexfsError (InvalidArgumentError, VexfsIOError
    or NotFoundError), not a bare OSError, ValueError or TypeError."""
    (tmp_path / "afile").write_text("x")
    path = {"parent_missing": tmp_path / "no" / "such", "under_a_file": tmp_path / "afile" / "x",
            "nul": str(tmp_path / "a\0b"), "not_a_path": 3}[make]
    with pytest.raises(vexfs.VexfsError):
        ShardedCollection.create(client, "c", DIM, path=path)


@pytest.mark.parametrize("make", ["a_file", "nul", "not_a_path"])
def test_open_bad_path_raises_vexfs_error(client, tmp_path, make):
    """open() of a path that holds no sharded collection raises a VexfsError (NotFoundError,
    InvalidArgumentError), not NotADirectoryError, ValueError or TypeError."""
    (tmp_path / "afile").write_text("x")
    path = {"a_file": tmp_path / "afile", "nul": str(tmp_path / "a\0b"), "not_a_path": None}[make]
    with pytest.raises(vexfs.VexfsError):
        ShardedCollection.open(client, path)


def test_create_with_a_parameter_the_manifest_cannot_hold(client, tmp_path):
    """An index parameter vexfs.Collection accepts but JSON cannot encode (a Decimal width, a 0-d
    array) gives InvalidArgumentError (or is stored as a number), not TypeError from json.dump;
    nothing is left behind."""
    for i, params in enumerate([dict(index="lsh", lsh_bucket_width=decimal.Decimal("1.5")),
                                dict(index="hnsw", m=np.array(8))]):
        path = tmp_path / f"d{i}"
        try:
            ShardedCollection.create(client, "c", DIM, path=path, **params).close()
        except vexfs.InvalidArgumentError:
            assert not path.exists()


# ---- manifest handling ----

@pytest.fixture
def made(client, tmp_path):
    """A durable 2-shard FLAT collection of 100 rows, closed; its path."""
    path = tmp_path / "made"
    c = ShardedCollection.create(client, "c", DIM, shards=2, path=path, index="flat")
    c.add(np.arange(100), np.random.default_rng(0).random((100, DIM), dtype=np.float32))
    c.close()
    return path


def test_manifest_not_utf8_is_corrupt(client, made):
    """A manifest.json whose bytes are not UTF-8 raises CorruptError, not UnicodeDecodeError."""
    (made / "manifest.json").write_bytes(b'\xff\xfe{"format": 1}')
    with pytest.raises(vexfs.CorruptError):
        ShardedCollection.open(client, made)


def test_manifest_that_is_a_directory(client, made):
    """A manifest.json that is a directory raises a VexfsError (CorruptError or VexfsIOError),
    not IsADirectoryError."""
    (made / "manifest.json").unlink()
    (made / "manifest.json").mkdir()
    with pytest.raises(vexfs.VexfsError):
        ShardedCollection.open(client, made)


@pytest.mark.parametrize("change", [{"dim": 8}, {"dim": -1}, {"dim": 0}, {"metric": "cosine"},
                                    {"metric": "bogus"}, {"index": "hnsw"}])
def test_manifest_that_disagrees_with_its_shards_is_refused(client, made, change):
    """open() refuses (CorruptError) a manifest whose dim, metric or index is not what its
    shards hold, or not a valid value at all, instead of opening a collection that reports the
    manifest's values and then fails (or answers by the shards' own) on every call."""
    m = json.loads((made / "manifest.json").read_text())
    (made / "manifest.json").write_text(json.dumps({**m, **change}))
    try:
        c = ShardedCollection.open(client, made)
    except vexfs.CorruptError:
        return
    try:
        pytest.fail(f"opened as dim={c.dim} metric={c.metric} index={c.index}")
    finally:
        c.close()


def test_manifest_with_fewer_shards_than_directories_is_refused(client, made):
    """A manifest whose shard count is below the shard directories present is refused
    (CorruptError), not opened with a different routing that hides the other shards' rows."""
    m = json.loads((made / "manifest.json").read_text())
    (made / "manifest.json").write_text(json.dumps({**m, "shards": 1}))
    try:
        c = ShardedCollection.open(client, made)
    except vexfs.CorruptError:
        return
    try:
        assert c.count() == 100, f"opened with {c.count()} of 100 rows visible"
    finally:
        c.close()


# ---- a rerun after a lost worker ----

def test_rerun_add_with_a_big_integer_payload_counts_as_done(client):
    """A rerun add whose rows are all there exactly as sent counts as done, whatever numbers the
    payload holds (an integer beyond 64 bits is stored as a double, and must still match)."""
    c = ShardedCollection.create(client, "settle_big", DIM, shards=1, index="flat")
    try:
        rows = np.arange(8, dtype=np.float32).reshape(2, DIM)
        ids = np.array([1, 2], dtype=np.uint64)
        texts = [b'{"n":123456789012345678901234567890}', b'{"x":1e14}']
        c.add(ids, rows, texts)
        assert c._settled(("add", (ids, rows, texts, False)), 0,
                          vexfs.AlreadyExistsError("taken"))
    finally:
        c.close()


# ---- lost workers ----

def _kill_and_wait(client, c, shard, timeout=20.0):
    """SIGKILLs the worker of shard and waits until the scheduler has dropped it (the
    collection is idle meanwhile)."""
    address = c.workers()[shard]
    os.kill(worker_pids(client)[address], signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while address in client.scheduler_info()["workers"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    time.sleep(1.0)


def test_worker_died_while_idle_durable_recovers(own_client, tmp_path):
    """A durable shard whose worker died while nothing was calling is reopened by the next call,
    which succeeds; it does not raise Dask's ValueError "Worker holding Actor was lost"."""
    client = own_client
    rows = np.random.default_rng(6).random((200, DIM), dtype=np.float32)
    c = ShardedCollection.create(client, "idle", DIM, shards=2, index="flat",
                                 path=tmp_path / "d")
    try:
        c.add(np.arange(200), rows)
        _kill_and_wait(client, c, 1)
        assert c.search(rows[3], k=1)[0].tolist() == [3]
        assert c.count() == 200
    finally:
        try:
            c.close()
        except Exception:  # noqa: B902: the failure above is what the test reports
            pass


def test_worker_died_while_idle_in_memory_names_lost_shards(own_client):
    """In memory, a call after a worker died while idle raises ShardLostError naming the lost
    shards (not ValueError), and close() then closes the shards still alive without raising."""
    client = own_client
    c = ShardedCollection.create(client, "idle_mem", DIM, shards=4, index="flat")
    c.add(np.arange(100), np.ones((100, DIM), np.float32))
    lost_worker = c.workers()[1]
    lost = sorted(s for s, w in c.workers().items() if w == lost_worker)
    _kill_and_wait(client, c, 1)
    with pytest.raises(ShardLostError) as e:
        c.count()
    assert e.value.lost == lost
    c.close()


def test_close_after_a_partly_seen_in_memory_loss(own_client):
    """In memory, after a get on one lost shard raised ShardLostError, close() closes the shards
    still alive and does not raise Dask's ValueError for the other lost shard."""
    client = own_client
    c = ShardedCollection.create(client, "partly", DIM, shards=4, index="flat")
    ids = np.arange(100)
    c.add(ids, np.ones((100, DIM), np.float32))
    address = c.workers()[1]
    assert c.workers()[3] == address  # round-robin over 2 workers
    os.kill(worker_pids(client)[address], signal.SIGKILL)
    on_1 = int(ids[shard_of(ids.astype(np.uint64), 4) == 1][0])
    with pytest.raises(ShardLostError):
        c.get(on_1)
    c.close()


def test_threads_write_and_search_through_a_kill(own_client, tmp_path):
    """Several threads add and search while a worker is killed: every add that returned is
    there, every search answers its own row."""
    client = own_client
    rng = np.random.default_rng(12)
    n_threads, per_batch, batches = 3, 20, 25
    rows = rng.random((n_threads * batches * per_batch, 8), dtype=np.float32)
    c = ShardedCollection.create(client, "threads", 8, shards=2, index="flat",
                                 path=tmp_path / "d")
    acked, errors = [], []

    def worker(t):
        for b in range(batches):
            start = (t * batches + b) * per_batch
            ids = np.arange(start, start + per_batch)
            try:
                c.add(ids, rows[ids])
                acked.extend(ids.tolist())
                got = c.search(rows[ids[0]], k=1)[0].tolist()
                if got != [ids[0]]:
                    errors.append(("wrong", got, int(ids[0])))
            except vexfs.VexfsError as e:
                errors.append(e)

    try:
        threads = [threading.Thread(target=worker, args=(t,)) for t in range(n_threads)]
        for t in threads:
            t.start()
        while len(acked) < 5 * per_batch:
            time.sleep(0.01)
        os.kill(worker_pids(client)[c.workers()[0]], signal.SIGKILL)
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads)
        assert not [e for e in errors if isinstance(e, tuple)], errors
        assert np.isin(np.array(acked), c.ids()).all()
    finally:
        c.close()


# ---- search equals one collection ----

def test_flat_ties_dtypes_and_layouts_equal_one_collection(client):
    """FLAT: many identical rows (ties broken by id across shards), int8 / uint32 ids, float64
    and non-contiguous queries, 1-D and (1, dim) queries, k past the count, with payloads:
    exactly one collection's answer."""
    rng = np.random.default_rng(21)
    n = 400
    rows = np.repeat(rng.random((10, DIM), dtype=np.float32), n // 10, axis=0)
    ids = (rng.choice(10**6, size=n, replace=False) + 10).astype(np.uint32)
    payloads = [{"i": int(i)} for i in ids]
    sharded = ShardedCollection.create(client, "ties", DIM, shards=3, index="flat", metric="ip")
    single = vexfs.Collection(DIM, index="flat", metric="ip")
    try:
        sharded.add(ids, rows, payloads)
        single.add(ids, rows, payloads)
        sharded.add(np.arange(-5, 0, dtype=np.int8) + 5, np.zeros((5, DIM)))  # zero vectors
        single.add(np.arange(5), np.zeros((5, DIM), np.float32))
        wide = rng.random((6, 2 * DIM))
        for queries in (wide[:, ::2], wide[:, ::2].astype(np.float32), rows[:3], rows[0],
                        rows[:1], list(map(float, rows[7]))):
            for k in (1, 45, 450):
                got, want = sharded.search(queries, k=k), single.search(queries, k=k)
                assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
        got = sharded.search(rows[:2], k=50, with_payload=True)
        want = single.search(rows[:2], k=50, with_payload=True)
        assert np.array_equal(got[0], want[0]) and got[2] == want[2]
    finally:
        sharded.close()
