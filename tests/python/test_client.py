"""The VexFS SDK alias layer (vexfs.Client): the documented call shapes, run as the reference
documents write them, plus id assignment, scores, filters and persistence."""
import time

import numpy as np
import pytest

import vexfs

RNG = np.random.default_rng(3)


def test_reference_benchmark_calls_run_as_written(tmp_path):
    """The calls of ../shared/reference/001 (VexFSBenchmark) and 000 (Python SDK), verbatim in
    shape; only the path differs (theirs is a server mount)."""
    client = vexfs.Client(str(tmp_path / "vexfs"))
    collection = client.create_collection(
        name="balanced", dimension=384, algorithm="hnsw",
        parameters={"m": 16, "ef_construction": 200, "ef_search": 100, "max_m": 32,
                    "ml": 1.0 / np.log(2.0)})
    vectors = np.random.random((1200, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    metadata = [{"id": i, "category": f"category_{i % 10}", "score": np.random.random(),
                 "timestamp": f"2025-06-{(i % 30) + 1:02d}T10:00:00Z"} for i in range(1200)]

    collection.insert(vector=vectors[0], metadata=metadata[0])
    collection.insert_batch(vectors=vectors[1:1000], metadata=metadata[1:1000],
                            batch_size=min(1000, 999))
    results = collection.batch_insert(
        vectors=vectors[1000:], metadata=metadata[1000:],
        performance_options={"use_memory_pools": True, "enable_simd": True, "batch_size": 100,
                             "parallel_processing": True})
    assert 0.0 <= results.performance_stats.memory_pool_hit_rate <= 1.0
    assert results.performance_stats.simd_used == (vexfs.simd_isa() != "scalar")
    assert results.ids == list(range(1000, 1200))  # assigned in order, past the largest id

    # recall against brute force, with the result ids read from metadata as the docs do
    found = 0
    for i in range(50):
        query_vector = vectors[i]
        results = collection.search(vector=query_vector, limit=10)
        result_ids = [r.metadata["id"] for r in results]
        truth = np.argsort(((vectors - query_vector) ** 2).sum(1), kind="stable")[:10]
        found += len(set(result_ids) & set(truth.tolist()))
        assert [r.id for r in results] == result_ids  # ids were assigned 0, 1, 2, ...
    assert found / 500 >= 0.9
    results = collection.search(vectors[3], limit=10, performance_options={
        "enable_simd": True, "use_memory_pools": True, "low_latency_mode": True})
    assert len(results) == 10

    stats = collection.get_stats()
    system_stats = client.get_stats()
    assert stats.vector_count == 1200 and stats.insert_count == 1200 and stats.search_count == 51
    assert stats.index_size_mb > 1200 * 384 * 4 / 2**20  # the rows alone
    assert stats.vector_count / max(stats.index_size_mb, 1) > 0
    assert system_stats.memory_usage_mb >= stats.index_size_mb
    assert system_stats.cache_hits / max(system_stats.cache_hits + system_stats.cache_misses, 1) > 0

    time.sleep(1.1)  # rates count whole seconds that have ended
    metrics = client.get_performance_metrics()
    assert metrics.vector_ops_per_sec > 0 and metrics.search_ops_per_sec > 0
    assert metrics.search_latency_p50_ms > 0 and metrics.search_latency_p99_ms >= \
        metrics.search_latency_p50_ms
    assert f"{metrics.memory_pool_hit_rate:.1%}".endswith("%")
    assert metrics.simd_acceleration_active == (vexfs.simd_isa() != "scalar")
    assert client.get_collection("balanced") is collection
    client.close()


@pytest.mark.parametrize("metric", ["l2", "cosine", "ip"])
def test_scores_and_distances(metric):
    client = vexfs.Client()
    c = client.create_collection(name="s", dimension=8, algorithm="flat", metric=metric)
    data = RNG.random((50, 8), dtype=np.float32)
    c.batch_insert(vectors=data)
    q = RNG.random(8, dtype=np.float32)
    hits = c.search(vector=q, limit=5)
    assert [h.distance for h in hits] == sorted(h.distance for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    best = data[hits[0].id]
    if metric == "cosine":
        want = float(best @ q / np.linalg.norm(best) / np.linalg.norm(q))
    elif metric == "ip":
        want = float(best @ q)
    else:
        want = 1.0 / (1.0 + float(((best - q) ** 2).sum()))
    assert hits[0].score == pytest.approx(want, rel=1e-5)
    assert all(h.metadata is None for h in hits)


def test_filters_ids_and_many_queries():
    client = vexfs.Client()
    c = client.create_collection(name="f", dimension=4, algorithm="hnsw")
    data = RNG.random((300, 4), dtype=np.float32)
    c.batch_insert(vectors=data, metadata=[{"category": "tech" if i % 3 == 0 else "art", "i": i}
                                           for i in range(300)], ids=range(1000, 1300))
    assert c.insert(vector=data[0]) == 1300  # one past the largest id
    assert c.insert(vector=data[1], id=5) == 5
    assert c.insert(vector=data[2]) == 1301
    c.collection.add([1302], data[3:4])  # past the client's own count, the underlying way
    assert c.insert(vector=data[4]) == 1303
    shorthand = c.search(vector=data[10], limit=20, filter={"category": "tech"})
    qdrant = c.search(vector=data[10], limit=20,
                      filter={"must": [{"key": "category", "match": {"value": "tech"}}]})
    assert [h.id for h in shorthand] == [h.id for h in qdrant]
    assert len(shorthand) == 20 and all(h.metadata["category"] == "tech" for h in shorthand)
    few = c.search(vector=data[10], limit=5, filter={"i": 42})
    assert [h.id for h in few] == [1042]
    many = c.search(vector=data[:3], limit=2)
    assert len(many) == 3 and all(len(row) == 2 for row in many)
    c.delete([1042])
    assert c.search(vector=data[10], limit=5, filter={"i": 42}) == []
    assert c.get_metadata(1000) == {"category": "tech", "i": 0}
    assert c.get(1300).tolist() == data[0].tolist()
    c.configure_search(ef_search=200)
    assert len(c.search(vector=data[0], limit=7)) == 7


def test_persistence_and_id_assignment_across_reopen(tmp_path):
    with vexfs.Client(tmp_path / "db") as client:
        c = client.create_collection(name="docs", dimension=3, algorithm="auto")
        c.batch_insert(vectors=[[1, 0, 0], [0, 1, 0]], metadata=[{"t": "a"}, {"t": "b"}])
    with vexfs.Client(tmp_path / "db") as client:
        assert client.list_collections() == ["docs"]
        c = client.get_collection("docs")
        assert c.insert(vector=[0, 0, 1], metadata={"t": "c"}) == 2
        assert [h.metadata["t"] for h in c.search(vector=[0, 0, 1], limit=3)] == ["c", "a", "b"]
        client.delete_collection("docs")
        with pytest.raises(vexfs.NotFoundError):
            client.get_collection("docs")
    with vexfs.Client(tmp_path / "db") as client:
        assert client.list_collections() == []


def test_sdk_errors():
    # endpoint= makes a client of a server (tests/python/test_remote_client.py); nothing is sent
    # before the first call
    assert isinstance(vexfs.Client(endpoint="http://localhost:8080"), vexfs.RemoteClient)
    client = vexfs.Client()
    with pytest.raises(vexfs.InvalidArgumentError, match="unknown parameter.*'m'.*'lsh'"):
        client.create_collection(name="l", dimension=4, algorithm="lsh", parameters={"m": 16})
    with pytest.raises(vexfs.InvalidArgumentError, match="projection_type|lsh_projection"):
        client.create_collection(name="l", dimension=4, algorithm="lsh",
                                 parameters={"projection_type": "pca"})
    with pytest.raises(vexfs.InvalidArgumentError, match="unknown parameter.*'mm'"):
        client.create_collection(name="p", dimension=4, parameters={"mm": 3})
    with pytest.raises(vexfs.InvalidArgumentError, match="unknown option.*'turbo'"):
        client.create_collection(name="p", dimension=4, performance_config={"turbo": True})
    c = client.create_collection(name="ok", dimension=2,
                                 performance_config={"optimization_level": "maximum"})
    with pytest.raises(vexfs.InvalidArgumentError, match="2 metadata entries for 1 vectors"):
        c.insert_batch([[1, 2]], metadata=[{}, {}])
    with pytest.raises(vexfs.InvalidArgumentError, match="payload must be a JSON object|payload 0"):
        c.batch_insert(vectors=[[1, 2]], metadata=[[1, 2]])
    c.insert(vector=[1, 2], id=7)
    with pytest.raises(vexfs.AlreadyExistsError):
        c.insert(vector=[1, 2], id=7)
    with pytest.raises(vexfs.InvalidArgumentError, match="both have id 8"):
        c.batch_insert(vectors=[[1, 2], [3, 4]], ids=[8, 8])
    assert len(c) == 1
    with pytest.raises(vexfs.InvalidArgumentError, match="batch_size"):
        c.insert_batch([[1, 2]], batch_size=0)
    with pytest.raises(vexfs.InvalidArgumentError, match="unknown option"):
        c.search(vector=[1, 2], limit=1, performance_options={"warp": 9})


@pytest.mark.parametrize("algorithm,parameters", [
    ("lsh", {"num_tables": 20, "num_functions": 30}),  # run_comprehensive_benchmark's LSH
    ("lsh", {"num_tables": 10, "num_functions": 20, "bucket_size": 200,
             "projection_type": "random"}),  # "Memory Efficient"
    ("lsh", {"num_tables": 30, "num_functions": 40, "bucket_size": 50,
             "projection_type": "learned"}),  # "High Recall LSH"
    ("ivf", {"nlist": 16, "nprobe": 16}), ("ivf", {"codes": "sq8"})])
def test_reference_lsh_and_ivf_parameters(tmp_path, algorithm, parameters):
    """The reference's LSH parameter sets (001, "Parameter Tuning") and IVF's map onto the
    collection's options, which persist; searches find each inserted vector itself."""
    client = vexfs.Client(str(tmp_path / "db"))
    c = client.create_collection(name="t", dimension=32, algorithm=algorithm,
                                 parameters=parameters)
    vectors = RNG.random((1500, 32)).astype(np.float32)
    c.insert_batch(vectors=vectors, metadata=[{"id": i} for i in range(1500)], batch_size=1000)
    cfg = c.collection.config()
    mapped = {"num_tables": "lsh_tables", "num_functions": "lsh_bits",
              "bucket_size": "lsh_bucket_width", "projection_type": "lsh_projection",
              "nlist": "ivf_nlist", "nprobe": "nprobe", "codes": "ivf_codes"}
    assert cfg["index"] == algorithm
    assert all(cfg[mapped[k]] == v for k, v in parameters.items())
    full = vexfs.Collection(dim=32, index="flat")
    full.add(np.arange(1500), vectors)
    exact = [set(full.search(vectors[i], k=10)[0].tolist()) for i in range(0, 1500, 50)]
    found = [set(r.id for r in c.search(vectors[i], limit=10)) for i in range(0, 1500, 50)]
    assert all(i * 50 in f for i, f in enumerate(found))  # each query finds itself
    recall = sum(len(e & f) for e, f in zip(exact, found)) / (10 * len(exact))
    if "nlist" in parameters and parameters.get("nprobe") == parameters["nlist"]:  # exact
        assert recall == 1.0
    elif algorithm == "ivf":  # the reference's LSH sets key 20-40 bits: tiny buckets at 1500 rows
        assert recall >= 0.6  # uniform random rows, 8 of 39 lists
    client.close()
    with vexfs.Client(str(tmp_path / "db")) as again:
        assert again.get_collection("t").collection.config() == cfg
