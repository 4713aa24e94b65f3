"""LSH and IVF options through the Python package: names, types, defaults and read-back."""
import numpy as np
import pytest

import vexfs

OPTIONS = {"lsh_tables": 6, "lsh_bits": 12, "lsh_probes": 3, "lsh_bucket_width": 2.5,
           "lsh_projection": "learned", "ivf_nlist": 40, "nprobe": 7, "ivf_codes": "sq8"}


def test_defaults_read_back():
    with vexfs.Collection(dim=4, index="hnsw") as c:
        cfg = c.config()
    assert {k: cfg[k] for k in OPTIONS} == {
        "lsh_tables": 0, "lsh_bits": 0, "lsh_probes": 0, "lsh_bucket_width": 0.0,
        "lsh_projection": "random", "ivf_nlist": 0, "nprobe": 0, "ivf_codes": "f32"}


def test_options_are_kept_and_persist(tmp_path):
    with vexfs.Database(tmp_path / "db") as db:
        c = db.create_collection("c", dim=4, index="hnsw", **OPTIONS)
        assert {k: c.config()[k] for k in OPTIONS} == OPTIONS
    with vexfs.Database(tmp_path / "db") as db:
        assert {k: db.get_collection("c").config()[k] for k in OPTIONS} == OPTIONS


@pytest.mark.parametrize("name,value", [
    ("lsh_tables", -1), ("lsh_tables", 1.5), ("lsh_bits", True), ("lsh_bucket_width", "wide"),
    ("lsh_bucket_width", None), ("lsh_projection", "pca"), ("ivf_codes", "pq"),
    ("nprobe", 2**32), ("ivf_nlist", "10")])
def test_wrong_types_are_refused_before_c(name, value):
    with pytest.raises(vexfs.InvalidArgumentError, match=name):
        vexfs.Collection(dim=4, **{name: value})


@pytest.mark.parametrize("name,value", [
    ("lsh_tables", 257), ("lsh_bits", 65), ("lsh_bucket_width", -1.0),
    ("lsh_bucket_width", float("nan")), ("lsh_bucket_width", float("inf")),
    ("ivf_nlist", 65537), ("nprobe", 65537)])
def test_out_of_range_is_refused_by_the_library(name, value):
    with pytest.raises(vexfs.InvalidArgumentError, match=name):
        vexfs.Collection(dim=4, **{name: value})


def test_unknown_option_is_named():
    with pytest.raises(vexfs.InvalidArgumentError, match="lsh_tabels"):
        vexfs.Collection(dim=4, lsh_tabels=4)


def test_search_knobs_are_checked():
    with vexfs.Collection(dim=4, index="flat") as c:
        c.add([1, 2], np.eye(2, 4, dtype=np.float32))
        ids, _ = c.search(np.ones(4, dtype=np.float32), k=1, probes=3, nprobe=5)
        assert list(ids) == [1] or list(ids) == [2]
        for bad in (-1, 2**32, 1.0, "3"):
            with pytest.raises(vexfs.InvalidArgumentError, match="probes"):
                c.search(np.ones(4, dtype=np.float32), k=1, probes=bad)
            with pytest.raises(vexfs.InvalidArgumentError, match="nprobe"):
                c.search(np.ones(4, dtype=np.float32), k=1, nprobe=bad)


def test_exact_search_answers_as_flat():
    rng = np.random.default_rng(5)
    rows = rng.random((2000, 8), dtype=np.float32)
    queries = rng.random((6, 8), dtype=np.float32)
    with vexfs.Collection(dim=8, index="flat") as flat, \
            vexfs.Collection(dim=8, index="ivf", nprobe=1) as ivf:
        for c in (flat, ivf):
            c.add(range(2000), rows)
        want = flat.search(queries, k=10)
        got = ivf.search(queries, k=10, exact=True)
        assert (got[0] == want[0]).all() and (got[1] == want[1]).all()
        for bad in (1, "yes", None):
            with pytest.raises(vexfs.InvalidArgumentError, match="exact"):
                ivf.search(queries, k=10, exact=bad)
