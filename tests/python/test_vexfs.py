"""The Python package: the collection contract, errors, numpy and plain-list paths, metrics."""
import array
import ctypes
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import vexfs

RNG = np.random.default_rng(7)


def vectors(n, dim=16):
    return RNG.random((n, dim), dtype=np.float32)


def test_version_isa_and_library():
    assert vexfs.__version__ == "0.7.3"
    assert vexfs.simd_isa() in ("scalar", "avx2", "avx2vnni", "avx512", "avx512vnni", "neon")
    assert os.path.exists(vexfs.library_path) or vexfs.library_path == "libvexfs.so.1"
    out = subprocess.run([sys.executable, "-m", "vexfs"], capture_output=True, text=True, check=True)
    assert "vexfs 0.7.3" in out.stdout and "simd:" in out.stdout and "library:" in out.stdout


@pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
@pytest.mark.parametrize("index", ["flat", "hnsw", "auto", "lsh", "ivf"])
def test_search_finds_each_vector_itself(metric, index):
    data = vectors(300)
    with vexfs.Collection(dim=16, metric=metric, index=index) as c:
        c.add(np.arange(1000, 1300), data)
        assert len(c) == 300 and c.dim == 16
        ids, dist = c.search(data[:20], k=5)
        assert ids.shape == (20, 5) and ids.dtype == np.uint64 and dist.dtype == np.float32
        if metric != "ip":  # under 1 - dot, a vector is not always its own nearest
            assert list(ids[:, 0]) == list(range(1000, 1020))
        assert np.all(np.diff(dist, axis=1) >= 0)


def test_single_query_shape_and_fewer_than_k():
    with vexfs.Collection(dim=4) as c:
        c.add([7, 8, 9], [[0, 0, 0, 1], [0, 0, 0, 2], [0, 0, 0, 3]])
        ids, dist = c.search(np.zeros(4, dtype=np.float32), k=5)  # one query: trimmed
        assert list(ids) == [7, 8, 9] and list(dist) == [1.0, 4.0, 9.0]
        ids, dist = c.search(np.zeros((2, 4), dtype=np.float32), k=5)  # batch: padded
        assert ids.shape == (2, 5) and ids[0, 3] == vexfs.NO_ID and np.isinf(dist[0, 4])


def test_every_input_form_gives_the_same_results():
    data = vectors(200)
    with vexfs.Collection(dim=16, index="flat") as c:
        c.add(np.arange(200), data)
        q = data[:10]
        a, _ = c.search(q, k=3)                                  # C-contiguous float32
        b, _ = c.search(np.asfortranarray(q.astype(np.float64)), k=3)  # converted once
        d, _ = c.search(q.tolist(), k=3)                         # lists
        assert (a == b).all() and (a == d).all()
        one = data[3].copy()
        ro = data[3].copy()
        ro.flags.writeable = False                               # read-only single query
        assert (c.search(one, k=3)[0] == c.search(ro, k=3)[0]).all()
        assert np.array_equal(c.get(5), data[5])


class _Recorder:
    """Stands in for a ctypes library (or one function): records every call's arguments."""

    def __init__(self, real):
        self.real, self.calls = real, []

    def __getattr__(self, name):
        fn = getattr(self.real, name)

        def call(*args):
            self.calls.append((name, args))
            return fn(*args)
        return call

    def __call__(self, *args):
        self.calls.append(("", args))
        return self.real(*args)

    def args(self, name):
        return [a for n, a in self.calls if n == name]


def test_float32_rows_cross_into_c_without_a_copy(monkeypatch):
    """The C calls receive the caller's own buffers for C-contiguous float32 vectors and uint64
    ids; anything else arrives as one converted copy."""
    import vexfs.collection as impl
    lib = _Recorder(impl.lib)
    monkeypatch.setattr(impl, "lib", lib)
    data, ids = vectors(50), np.arange(50, dtype=np.uint64)
    c = vexfs.Collection(dim=16, index="flat")
    c.add(ids, data)
    (_, id_at, rows_at, n), = lib.args("vexfs_insert")
    assert (rows_at, id_at, n) == (data.ctypes.data, ids.ctypes.data, 50)
    c.search(data[:4], k=3)
    c.search(np.asfortranarray(data[:4].astype(np.float64)), k=3)
    same, converted = lib.args("vexfs_search")
    assert same[1] == data.ctypes.data
    assert converted[1] != data.ctypes.data
    single = _Recorder(impl._search_unchecked)
    monkeypatch.setattr(impl, "_search_unchecked", single)
    query = data[7].copy()
    assert c.search(query, k=1)[0][0] == 7
    (_, (_, at, *_)), = single.calls
    assert ctypes.addressof(at._obj) == query.ctypes.data


def test_remove_and_get():
    with vexfs.Collection(dim=16, index="hnsw") as c:
        c.add(np.arange(100), vectors(100))
        c.remove([3, 4])
        assert len(c) == 98
        with pytest.raises(vexfs.NotFoundError, match="id 3"):
            c.get(3)
        ids, _ = c.search(vectors(5), k=98)
        assert 3 not in ids and 4 not in ids


