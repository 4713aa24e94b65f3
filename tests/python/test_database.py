"""vexfs.Database: persistence round trips, the writer lock, read-only handles, damaged files,
and the lifetime of the collections a database hands out."""
import os
import subprocess
import sys

import numpy as np
import pytest

import vexfs

RNG = np.random.default_rng(11)


def rows(n, dim):
    return RNG.random((n, dim), dtype=np.float32)


def snapshot_of(c, queries):
    """Everything observable about a collection: ids, vectors, payloads, search results."""
    ids = c.ids()
    return {"config": c.config(), "ids": ids.tolist(),
            "vectors": np.stack([c.get(int(i)) for i in ids]).tobytes() if len(ids) else b"",
            "payloads": [c.get_payload(int(i)) for i in ids],
            "search": [a.tolist() for a in c.search(queries, k=5)],
            "filtered": c.search(queries, k=5, filter={"must": [{"key": "tag",
                                                                 "match": {"value": "even"}}]})[0].tolist()}


def fill(db):
    # threads=1: replaying the log rebuilds the graph, and only a one-thread build is the same
    # graph every time (a parallel batch links nodes in whatever order the threads reach them)
    docs = db.create_collection("docs", dim=12, metric="cosine", index="hnsw", m=8,
                                ef_construction=60, ef_search=40, threads=1, seed=5)
    data = rows(400, 12)
    docs.add(np.arange(400), data,
             payloads=[{"tag": "even" if i % 2 == 0 else "odd", "n": i, "big": 2**64 - 2 - i}
                       for i in range(400)])
    docs.create_payload_index("tag")
    docs.remove(np.arange(0, 400, 7))
    docs.set_payload(3, {"tag": "even", "moved": True})
    docs.set_payload(5, {"extra": [1, 2.5, None]}, merge=True)
    plain = db.create_collection("plain", dim=3, metric="l2", index="flat")
    plain.add([10, 2**63], [[1, 2, 3], [4, 5, 6]])
    return docs, plain


@pytest.mark.parametrize("checkpoint", [True, False], ids=["snapshot", "log-only"])
def test_round_trip(tmp_path, checkpoint):
    path = tmp_path / "db"
    queries = rows(6, 12)
    with vexfs.Database(path, checkpoint_bytes=0) as db:
        docs, plain = fill(db)
        before = snapshot_of(docs, queries)
        plain_before = plain.ids().tolist(), plain.get(2**63).tolist()
        if checkpoint:
            db.checkpoint()
        else:  # leave the state in the log alone: a copy of the files taken now must reopen
            copy = tmp_path / "copy"
            copy.mkdir()
            for name in os.listdir(path):
                if name != "LOCK":
                    (copy / name).write_bytes((path / name).read_bytes())
            path = copy
    with vexfs.Database(path) as db:
        assert db.list_collections() == ["docs", "plain"] and "docs" in db
        docs = db.get_collection("docs")
        assert docs.metric == "cosine" and docs.index == "hnsw" and docs.dim == 12
        assert snapshot_of(docs, queries) == before
        plain = db.get_collection("plain")
        assert (plain.ids().tolist(), plain.get(2**63).tolist()) == plain_before


def test_unclosed_writes_survive_a_process_exit(tmp_path):
    """A child process inserts and exits without closing (no checkpoint): with sync="full" every
    acknowledged call is in the log and comes back."""
    code = ("import os, vexfs\n"
            f"db = vexfs.Database({str(tmp_path / 'db')!r}, checkpoint_bytes=0)\n"
            "c = db.create_collection('c', dim=2, index='flat')\n"
            "for i in range(50):\n"
            "    c.add([i], [[i, -i]], payloads=[{'i': i}])\n"
            "c.remove([7])\n"
            "os._exit(0)\n")
    subprocess.run([sys.executable, "-c", code], check=True, env=os.environ)
    with vexfs.Database(tmp_path / "db") as db:
        c = db.get_collection("c")
        assert c.ids().tolist() == [i for i in range(50) if i != 7]
        assert c.get(49).tolist() == [49.0, -49.0] and c.get_payload(12) == {"i": 12}


def test_writer_lock_and_read_only(tmp_path):
    path = tmp_path / "db"
    db = vexfs.Database(path)
    db.create_collection("c", dim=2).add([1], [[1, 2]])
    with pytest.raises(vexfs.BusyError, match="LOCK|locked|open"):
        vexfs.Database(path)
    with pytest.raises(vexfs.BusyError):
        vexfs.Database(path, read_only=True)
    db.close()
    r1 = vexfs.Database(path, read_only=True)
    r2 = vexfs.Database(path, read_only=True)  # readers share
    c = r1.get_collection("c")
    assert c.get(1).tolist() == [1.0, 2.0]
    with pytest.raises(vexfs.ReadOnlyError):
        c.add([2], [[3, 4]])
    with pytest.raises(vexfs.ReadOnlyError):
        c.remove([1])
    with pytest.raises(vexfs.ReadOnlyError):
        r1.create_collection("d", dim=2)
    with pytest.raises(vexfs.ReadOnlyError):
        r2.drop_collection("c")
    with pytest.raises(vexfs.BusyError):
        vexfs.Database(path)
    r1.close()
    r2.close()
    with pytest.raises(vexfs.VexfsIOError):
        vexfs.Database(tmp_path / "missing", read_only=True)


