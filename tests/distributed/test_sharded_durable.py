"""Durable sharded collections: the manifest, routing that holds across reopen, every
acknowledged write back after close and after a worker is killed, and what a lost in-memory shard
says."""
import json
import os
import signal
import threading
import time

import numpy as np
import pytest

import vexfs
from conftest import worker_pids
from vexfs.distributed import HASHING, ShardedCollection, ShardLostError, shard_of
from vexfs.distributed.routing import splitmix64


def reference_splitmix64(z):
    mask = 2**64 - 1
    z ^= z >> 30
    z = (z * 0xBF58476D1CE4E5B9) & mask
    z ^= z >> 27
    z = (z * 0x94D049BB133111EB) & mask
    return z ^ (z >> 31)


def test_routing_is_the_documented_function():
    ids = np.array([0, 1, 2, 12345, 2**63, 2**64 - 2], dtype=np.uint64)
    assert splitmix64(ids).tolist() == [reference_splitmix64(int(i)) for i in ids]
    # pinned: a later version routing differently would strand every stored row
    assert splitmix64(np.array([1], dtype=np.uint64)).tolist() == [0x5692161D100B05E5]
    assert shard_of(ids, 7).tolist() == [reference_splitmix64(int(i)) % 7 for i in ids]
    assert HASHING == "splitmix64-mod"


def test_reopen_keeps_rows_routing_and_payloads(client, tmp_path):
    rng = np.random.default_rng(1)
    path = tmp_path / "docs"
    rows = rng.random((900, 12), dtype=np.float32)
    ids = rng.choice(2**40, size=900, replace=False)
    sc = ShardedCollection.create(client, "docs", 12, shards=3, index="hnsw", path=path,
                                  metric="cosine", m=8)
    sc.add(ids[:600], rows[:600], [{"n": int(i)} for i in ids[:600]])
    sc.upsert(ids[600:], rows[600:])
    sc.remove(ids[:50])
    sc.set_payload(int(ids[100]), {"extra": True}, merge=True)
    sc.create_payload_index("n", "numeric")
    sc.close()

    m = json.loads((path / "manifest.json").read_text())
    assert (m["format"], m["version"], m["hashing"], m["shards"], m["dim"], m["metric"],
            m["index"], m["index_params"]) == ("vexfs-sharded", 1, HASHING, 3, 12, "cosine",
                                                "hnsw", {"m": 8})
    # each shard's own database holds exactly the ids the hash sends there
    kept = ids[50:].astype(np.uint64)
    for s in range(3):
        with vexfs.Database(path / f"shard-{s:04x}", read_only=True) as db:
            held = db.get_collection("docs").ids()
        assert np.array_equal(held, np.sort(kept[shard_of(kept, 3) == s]))

    sc = ShardedCollection.open(client, path)
    try:
        assert (sc.dim, sc.metric, sc.index, sc.shards, sc.name) == \
            (12, "cosine", "hnsw", 3, "docs")
        assert sc.count() == 850 and np.array_equal(sc.ids(), np.sort(kept))
        for i in (60, 100, 700, 899):
            assert np.array_equal(sc.get(int(ids[i])), rows[i])
        assert sc.get_payload(int(ids[100])) == {"n": int(ids[100]), "extra": True}
        assert sc.get_payload(int(ids[700])) is None
        with pytest.raises(vexfs.NotFoundError):
            sc.get(int(ids[0]))
        with pytest.raises(vexfs.AlreadyExistsError):
            sc.create_payload_index("n", "numeric")  # came back with the shards
        hits = sc.search(rows[300], k=1)[0]
        assert hits.tolist() == [int(ids[300])]
    finally:
        sc.close()