def test_every_error_class(tmp_path):
    c = vexfs.Collection(dim=4)
    c.add([1], [[1, 2, 3, 4]])
    with pytest.raises(vexfs.InvalidArgumentError, match="NaN"):
        c.add([2], [[1, float("nan"), 3, 4]])
    with pytest.raises(vexfs.AlreadyExistsError, match="id 1"):
        c.add([1], [[1, 2, 3, 4]])
    with pytest.raises(vexfs.InvalidArgumentError):
        c.add([5, 5], [[1, 2, 3, 4], [1, 2, 3, 4]])
    with pytest.raises(vexfs.InvalidArgumentError, match="4 floats"):
        c.add([9], [[1, 2, 3]])
    with pytest.raises(vexfs.NotFoundError):
        c.remove([42])
    with pytest.raises(vexfs.InvalidArgumentError, match="k must be an integer 1..16777216, not 0"):
        c.search([0, 0, 0, 0], k=0)
    with pytest.raises(vexfs.InvalidArgumentError, match=r"filter.must\[0\].range.gt: expected a number"):
        c.search([0, 0, 0, 0], k=1, filter={"must": [{"key": "a", "range": {"gt": "x"}}]})
    with pytest.raises(vexfs.InvalidArgumentError, match="row 1: payload must be a JSON object"):
        c.add([3, 4], [[1, 2, 3, 4], [1, 2, 3, 4]], payloads=[{"a": 1}, "[1]"])
    with vexfs.Database(tmp_path / "db") as db:
        db.create_collection("c", dim=4)
    snapshot = tmp_path / "db" / "snapshot.vxs"
    raw = bytearray(snapshot.read_bytes())
    raw[8] = 99  # a format version from the future
    snapshot.write_bytes(bytes(raw))
    with pytest.raises(vexfs.UnsupportedError, match="format version 99"):
        vexfs.Database(tmp_path / "db")
    with pytest.raises(vexfs.InvalidArgumentError):
        vexfs.Collection(dim=0)
    with pytest.raises(vexfs.InvalidArgumentError):
        vexfs.Collection(dim=4, metric="hamming")
    assert len(c) == 1  # nothing above changed it
    for cls in (vexfs.InvalidArgumentError, vexfs.OutOfMemoryError, vexfs.DimensionError,
                vexfs.NotFoundError, vexfs.AlreadyExistsError, vexfs.VexfsIOError,
                vexfs.CorruptError, vexfs.UnsupportedError, vexfs.ReadOnlyError, vexfs.StateError,
                vexfs.BusyError):
        assert issubclass(cls, vexfs.VexfsError) and 1 <= cls.status <= 11
        assert vexfs._native.lib.vexfs_status_string(cls.status) != b"unknown status"
        assert f"({cls('').code})" in cls.__doc__  # the library's name for the status
    with pytest.raises(vexfs.NotFoundError) as caught:
        c.get(42)
    assert caught.value.code == "VEXFS_E_NOT_FOUND"
    assert vexfs.VexfsError("", 99).code == vexfs.VexfsError("").code == "VEXFS_E_UNKNOWN"
    c.close()
    with pytest.raises(vexfs.InvalidArgumentError, match="closed"):
        len(c)


def test_metrics():
    with vexfs.Collection(dim=16, index="flat") as c:
        c.add(np.arange(50), vectors(50))
        c.search(vectors(3), k=2)
        m = c.metrics()
        assert m["inserts"] == 50 and m["searches"] == 3 and m["vectors"] == 50
        assert set(m["search_latency_us"]) == {"p50", "p95", "p99", "p999", "mean", "max"}
        assert m["simd_isa"] == vexfs.simd_isa()
    assert vexfs.metrics()["inserts"] >= 50


def test_threads_share_a_collection():
    """Searches from 4 Python threads at once return exactly what the same searches return one
    by one (the graph is fixed, so answers are deterministic)."""
    data = vectors(2000)
    c = vexfs.Collection(dim=16, index="hnsw")
    c.add(np.arange(2000), data)
    expected = [c.search(data[i], k=5)[0] for i in range(200)]
    got = [None] * 200
    errors = []

    def work(t):
        try:
            for i in range(t, 200, 4):
                got[i] = c.search(data[i], k=5)[0]
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all((a == b).all() for a, b in zip(expected, got))