def test_collection_lifetime(tmp_path):
    db = vexfs.Database()  # in memory
    c = db.create_collection("a", dim=2)
    assert db.get_collection("a") is c
    c.add([1], [[0, 1]])
    with pytest.raises(vexfs.AlreadyExistsError):
        db.create_collection("a", dim=2)
    for bad in ("", "a/b", "../x", ".hidden", "x" * 129, "sp ace"):
        with pytest.raises(vexfs.InvalidArgumentError):
            db.create_collection(bad, dim=2)
    with pytest.raises(vexfs.NotFoundError):
        db.get_collection("nope")
    c.close()  # lets go of this object only: the database keeps the data
    assert len(db.get_collection("a")) == 1
    c = db.get_collection("a")
    db.drop_collection("a")
    with pytest.raises(vexfs.InvalidArgumentError, match="closed"):
        c.search([0, 1], k=1)
    with pytest.raises(vexfs.NotFoundError):
        db.drop_collection("a")
    b = db.create_collection("b", dim=2)
    db.close()
    db.close()  # idempotent
    with pytest.raises(vexfs.InvalidArgumentError, match="closed"):
        len(b)
    with pytest.raises(vexfs.InvalidArgumentError, match="database is closed"):
        db.list_collections()
    with pytest.raises(vexfs.InvalidArgumentError, match="sync"):
        vexfs.Database(sync="sometimes")
    assert not os.listdir(tmp_path)  # an in-memory database writes nothing


def test_collections_keep_their_database_open(tmp_path):
    """A collection object keeps its database alive after the caller drops the database."""
    c = vexfs.Database(tmp_path / "db").create_collection("c", dim=2)
    c.add([1], [[1, 1]])
    assert c.search([1, 1], k=1)[0].tolist() == [1]
    del c  # the last reference: the database closes (and checkpoints) now
    with vexfs.Database(tmp_path / "db") as db:
        assert db.get_collection("c").ids().tolist() == [1]


def test_damaged_files(tmp_path):
    path = tmp_path / "db"
    with vexfs.Database(path) as db:
        db.create_collection("c", dim=2).add([1, 2], [[1, 1], [2, 2]])
    snapshot = path / "snapshot.vxs"
    good = snapshot.read_bytes()
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 0x40
    snapshot.write_bytes(bytes(bad))
    with pytest.raises(vexfs.CorruptError, match="snapshot"):
        vexfs.Database(path)
    snapshot.write_bytes(b"not a snapshot at all" * 10)
    with pytest.raises(vexfs.CorruptError):
        vexfs.Database(path)
    snapshot.write_bytes(good)
    with vexfs.Database(path) as db:
        assert db.get_collection("c").ids().tolist() == [1, 2]


def test_upsert_replaces_and_survives_reopening(tmp_path):
    """upsert: present ids get the new vector and payload (None: no payload), new ids are
    inserted, a bad batch changes nothing, and the log replays it."""
    path = tmp_path / "db"
    with vexfs.Database(path, checkpoint_bytes=0) as db:
        c = db.create_collection("u", dim=2, index="flat")
        c.add([1, 2, 3], [[1, 1], [2, 2], [3, 3]], [{"v": 1}, {"v": 1}, {"v": 1}])
        c.upsert([2, 9], [[20, 20], [9, 9]], [None, {"v": 9}])
        with pytest.raises(vexfs.InvalidArgumentError):
            c.upsert([3, 3], [[0, 0], [1, 1]])  # the same id twice: nothing changes
        assert len(c) == 4 and c.get_payload(2) is None and c.get_payload(3) == {"v": 1}
    with vexfs.Database(path) as db:
        c = db.get_collection("u")
        assert c.ids().tolist() == [1, 2, 3, 9]
        assert c.get(2).tolist() == [20, 20] and c.get_payload(9) == {"v": 9}
        assert c.get_payload(2) is None and c.get(3).tolist() == [3, 3]


def test_check_reports_a_healthy_database_and_finds_damage(tmp_path):
    path = tmp_path / "db"
    with vexfs.Database(path) as db:
        c = db.create_collection("c", dim=4, index="hnsw")
        c.add(np.arange(50), np.random.default_rng(1).random((50, 4), dtype=np.float32))
        with pytest.raises(vexfs.BusyError, match="open for writing"):
            vexfs.Database.check(path)
    report = vexfs.Database.check(path)
    assert report["ok"] is True and report["collections"] == [{"name": "c", "vectors": 50}]
    assert report["snapshot"]["sections"] > 0
    snapshot = path / "snapshot.vxs"
    data = bytearray(snapshot.read_bytes())
    data[len(data) // 2] ^= 0x10
    snapshot.write_bytes(data)
    with pytest.raises(vexfs.CorruptError, match="snapshot.vxs"):
        vexfs.Database.check(path)
    with pytest.raises(vexfs.VexfsIOError, match="holds no database"):
        vexfs.Database.check(tmp_path)
