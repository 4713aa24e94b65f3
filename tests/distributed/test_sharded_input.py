"""Bad input is refused before any shard changes; a batch some shards refuse says which; vexfs
itself imports without Dask."""
import os
import subprocess
import sys

import numpy as np
import pytest

import vexfs
from vexfs.distributed import ShardError, ShardedCollection, shard_of


@pytest.fixture
def sc(client):
    c = ShardedCollection.create(client, "input", 4, shards=3, index="flat")
    c.add(np.arange(30), np.arange(120, dtype=np.float32).reshape(30, 4),
          [{"i": i} for i in range(30)])
    yield c
    c.close()


def unchanged(sc):
    assert sc.count() == 30
    assert np.array_equal(sc.ids(), np.arange(30, dtype=np.uint64))


@pytest.mark.parametrize("ids, rows, payloads, message", [
    ([100, 101], np.ones((2, 5), np.float32), None, "rows of 4"),
    ([100, 101, 100], np.ones((3, 4), np.float32), None, "appears twice"),
    ([100, 101], np.ones((3, 4), np.float32), None, "2 ids for 3"),
    ([100, 2**64 - 1], np.ones((2, 4), np.float32), None, "ids"),
    ([100, -1], np.ones((2, 4), np.float32), None, "ids"),
    ([100, 101], [[1, 2, 3, 4], [1, 2, float("nan"), 4]], None, "row 1, element 2 is NaN"),
    ([100, 101], [[1, 2, 3, 4], [1e38, 0, 0, 0]], None, "squared norm"),
    ([100, 101], [[1, 2, 3, 4], ["a", 2, 3, 4]], None, "real numbers"),
    ([100.0, 101], np.ones((2, 4), np.float32), None, "integer"),
    ([100, 101], np.ones((2, 4), np.float32), [{}], "1 payloads for 2"),
    ([100, 101], np.ones((2, 4), np.float32), [{}, "[1, 2]"],
     "row 1: payload must be a JSON object"),
    ([100, 101], np.ones((2, 4), np.float32), [{}, '{"a": 1, "a": 2}'], "repeats a key"),
    ([100, 101], np.ones((2, 4), np.float32), [{}, '{"a": NaN}'], "not valid JSON"),
    ([100, 101], np.ones((2, 4), np.float32), [{}, '{"a": '], "not valid JSON"),
    ([100, 101], np.ones((2, 4), np.float32), [{}, "[" * 70 + "]" * 70], "nested deeper than 64"),
    ([100, 101], np.ones((2, 4), np.float32), [{}, '{"a":' * 65 + "1" + "}" * 65],
     "nested deeper than 64"),
    ([100, 101], np.ones((2, 4), np.float32), [{}, 7], "must be a dict"),
    ([100, 101], np.ones((2, 4), np.float32), [{}, "{\"a\": \"x\0\"}"], "NUL"),
])
def test_bad_batches_change_nothing(sc, ids, rows, payloads, message):
    with pytest.raises(vexfs.InvalidArgumentError, match=message):
        sc.add(ids, rows, payloads)
    with pytest.raises(vexfs.InvalidArgumentError, match=message):
        sc.upsert(ids, rows, payloads)
    unchanged(sc)