def test_open_and_create_refuse_what_they_cannot_use(client, tmp_path):
    with pytest.raises(vexfs.NotFoundError, match="no manifest"):
        ShardedCollection.open(client, tmp_path)
    (tmp_path / "junk").write_text("x")
    with pytest.raises(vexfs.AlreadyExistsError, match="not an empty directory"):
        ShardedCollection.create(client, "c", 4, path=tmp_path)
    assert os.listdir(tmp_path) == ["junk"]
    fresh = tmp_path / "fresh"
    with pytest.raises(vexfs.InvalidArgumentError):
        ShardedCollection.create(client, "c", 0, path=fresh)  # dim 0
    with pytest.raises(vexfs.InvalidArgumentError):
        ShardedCollection.create(client, "c", 4, path=fresh, index="hnsw", m=1)
    with pytest.raises(vexfs.InvalidArgumentError):
        ShardedCollection.create(client, "bad/name", 4, path=fresh)  # refused by a shard
    with pytest.raises(vexfs.InvalidArgumentError):
        ShardedCollection.create(client, "c", 4, shards=0)
    assert not fresh.exists()  # nothing left behind

    made = tmp_path / "made"
    ShardedCollection.create(client, "c", 4, shards=2, path=made).close()
    manifest = made / "manifest.json"
    good = manifest.read_text()
    manifest.write_text("{not json")
    with pytest.raises(vexfs.CorruptError, match="not JSON"):
        ShardedCollection.open(client, made)
    manifest.write_text(good.replace('"version": 1', '"version": 2'))
    with pytest.raises(vexfs.UnsupportedError, match="version 2"):
        ShardedCollection.open(client, made)
    manifest.write_text(good.replace('"shards": 2', '"shards": "2"'))
    with pytest.raises(vexfs.CorruptError, match="shards"):
        ShardedCollection.open(client, made)
    manifest.write_text(good.replace('"shards": 2', '"shards": 3'))
    with pytest.raises(vexfs.NotFoundError, match="shard-0002"):
        ShardedCollection.open(client, made)
    assert not (made / "shard-0002").exists()
    manifest.write_text(good)
    a = ShardedCollection.open(client, made)
    try:
        with pytest.raises(vexfs.BusyError):
            ShardedCollection.open(client, made)  # every shard is held by a
        a.add([1, 2, 3], np.ones((3, 4), dtype=np.float32))
    finally:
        a.close()


def kill_worker_of(client, sc, shard):
    """SIGKILLs the worker process holding shard (its nanny starts a new one)."""
    os.kill(worker_pids(client)[sc.workers()[shard]], signal.SIGKILL)


def test_killed_worker_loses_nothing_acknowledged(own_client, tmp_path):
    """Batches are added from a thread while the worker holding shard 0 is killed: every add that
    returned is there afterwards, through the recovered shard and after a reopen."""
    client = own_client
    rng = np.random.default_rng(4)
    dim, per_batch, batches = 8, 40, 30
    rows = rng.random((per_batch * batches, dim), dtype=np.float32)
    sc = ShardedCollection.create(client, "acked", dim, shards=2, index="hnsw", path=tmp_path / "d",
                                  sync="full")
    acked, failures = [], []

    def writer():
        for b in range(batches):
            part = slice(b * per_batch, (b + 1) * per_batch)
            try:
                sc.add(np.arange(part.start, part.stop), rows[part])
                acked.append(b)
            except vexfs.VexfsError as e:  # not acknowledged: may or may not be there
                failures.append(e)
            time.sleep(0.01)

    thread = threading.Thread(target=writer)
    thread.start()
    while len(acked) < 5:
        time.sleep(0.01)
    before = sc.workers()[0]
    kill_worker_of(client, sc, 0)
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert sc.workers()[0] != before  # reopened elsewhere
    assert len(acked) >= batches - 2, failures  # the call cut off by the kill ran again
    want = np.concatenate([np.arange(b * per_batch, (b + 1) * per_batch) for b in acked])
    held = sc.ids()
    assert np.isin(want, held).all()
    for i in want[::37]:
        assert np.array_equal(sc.get(int(i)), rows[i])
    assert sc.search(rows[want[-1]], k=1)[0].tolist() == [want[-1]]
    sc.close()
    sc = ShardedCollection.open(client, tmp_path / "d")
    try:
        assert np.isin(want, sc.ids()).all()
    finally:
        sc.close()


