"""Collections whose rows are MAPPED (rerank="mapped"), through the Python package: only in a
Database with a directory, the same answers as an in-memory twin, rows leaving memory at each
checkpoint, persisted, and the option's wrong values refused."""

import numpy as np
import pytest

import vexfs


def _rows(n, dim=24, seed=3):
    return np.random.default_rng(seed).random((n, dim), dtype=np.float32)


def test_mapped_needs_a_database_directory():
    with pytest.raises(vexfs.InvalidArgumentError, match="vexfs_db_create_collection"):
        vexfs.Collection(dim=4, rerank="mapped")
    with vexfs.Database(None) as db:
        with pytest.raises(vexfs.InvalidArgumentError, match="directory"):
            db.create_collection("c", dim=4, rerank="mapped")


@pytest.mark.parametrize("name,value", [("rerank", "disk"), ("rerank", 1), ("storage", "int8"),
                                        ("storage", None)])
def test_wrong_values_are_refused_before_c(name, value):
    with pytest.raises(vexfs.InvalidArgumentError, match=name):
        vexfs.Collection(dim=4, **{name: value})


def test_coded_storage_needs_flat_or_hnsw_and_none_needs_codes():
    with pytest.raises(vexfs.InvalidArgumentError, match="FLAT and HNSW"):
        vexfs.Collection(dim=4, storage="sq8")  # index "auto"
    with pytest.raises(vexfs.InvalidArgumentError, match="NONE"):
        vexfs.Collection(dim=4, rerank="none")


@pytest.mark.parametrize("index", ["flat", "hnsw"])
def test_mapped_twin_answers_alike_and_persists(tmp_path, index):
    rows, queries = _rows(1500), _rows(20, seed=4)
    ids = np.arange(1500, dtype=np.uint64)
    with vexfs.Database(tmp_path / "db") as db:
        m = db.create_collection("m", dim=24, index=index, rerank="mapped", threads=1)
        p = db.create_collection("p", dim=24, index=index, threads=1)
        for c in (m, p):
            c.add(ids, rows)
        db.checkpoint()
        assert m.config()["rerank"] == "mapped" and p.config()["rerank"] == "in_memory"
        mm = m.metrics()["memory_bytes"]
        pm = p.metrics()["memory_bytes"]
        assert mm["mapped"] == 1500 * 32 * 4  # rows padded to 32 floats
        assert mm["vectors"] + mm["mapped"] == pm["vectors"] and pm["mapped"] == 0
        for c in (m, p):
            c.remove(ids[::5])
        want = p.search(queries, k=7)
        got = m.search(queries, k=7)
        assert np.array_equal(want[0], got[0]) and np.array_equal(want[1], got[1])
    with vexfs.Database(tmp_path / "db") as db:
        m = db.get_collection("m")
        assert m.config()["rerank"] == "mapped" and len(m) == 1200
        assert np.array_equal(m.get(7), rows[7])
        got = m.search(queries, k=7)
        assert np.array_equal(want[0], got[0]) and np.array_equal(want[1], got[1])