def test_bad_reads_and_removes(sc):
    q = np.ones(4, np.float32)
    for bad in (dict(k=0), dict(k=2**24 + 1), dict(k=1.0), dict(ef=-1), dict(ef="8"),
                dict(with_payload=1), dict(filter=3)):
        with pytest.raises(vexfs.InvalidArgumentError):
            sc.search(q, **bad)
    with pytest.raises(vexfs.InvalidArgumentError, match="rows of 4"):
        sc.search(np.ones(3, np.float32))
    with pytest.raises(vexfs.InvalidArgumentError, match="shard 0"):
        sc.search(q, filter="{not json")  # each shard's parser refuses it alike
    with pytest.raises(vexfs.InvalidArgumentError, match="appears twice"):
        sc.remove([1, 2, 1])
    with pytest.raises(vexfs.InvalidArgumentError):
        sc.get(2**64 - 1)
    with pytest.raises(vexfs.NotFoundError):
        sc.get(1000)
    with pytest.raises(vexfs.NotFoundError):
        sc.set_payload(1000, {"a": 1})
    with pytest.raises(vexfs.InvalidArgumentError, match="must be a JSON object"):
        sc.set_payload(1, "[1]")
    with pytest.raises(vexfs.InvalidArgumentError, match="merging"):
        sc.set_payload(1, None, merge=True)
    sc.set_payload(1, None)
    assert sc.get_payload(1) is None
    unchanged(sc)


def test_a_batch_some_shards_refuse_says_which(sc):
    """New ids on every shard plus id 5, already there: 5's shard refuses its whole part; the
    others apply theirs, and ShardError says so exactly."""
    new = np.arange(1000, 1030)
    owner = shard_of(np.array([5], np.uint64), 3)[0]
    ids = np.concatenate([new, [5]])
    with pytest.raises(ShardError) as e:
        sc.add(ids, np.ones((31, 4), np.float32))
    assert list(e.value.failed) == [owner]
    assert isinstance(e.value.failed[owner], vexfs.AlreadyExistsError)
    assert e.value.applied == sorted(set(range(3)) - {owner})
    held = set(sc.ids().tolist())
    for i in new:
        assert (int(i) in held) == (shard_of(np.array([i], np.uint64), 3)[0] != owner)
    # the same for removes: ids gone from the owner's shard fail its part; the others apply
    applied = new[shard_of(new.astype(np.uint64), 3) != owner]
    missing = [i for i in range(10**6, 10**6 + 50)
               if shard_of(np.array([i], np.uint64), 3)[0] == owner]
    with pytest.raises(ShardError) as e:
        sc.remove(np.concatenate([applied, missing]))
    assert list(e.value.failed) == [owner]
    assert isinstance(e.value.failed[owner], vexfs.NotFoundError)
    assert not set(applied.tolist()) & set(sc.ids().tolist())
    assert "applied on shard(s)" in str(e.value) and f"shard {owner}: NotFoundError" in str(e.value)
    with pytest.raises(vexfs.NotFoundError, match="shard"):
        sc.remove([10**6 + s for s in range(50)])  # refused everywhere: the error itself
    with pytest.raises(vexfs.AlreadyExistsError, match="shard"):
        sc.add([0, 1, 2, 3, 4], np.ones((5, 4), np.float32))  # refused everywhere: the error itself


def test_vexfs_imports_without_dask():
    """import vexfs needs no Dask (vexfs.distributed is only imported on request)."""
    code = ("import sys, vexfs; assert 'distributed' not in sys.modules and "
            "'vexfs.distributed' not in sys.modules; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=os.environ, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_the_cluster_listens_on_loopback_only(client):
    from conftest import LOOPBACK, listening, worker_pids
    pids = [os.getpid()] + list(worker_pids(client).values())
    sockets = [s for pid in pids for s in listening(pid)]
    assert len(sockets) >= 3  # the scheduler's and each worker's, at least
    assert all(address in LOOPBACK for address, _ in sockets), sockets


def test_what_is_not_a_client_is_refused(tmp_path):
    """create and open take a dask.distributed.Client: anything else is InvalidArgumentError
    before anything is made."""
    for bad in (None, "tcp://127.0.0.1:8786", object()):
        with pytest.raises(vexfs.InvalidArgumentError, match="dask.distributed.Client"):
            ShardedCollection.create(bad, "c", 4, path=tmp_path / "c")
        with pytest.raises(vexfs.InvalidArgumentError, match="dask.distributed.Client"):
            ShardedCollection.open(bad, tmp_path)
    assert not os.listdir(tmp_path)