def test_killed_worker_between_calls_every_operation_recovers(own_client, tmp_path):
    client = own_client
    rng = np.random.default_rng(6)
    rows = rng.random((200, 4), dtype=np.float32)
    sc = ShardedCollection.create(client, "ops", 4, shards=2, index="flat", path=tmp_path / "d")
    try:
        sc.add(np.arange(200), rows)
        for op in ("search", "remove", "count"):
            kill_worker_of(client, sc, 1)
            if op == "search":
                assert sc.search(rows[3], k=1)[0].tolist() == [3]
            elif op == "remove":
                sc.remove(np.arange(100))
            else:
                assert sc.count() == 100
        assert np.array_equal(sc.ids(), np.arange(100, 200, dtype=np.uint64))
    finally:
        sc.close()


def test_killed_worker_in_memory_names_lost_shards(own_client):
    client = own_client
    sc = ShardedCollection.create(client, "mem", 4, shards=4, index="flat")
    sc.add(np.arange(100), np.ones((100, 4), dtype=np.float32))
    lost_worker = sc.workers()[1]
    lost = sorted(s for s, w in sc.workers().items() if w == lost_worker)
    kill_worker_of(client, sc, 1)
    with pytest.raises(ShardLostError) as e:
        sc.search(np.ones(4, dtype=np.float32), k=3)
    assert e.value.lost == lost and "in memory" in str(e.value)
    with pytest.raises(ShardLostError):  # and every later call that needs them
        sc.count()
    sc.close()  # closes the shards still alive


def test_worker_killed_during_a_long_add(own_client, tmp_path):
    """The worker holding shard 0 dies while it builds its part of a large batch: the add returns
    once the shard is reopened and its part applied (again, or found already applied)."""
    client = own_client
    rng = np.random.default_rng(8)
    n, dim = 20000, 32
    rows = rng.random((n, dim), dtype=np.float32)
    sc = ShardedCollection.create(client, "long", dim, shards=2, index="hnsw", path=tmp_path / "d",
                                  ef_construction=200)
    try:
        errors = []
        thread = threading.Thread(target=lambda: _catch(errors, sc.add, np.arange(n), rows))
        thread.start()
        time.sleep(1.0)  # well inside the build of 10000 rows per shard
        kill_worker_of(client, sc, 0)
        thread.join(timeout=300)
        assert not thread.is_alive() and not errors, errors
        assert sc.count() == n
        for i in (0, 777, n - 1):
            assert np.array_equal(sc.get(i), rows[i])
    finally:
        sc.close()


def _catch(errors, call, *args):
    try:
        call(*args)
    except Exception as e:  # reported by the test
        errors.append(e)


def test_a_rerun_call_counts_as_done_only_when_its_effect_is_there(client):
    """After a lost worker, a rerun add that finds its ids taken succeeds only when every row is
    there exactly as sent (the first attempt had been applied); a rerun remove that finds its ids
    gone, only when none is left."""
    sc = ShardedCollection.create(client, "settle", 4, shards=1, index="flat")
    try:
        rows = np.arange(12, dtype=np.float32).reshape(3, 4)
        ids = np.array([1, 2, 3], dtype=np.uint64)
        texts = [b'{"a":1}', None, None]
        sc.add(ids, rows, [{"a": 1}, None, None])
        taken = vexfs.AlreadyExistsError("taken")
        add = lambda r, p: ("add", (ids, r, p, False))  # noqa: E731
        assert sc._settled(add(rows, texts), 0, taken)
        assert not sc._settled(add(rows + 1, texts), 0, taken)  # other vectors: not ours
        assert not sc._settled(add(rows, [b'{"a":2}', None, None]), 0, taken)  # other payload
        assert not sc._settled(add(rows, texts), 0, vexfs.VexfsIOError("disk"))
        gone = vexfs.NotFoundError("gone")
        assert not sc._settled(("remove", (ids,)), 0, gone)  # still there
        sc.remove(ids)
        assert sc._settled(("remove", (ids,)), 0, gone)
    finally:
        sc.close()


def test_a_manifest_that_cannot_be_written_fails_create_cleanly(client, tmp_path, monkeypatch):
    """The disk fills while the manifest is written: create raises VexfsIOError naming it, and
    leaves no shard, manifest or directory behind."""
    import errno

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)  # the manifest is the only file the client writes
    with pytest.raises(vexfs.VexfsIOError, match="manifest.json: cannot write the manifest: No "
                                                 "space left on device"):
        ShardedCollection.create(client, "full", 4, shards=2, path=tmp_path / "d")
    assert not (tmp_path / "d").exists()