def test_searches_release_the_gil():
    """Another Python thread runs while one thread is inside a search's C call. With forced GIL
    hand-offs switched off (a huge switch interval), the only way the counting thread can advance
    between the searcher's two reads is the search call releasing the GIL; 2 threads then search
    in parallel (benchmarks/python_overhead.py measures that speedup)."""
    c = vexfs.Collection(dim=64, index="flat", threads=1)
    c.add(np.arange(20000), vectors(20000, 64))
    queries = vectors(300, 64)
    ticks, done = [0], threading.Event()

    def count():
        while not done.is_set():
            ticks[0] += 1
            time.sleep(0)  # gives the GIL back, so the searcher can retake it after its call

    old = sys.getswitchinterval()
    sys.setswitchinterval(100.0)
    counter = threading.Thread(target=count)
    try:
        counter.start()
        while ticks[0] == 0:
            time.sleep(0.001)
        before = ticks[0]
        ids, _ = c.search(queries, k=10, threads=1)
        after = ticks[0]
    finally:
        done.set()
        counter.join()
        sys.setswitchinterval(old)
    assert after > before
    assert ids.shape == (300, 10)


def test_works_without_numpy():
    code = ("import sys; sys.modules['numpy'] = None\n"
            "import array, vexfs\n"
            "c = vexfs.Collection(dim=3, index='flat')\n"
            "c.add([1, 2], [[0, 0, 1], [0, 0, 2]])\n"
            "c.add(array.array('Q', [3]), [array.array('f', [0, 0, 3])])\n"
            "ids, dist = c.search([0, 0, 0], k=2)\n"
            "assert ids == [1, 2] and dist == [1.0, 4.0], (ids, dist)\n"
            "assert c.get(3) == [0.0, 0.0, 3.0]\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_payload_round_trip_and_filters():
    c = vexfs.Collection(dim=2, index="flat")
    docs = [{"category": "tech", "price": 10, "tags": ["a", "b"], "meta": {"rank": 1}},
            {"category": "food", "price": 25.5, "tags": []},
            None,
            {"category": "tech", "price": 40, "big": 2**64 - 1, "s": "caf\u00e9 \U0001F600"}]
    c.add([1, 2, 3, 4], [[0, 0], [1, 0], [2, 0], [3, 0]], payloads=docs)
    for i, doc in enumerate(docs, start=1):
        assert c.get_payload(i) == doc  # ints stay exact, order and unicode kept
    tech = {"must": [{"key": "category", "match": {"value": "tech"}}]}
    ids, _ = c.search([0, 0], k=10, filter=tech)
    assert list(ids) == [1, 4]
    ids, _ = c.search([0, 0], k=10, filter={"must": [{"key": "price", "range": {"gte": 20}}]})
    assert list(ids) == [2, 4]
    ids, _ = c.search([0, 0], k=10, filter={"must_not": [{"is_empty": {"key": "tags"}}]})
    assert list(ids) == [1]
    ids, _ = c.search([0, 0], k=10, filter='{"must": [{"has_id": [3, 4]}]}')  # JSON text too
    assert list(ids) == [3, 4]
    ids, dist, payloads = c.search([0, 0], k=2, filter=tech, with_payload=True)
    assert list(ids) == [1, 4] and payloads == [docs[0], docs[3]]
    ids, dist, rows = c.search([[0, 0], [3, 0]], k=3, with_payload=True)
    assert rows[0] == [docs[0], docs[1], None] and rows[1][0] == docs[3]
    c.set_payload(3, {"category": "tech"})
    c.set_payload(1, {"price": 11}, merge=True)
    assert c.get_payload(1)["price"] == 11 and c.get_payload(1)["category"] == "tech"
    c.set_payload(2, None)
    assert c.get_payload(2) is None
    ids, _ = c.search([0, 0], k=10, filter=tech)
    assert list(ids) == [1, 3, 4]
    with pytest.raises(vexfs.NotFoundError):
        c.get_payload(99)
    with pytest.raises(vexfs.InvalidArgumentError, match="repeats a key"):
        c.set_payload(1, '{"a": 1, "a": 2}')
    with pytest.raises(vexfs.InvalidArgumentError, match="unknown operator"):
        c.search([0, 0], k=1, filter={"category": "tech"})


def test_payload_index_and_planner_on_hnsw():
    rng = np.random.default_rng(3)
    n, dim = 6000, 16
    vectors = rng.standard_normal((n, dim), dtype=np.float32)
    c = vexfs.Collection(dim=dim, index="hnsw")
    c.add(np.arange(n, dtype=np.uint64), vectors, payloads=[{"b": i % 100} for i in range(n)])
    c.create_payload_index("b", "numeric")
    with pytest.raises(vexfs.AlreadyExistsError):
        c.create_payload_index("b", "numeric")
    queries = rng.standard_normal((5, dim), dtype=np.float32)
    for limit in (50, 10, 1):  # 50%, 10%, 1% of the rows
        ids, dist = c.search(queries, k=10, filter={"must": [{"key": "b", "range": {"lt": limit}}]})
        assert ids.shape == (5, 10)
        assert all(int(i) % 100 < limit for i in ids.ravel())
        admitted = np.flatnonzero(np.arange(n) % 100 < limit)
        for q in range(5):
            d = ((vectors[admitted] - queries[q]) ** 2).sum(axis=1)
            exact = set(admitted[np.argsort(d)[:10]].tolist())
            assert len(exact & set(ids[q].tolist())) >= 9
    c.drop_payload_index("b", "numeric")
