"""Coded storage (storage="f16", "sq8", "sq4") through the Python package: with an exact copy the
answers of an F32 twin, without one (rerank="none") get() returns the decoded vector and the
metrics say whether codes are lossless; persisted; wrong values refused before C."""

import numpy as np
import pytest

import vexfs

STORAGES = ["f16", "sq8", "sq4"]


def _pixels(n, dim=24, seed=5):
    return np.random.default_rng(seed).integers(0, 256, (n, dim)).astype(np.float32)


def _reals(n, dim=24, seed=6):
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


@pytest.mark.parametrize("storage", STORAGES)
@pytest.mark.parametrize("index", ["flat", "hnsw"])
def test_without_a_copy_get_decodes_and_lossless_is_reported(storage, index):
    rows = _pixels(600)
    c = vexfs.Collection(dim=24, index=index, storage=storage, rerank="none", threads=1)
    c.add(np.arange(600), rows)
    lossless = storage != "sq4"  # integers 0..255: exact in f16 and 8 bits, not in 4
    assert c.metrics()["codes"] == {"storage": storage, "lossless": lossless}
    got = np.asarray(c.get(17))
    if lossless:
        assert np.array_equal(got, rows[17])
        ids, dist = c.search(rows[17], k=1, exact=True)
        assert ids[0] == 17 and dist[0] == 0
    else:  # 16 levels over 0..255: steps of 17, each coordinate within half of one
        assert np.abs(got - rows[17]).max() <= 8.5
        assert not np.array_equal(got, rows[17])


@pytest.mark.parametrize("storage", STORAGES)
def test_with_a_copy_flat_answers_as_the_f32_twin(storage):
    rows, queries = _reals(2000), _reals(12, seed=9)
    twin = vexfs.Collection(dim=24, index="flat", threads=1)
    coded = vexfs.Collection(dim=24, index="flat", storage=storage, threads=1)
    for c in (twin, coded):
        c.add(np.arange(2000), rows)
    want, wd = twin.search(queries, k=5)
    got, gd = coded.search(queries, k=5)
    assert np.array_equal(got, want) and np.array_equal(gd, wd)
    assert np.array_equal(np.asarray(coded.get(3)), rows[3])
    assert coded.metrics()["codes"]["lossless"] is False


@pytest.mark.parametrize("rerank", ["in_memory", "mapped", "none"])
@pytest.mark.parametrize("storage", STORAGES)
def test_coded_collections_persist(tmp_path, storage, rerank):
    rows, queries = _reals(800), _reals(8, seed=2)
    with vexfs.Database(tmp_path / "db") as db:
        c = db.create_collection("c", dim=24, index="hnsw", storage=storage, rerank=rerank,
                                 threads=1)
        c.add(np.arange(500), rows[:500] * 0.1)
        db.checkpoint()
        c.add(np.arange(500, 800), rows[500:])  # through the log, widening the range
        before = c.search(queries, k=5)
        vec = np.asarray(c.get(3))
    with vexfs.Database(tmp_path / "db") as db:
        c = db.get_collection("c")
        assert c.config()["storage"] == storage and c.config()["rerank"] == rerank
        after = c.search(queries, k=5)
        assert np.array_equal(before[0], after[0]) and np.array_equal(before[1], after[1])
        assert np.array_equal(np.asarray(c.get(3)), vec)


@pytest.mark.parametrize("storage", [1, b"sq8", "SQ8", "int4", None])
def test_wrong_storage_values_are_refused_before_c(storage):
    with pytest.raises(vexfs.InvalidArgumentError, match="storage"):
        vexfs.Collection(dim=4, index="flat", storage=storage)
