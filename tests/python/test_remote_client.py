"""vexfs.Client(endpoint=...): the SDK's calls answered by a real vexfs-server (/api/v1), checked
against the embedded vexfs.Client making the same calls on the same data side by side (the same
ids, distances, scores and metadata, exactly), plus errors, keep-alive, threads, https and a
Python without numpy.

The server: $VEXFS_SERVER, else build/server/vexfs-server; each is started on 127.0.0.1 with
--port 0 (it prints the port it got) and stopped (SIGTERM, exit 0 expected) in teardown. Skipped
only when that binary does not exist."""
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager

import numpy as np
import pytest

import vexfs
from vexfs import _http

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("VEXFS_SERVER") or os.path.join(ROOT, "build", "server", "vexfs-server")
LISTENING = re.compile(r"listening on (https?)://([^\s:]+):(\d+)")

pytestmark = pytest.mark.skipif(not os.path.exists(BINARY),
                                reason=f"no vexfs-server binary at {BINARY} (build it, or set "
                                       "$VEXFS_SERVER)")


class Server:
    def __init__(self, proc, url, port, log):
        self.proc, self.url, self.port, self._log = proc, url, port, log

    def stderr(self) -> str:
        self._log.flush()
        with open(self._log.name, errors="replace") as f:
            return f.read()[-4000:]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"vexfs-server ignored SIGTERM for 10 s: {self.stderr()}")
        return self.proc.returncode


@contextmanager
def server(*args, env=None):
    """A vexfs-server on a free loopback port, stopped (and checked to exit 0) at the end."""
    environ = {k: v for k, v in os.environ.items() if k != "VEXFS_API_KEY"}
    environ.update(env or {})
    log = tempfile.NamedTemporaryFile("w+", prefix="vexfs-server-", suffix=".log")
    proc = subprocess.Popen([BINARY, "--host", "127.0.0.1", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=log, env=environ, text=True)
    s = None
    try:
        line = [None]
        reader = threading.Thread(target=lambda: line.__setitem__(0, proc.stdout.readline()))
        reader.start()
        reader.join(10)
        m = LISTENING.search(line[0] or "")
        if not m:
            proc.kill()
            proc.wait()
            log.seek(0)
            raise AssertionError(f"vexfs-server {args}: no 'listening' line: {line[0]!r}; "
                                 f"stderr: {log.read()[-4000:]}")
        s = Server(proc, f"{m.group(1)}://127.0.0.1:{m.group(3)}", int(m.group(3)), log)
        yield s
    finally:
        if proc.poll() is None:
            code = s.stop() if s else None
        else:
            code = proc.returncode
        proc.stdout.close()
        log.close()
    assert code in (0, None), f"vexfs-server exited {code} on SIGTERM"


@pytest.fixture(scope="module")
def srv():
    with server() as s:
        yield s


@pytest.fixture
def remote(srv):
    """A remote client on the module's server, whose collections are deleted afterwards."""
    client = vexfs.Client(endpoint=srv.url)
    yield client
    client.close()
    cleanup = vexfs.Client(endpoint=srv.url)
    for name in cleanup.list_collections():
        cleanup.delete_collection(name)
    cleanup.close()


def data(n, dim, seed):
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    metadata = [{"n": i, "category": ["tech", "food", "art"][i % 3], "price": i % 17,
                 "tags": ["even" if i % 2 == 0 else "odd"]} for i in range(n)]
    return vectors, metadata


def test_the_factory_and_the_endpoint():
    client = vexfs.Client(endpoint="http://127.0.0.1:9/api/v1/")
    assert type(client) is vexfs.RemoteClient and isinstance(client, vexfs.Client)
    assert client.endpoint == "http://127.0.0.1:9"
    assert vexfs.Client(endpoint="https://example.invalid:8443/prefix").endpoint == \
        "https://example.invalid:8443/prefix"
    embedded = vexfs.Client(endpoint=None)
    assert type(embedded) is vexfs.Client
    embedded.close()
    for bad in ("localhost:6333", "ftp://h", "http://", "http://h:99999", "http://h/?q=1", 6333):
        with pytest.raises(vexfs.InvalidArgumentError):
            vexfs.Client(endpoint=bad)
    with pytest.raises(vexfs.InvalidArgumentError, match="not both"):
        vexfs.Client("/tmp/db", endpoint="http://127.0.0.1:9")
    with pytest.raises(vexfs.InvalidArgumentError, match="api_key"):
        vexfs.Client(endpoint="http://127.0.0.1:9", api_key="a\r\nX-Evil: 1")
    with pytest.raises(vexfs.InvalidArgumentError, match="timeout"):
        vexfs.Client(endpoint="http://127.0.0.1:9", timeout=0)


@pytest.mark.parametrize("metric,algorithm", [("l2", "flat"), ("ip", "flat"), ("l2", "hnsw"),
                                              ("ip", "hnsw"), ("l2", "auto")])
def test_same_answers_as_the_embedded_client(remote, metric, algorithm):
    """Every call made on both clients with the same data gives equal results: ids assigned,
    hits (ids, float32 distances, scores, metadata) equal to the last bit, filtered or not."""
    embedded = vexfs.Client()
    n, dim = 300, 24
    vectors, metadata = data(n, dim, seed=7)
    queries = np.random.default_rng(8).standard_normal((12, dim)).astype(np.float32)
    params = {"m": 12, "ef_construction": 100, "ef_search": 400} if algorithm != "flat" else None
    cols = [c.create_collection(name=f"same_{metric}_{algorithm}", dimension=dim,
                                algorithm=algorithm, metric=metric, parameters=params)
            for c in (embedded, remote)]
    assert [c.dimension for c in cols] == [dim, dim] and [c.metric for c in cols] == [metric] * 2
    assert all(isinstance(c, vexfs.ClientCollection) for c in cols)

    results = [c.batch_insert(vectors=vectors[:200], metadata=metadata[:200]) for c in cols]
    assert results[0].ids == results[1].ids == list(range(200))
    assert results[0].count == results[1].count == 200
    assert results[1].performance_stats.simd_isa == vexfs.simd_isa()
    assert results[1].performance_stats.simd_used == (vexfs.simd_isa() != "scalar")
    assert 0.0 <= results[1].performance_stats.memory_pool_hit_rate <= 1.0
    assert [c.insert(vector=vectors[200], metadata=metadata[200]) for c in cols] == [200, 200]
    assert [c.insert(vectors[201].tolist(), id=5000) for c in cols] == [5000, 5000]
    batches = [c.insert_batch(vectors=vectors[202:], metadata=metadata[202:], batch_size=40)
               for c in cols]
    assert batches[0].ids == batches[1].ids == list(range(5001, 5099))
    assert [len(c) for c in cols] == [n, n]

    for q in queries:
        a, b = (c.search(q, limit=10) for c in cols)
        assert a == b and len(a) == 10  # SearchResult dataclasses: every field equal
        assert [h.distance for h in a] == sorted(h.distance for h in a)
    for f in ({"category": "tech"}, {"must": [{"key": "price", "range": {"gte": 3, "lt": 9}}]},
              {"must_not": [{"key": "tags", "match": {"value": "odd"}}]},
              '{"should": [{"key": "category", "match": {"any": ["art", "food"]}}]}'):
        a, b = (c.search(vector=queries[0], limit=25, filter=f) for c in cols)
        assert a == b and a, f
    a, b = (c.search(queries[:5], limit=7) for c in cols)  # several rows: a list per row
    assert a == b and len(a) == 5 and all(len(r) == 7 for r in a)
    a, b = (c.search(queries[1], limit=10, ef=500) for c in cols)
    assert a == b
    for c in cols:
        c.configure_search(ef_search=300)
    a, b = (c.search(queries[2], limit=n + 5) for c in cols)  # more than there are
    assert a == b and len(a) == n

    for i in (0, 17, 200, 5000, 5098):
        va, vb = (c.get(i) for c in cols)
        assert vb.dtype == np.float32 and np.array_equal(va, vb)
        assert cols[0].get_metadata(i) == cols[1].get_metadata(i)
    assert cols[1].get_metadata(5000) is None
    assert cols[1].get(5000).tolist() == vectors[201].tolist()
    for c in cols:
        c.delete([0, 5000])
        c.delete(17)
    assert [len(c) for c in cols] == [n - 3, n - 3]
    a, b = (c.search(vectors[0], limit=5) for c in cols)
    assert a == b and 0 not in [h.id for h in a]

    sa, sb = (c.get_stats() for c in cols)
    for field in ("name", "vector_count", "dimension", "algorithm", "metric", "insert_count",
                  "search_count"):
        assert getattr(sa, field) == getattr(sb, field), field
    assert sb.vector_count == n - 3 and sb.search_count == 12 + 4 + 5 + 1 + 1 + 1
    assert sb.index_size_mb > n * dim * 4 / 2**20 * 0.9
    assert set(sb.memory_bytes) >= {"vectors", "index", "payloads"}
    embedded.close()


def test_cosine_is_unit_length_on_the_server(remote):
    """The server stores cosine vectors unit length (as its Qdrant routes do); the embedded
    library keeps them as given. Same neighbours, distances equal to float32 rounding."""
    embedded = vexfs.Client()
    vectors, metadata = data(200, 16, seed=11)
    cols = [c.create_collection(name="cos", dimension=16, metric="cosine", algorithm="flat")
            for c in (embedded, remote)]
    for c in cols:
        c.batch_insert(vectors=vectors * 3, metadata=metadata)
    for q in vectors[:10]:
        a, b = (c.search(q, limit=8) for c in cols)
        assert [h.id for h in a] == [h.id for h in b]
        assert [h.metadata for h in a] == [h.metadata for h in b]
        np.testing.assert_allclose([h.distance for h in a], [h.distance for h in b], atol=2e-6)
    unit = vectors[3] / np.linalg.norm(vectors[3])
    np.testing.assert_allclose(cols[1].get(3), unit, rtol=1e-6)
    np.testing.assert_array_equal(cols[0].get(3), vectors[3] * 3)
    embedded.close()


def test_the_references_sdk_examples_run_unchanged(srv):
    """Reference 000 "Python SDK" and 001's benchmark calls, as written there (the endpoint is
    this test's server)."""
    from vexfs.performance import OptimizationLevel, PerformanceConfig
    perf_config = PerformanceConfig(
        enable_memory_pools=True, memory_pool_size='4GB', enable_simd=True,
        enable_stack_optimization=True, enable_enhanced_bridge=True,
        target_fuse_ops_per_sec=4125, target_vector_ops_per_sec=2120,
        target_semantic_ops_per_sec=648)
    client = vexfs.Client(endpoint=srv.url, performance_config=perf_config,
                          enable_monitoring=True)
    PerformanceConfig(optimization_level=OptimizationLevel.MAXIMUM, memory_pool_size='8GB',
                      enable_all_optimizations=True,
                      targets={'fuse_ops_per_sec': 4125, 'vector_ops_per_sec': 2120,
                               'semantic_ops_per_sec': 648})
    with pytest.raises(TypeError):
        PerformanceConfig(turbo=True)
    with pytest.raises(vexfs.InvalidArgumentError, match="unknown option"):
        vexfs.Client(endpoint=srv.url, performance_config={"turbo": True})
    collection = client.create_collection(
        name="performance_optimized", dimension=384, algorithm="hnsw",
        performance_config={'optimization_level': 'maximum', 'memory_pool_size': '2GB',
                            'enable_simd': True, 'target_ops_per_sec': 2000})
    vectors = np.random.random((1000, 384)).astype(np.float32)
    metadata = [{'id': i, 'type': 'test'} for i in range(1000)]
    results = collection.batch_insert(
        vectors=vectors, metadata=metadata,
        performance_options={'use_memory_pools': True, 'enable_simd': True, 'batch_size': 100,
                             'parallel_processing': True})
    assert results.ids == list(range(1000))
    assert 0.0 <= results.performance_stats.memory_pool_hit_rate <= 1.0
    assert results.performance_stats.simd_used == (vexfs.simd_isa() != "scalar")

    time.sleep(1.2)  # the server samples once a second
    metrics = client.get_performance_metrics()
    assert metrics.vector_ops_per_sec >= 0 and 0.0 <= metrics.memory_pool_hit_rate <= 1.0
    assert metrics.simd_acceleration_active == (vexfs.simd_isa() != "scalar")
    assert metrics.simd_isa == vexfs.simd_isa()
    assert metrics.raw["vector_operations"]["inserts"] >= 1000
    assert 0 <= metrics.search_latency_p50_ms <= metrics.search_latency_p95_ms <= metrics.search_latency_p99_ms

    balanced = client.create_collection(name="balanced", dimension=384, algorithm="hnsw",
                                        parameters={"m": 16, "ef_construction": 200,
                                                    "ef_search": 100})
    lsh = client.create_collection(name="lsh", dimension=384, algorithm="lsh",
                                   parameters={"num_tables": 20, "num_functions": 30})
    balanced.insert(vector=vectors[0], metadata=metadata[0])
    balanced.insert_batch(vectors=vectors[1:], metadata=metadata[1:], batch_size=min(1000, 999))
    lsh.insert_batch(vectors, batch_size=500)
    found = 0
    for i in range(20):
        hits = balanced.search(vector=vectors[i], limit=10)
        result_ids = [r.metadata["id"] for r in hits]
        assert result_ids[0] == i
        truth = np.argsort(((vectors - vectors[i]) ** 2).sum(1), kind="stable")[:10]
        found += len(set(result_ids) & set(truth.tolist()))
    assert found / 200 >= 0.9
    assert collection.search(vectors[3], limit=10, performance_options={
        'enable_simd': True, 'use_memory_pools': True, 'low_latency_mode': True})[0].id == 3

    stats = balanced.get_stats()
    system_stats = client.get_stats()
    assert stats.vector_count == 1000 and stats.insert_count == 1000 and stats.search_count == 20
    assert stats.vector_count / max(stats.index_size_mb, 1) > 0
    assert system_stats.collection_count == 3 and system_stats.vector_count == 3000
    assert system_stats.memory_usage_mb >= stats.index_size_mb
    assert system_stats.cache_hits / max(system_stats.cache_hits + system_stats.cache_misses, 1) > 0
    assert client.list_collections() == ["balanced", "lsh", "performance_optimized"]
    history = client.get_performance_history(duration="1m", interval="1s")
    assert history["data_points"] == len(history["metrics"]) >= 1
    for name in ("balanced", "lsh", "performance_optimized"):
        client.delete_collection(name)
    assert client.list_collections() == []
    client.close()


def same_error(calls, cls, match=None):
    """Each call raises cls (matching match); the messages, for comparing."""
    messages = []
    for call in calls:
        with pytest.raises(cls, match=match) as info:
            call()
        messages.append(str(info.value))
    return messages


def test_errors_match_the_embedded_client(remote):
    embedded = vexfs.Client()
    both = (embedded, remote)
    cols = [c.create_collection(name="e", dimension=3) for c in both]
    for c in cols:
        c.batch_insert(vectors=np.eye(3, dtype=np.float32), metadata=[{"k": 1}, None, {"k": 3}])

    # what the clients check before the call: the same exception and message
    for call in (lambda c: c.insert([1, 2]), lambda c: c.search([1, 2, 3, 4]),
                 lambda c: c.insert([1, 2, float("nan")]) if c is cols[1] else
                 c.collection.add([9], [[1, 2, float("nan")]]),
                 lambda c: c.search([1, 2, 3], limit=0), lambda c: c.get(-1),
                 lambda c: c.insert_batch([[1, 2, 3]], batch_size=0),
                 lambda c: c.batch_insert([[1, 2, 3]], metadata=[{}, {}]),
                 lambda c: c.search([1, 2, 3], performance_options={"turbo": 1}),
                 lambda c: c.search([1, 2, 3], filter=[1])):
        same_error([lambda: call(cols[0]), lambda: call(cols[1])], vexfs.InvalidArgumentError)
    a, b = same_error([lambda: c.create_collection(name="x", dimension=4, algorithm="lsh",
                                                   parameters={"m": 16}) for c in both],
                      vexfs.InvalidArgumentError, "unknown parameter")
    assert a == b
    a, b = same_error([lambda: c.insert([1, 2]) for c in cols], vexfs.InvalidArgumentError)
    assert a == b

    # what only the server knows: the same classes, the server's message, its code
    for calls, cls in (
            ([lambda c=c: c.get_collection("missing") for c in both], vexfs.NotFoundError),
            ([lambda c=c: c.delete_collection("missing") for c in both], vexfs.NotFoundError),
            ([lambda c=c: c.create_collection(name="e", dimension=3) for c in both],
             vexfs.AlreadyExistsError),
            ([lambda c=c: c.get(77) for c in cols], vexfs.NotFoundError),
            ([lambda c=c: c.get_metadata(77) for c in cols], vexfs.NotFoundError),
            ([lambda c=c: c.insert([1, 1, 1], id=1) for c in cols], vexfs.AlreadyExistsError),
            ([lambda c=c: c.delete([0, 77]) for c in cols], vexfs.NotFoundError),
            ([lambda c=c: c.search([1, 2, 3], filter={"must": [{"bogus": 1}]}) for c in cols],
             vexfs.InvalidArgumentError)):
        same_error(calls, cls)
    assert [len(c) for c in cols] == [3, 3]  # the refused delete removed nothing
    with pytest.raises(vexfs.NotFoundError) as info:
        remote.get_collection("missing")
    assert info.value.http_status == 404 and info.value.api_code == "API_005"
    assert "missing" in str(info.value) and info.value.code == "VEXFS_E_NOT_FOUND"
    with pytest.raises(vexfs.AlreadyExistsError) as info:
        cols[1].insert([1, 1, 1], id=2)
    assert info.value.http_status == 409 and info.value.api_code == "API_006"
    with pytest.raises(KeyError):  # NotFoundError is a KeyError, as embedded
        cols[1].get(12345)

    # a handle of a collection dropped and made again with another dimension elsewhere: only the
    # server can tell
    other = vexfs.Client(endpoint=remote.endpoint)
    other.delete_collection("e")
    with pytest.raises(vexfs.NotFoundError, match="`e`"):
        cols[1].search([1, 2, 3])
    other.create_collection(name="e", dimension=5)
    with pytest.raises(vexfs.InvalidArgumentError, match="dimension") as info:
        cols[1].insert([1, 2, 3])
    assert info.value.http_status == 400 and info.value.api_code == "API_006"
    other.close()

    remote.close()
    remote.close()
    with pytest.raises(vexfs.InvalidArgumentError, match="closed"):
        remote.list_collections()
    embedded.close()


def test_api_keys():
    with server("--api-key", "s3cret") as s:
        for key in (None, "wrong", "s3cre", "s3cret-"):
            client = vexfs.Client(endpoint=s.url, api_key=key)
            with pytest.raises(vexfs.AuthenticationError) as info:
                client.list_collections()
            assert isinstance(info.value, PermissionError)
            assert info.value.http_status == 401 and info.value.api_code == "API_002"
            assert info.value.code == "VEXFS_E_AUTH" and "api-key" in str(info.value)
        with vexfs.Client(endpoint=s.url, api_key="s3cret") as client:
            col = client.create_collection(name="k", dimension=2)
            assert col.insert([1, 2]) == 0 and client.list_collections() == ["k"]
            assert col.search([1, 2], limit=1)[0].id == 0


def test_server_down_and_timeouts():
    with server() as s:
        client = vexfs.Client(endpoint=s.url, timeout=5)
        col = client.create_collection(name="d", dimension=2)
        col.insert([1, 2])
        url = s.url
    # stopped: the pooled connection is closed, and nothing listens on the port
    with pytest.raises(vexfs.VexfsConnectionError, match=re.escape(url)) as info:
        col.search([1, 2])
    assert isinstance(info.value, ConnectionError) and info.value.code == "VEXFS_E_CONNECTION"
    with pytest.raises(vexfs.VexfsConnectionError, match="cannot reach vexfs-server at"):
        vexfs.Client(endpoint=url).list_collections()

    # a listener that never answers: the client's timeout
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        port = silent.getsockname()[1]
        client = vexfs.Client(endpoint=f"http://127.0.0.1:{port}", timeout=0.3)
        started = time.monotonic()
        with pytest.raises(vexfs.VexfsTimeoutError, match="within 0.3 s") as info:
            client.list_collections()
        assert 0.25 < time.monotonic() - started < 5
        assert isinstance(info.value, TimeoutError) and isinstance(info.value, ConnectionError)
    finally:
        silent.close()


def tcp_connections(port):
    """The client-side ports of TCP connections (any state, TIME_WAIT included) to 127.0.0.1:port,
    from /proc/net/tcp: one per connection opened in the last minute or so."""
    ports = set()
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            local, remote_ = line.split()[1:3]
            lport, rport = int(local.split(":")[1], 16), int(remote_.split(":")[1], 16)
            if rport == port:
                ports.add(lport)
            elif lport == port and rport != 0:
                ports.add(rport)
    return ports


def pooled_port(client):
    conns = client._http._idle
    assert len(conns) == 1
    return conns[0].sock.getsockname()[1]


def test_keep_alive_one_connection_for_many_calls():
    with server() as s:
        before = tcp_connections(s.port)
        client = vexfs.Client(endpoint=s.url)
        col = client.create_collection(name="ka", dimension=4)
        col.batch_insert(np.eye(4, dtype=np.float32))
        port = pooled_port(client)
        for i in range(200):
            assert col.search([1, 0, 0, 0], limit=1)[0].id == 0
            if i % 50 == 0:
                assert len(col) == 4 and col.get_metadata(1) is None
        assert pooled_port(client) == port
        assert client._http.connections_made == 1
        assert tcp_connections(s.port) - before == {port}
        client.close()


def test_a_connection_the_server_closed_while_idle_is_replaced():
    with server("--idle-timeout", "1") as s:
        client = vexfs.Client(endpoint=s.url)
        col = client.create_collection(name="idle", dimension=2)
        col.insert([1, 2])
        time.sleep(1.8)  # the server closes the idle connection
        assert col.search([1, 2])[0].id == 0  # noticed before reuse: a new connection
        assert client._http.connections_made == 2

        # not noticed before reuse (the close arriving as the request goes out): the request
        # fails on the dead connection and is sent once more on a new one
        time.sleep(1.8)
        original = _http._closed_by_peer
        _http._closed_by_peer = lambda conn: False
        try:
            assert col.insert([3, 4]) == 1
        finally:
            _http._closed_by_peer = original
        assert client._http.connections_made == 3 and len(col) == 2
        client.close()


def test_threads_share_one_client(remote):
    embedded = vexfs.Client()
    vectors, metadata = data(500, 32, seed=21)
    cols = [c.create_collection(name="t", dimension=32, algorithm="flat")
            for c in (embedded, remote)]
    for c in cols:
        c.batch_insert(vectors=vectors, metadata=metadata)
    queries = np.random.default_rng(22).standard_normal((40, 32)).astype(np.float32)
    expected = [cols[0].search(q, limit=10) for q in queries]
    failures, inserted = [], []
    lock = threading.Lock()

    def searcher(t):
        try:
            for r in range(60):
                i = (t * 7 + r) % len(queries)
                got = cols[1].search(queries[i], limit=10)
                if got != expected[i]:
                    failures.append((t, i))
        except Exception as e:  # noqa: BLE001 - reported below
            failures.append((t, repr(e)))

    def inserter(t):
        try:
            for r in range(10):
                ids = cols[1].batch_insert(vectors=vectors[:3] + 1000 + t,
                                           metadata=[{"t": t}] * 3).ids
                with lock:
                    inserted.extend(ids)
        except Exception as e:  # noqa: BLE001
            failures.append((t, repr(e)))

    threads = [threading.Thread(target=searcher, args=(t,)) for t in range(8)]
    threads += [threading.Thread(target=inserter, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert sorted(inserted) == list(range(500, 500 + 4 * 10 * 3))  # every id once
    assert len(cols[1]) == 500 + 120
    assert remote._http.connections_made <= 12  # one per thread at most, then reused
    embedded.close()


@pytest.mark.skipif(shutil.which("openssl") is None,
                    reason="openssl is needed to make a certificate")
def test_https(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    with server("--tls-cert", str(cert), "--tls-key", str(key)) as s:
        assert s.url.startswith("https://")
        with pytest.raises(vexfs.VexfsConnectionError, match="certificate"):
            vexfs.Client(endpoint=s.url).list_collections()  # not in the system's store
        context = ssl.create_default_context(cafile=str(cert))
        with vexfs.Client(endpoint=s.url, ssl_context=context) as client:
            col = client.create_collection(name="tls", dimension=3)
            col.batch_insert([[1, 0, 0], [0, 1, 0]], metadata=[{"a": 1}, {"a": 2}])
            for _ in range(20):
                assert [h.metadata for h in col.search([0, 1, 0], limit=2)] == [{"a": 2}, {"a": 1}]
            assert client._http.connections_made == 1


def test_without_numpy(srv):
    """Lists in, lists out, the same answers, in a Python where numpy cannot be imported."""
    code = f"""
import sys, json
sys.modules["numpy"] = None
import vexfs
client = vexfs.Client(endpoint={srv.url!r})
col = client.create_collection(name="nonumpy", dimension=3, metric="ip")
ids = col.batch_insert(vectors=[[1, 2, 3], [0.1, 0.2, 0.3], [-1, 0, 1]],
                       metadata=[{{"a": 1}}, None, {{"a": 3}}]).ids
hits = col.search([1, 1, 1], limit=3)
out = {{"ids": ids, "hits": [[h.id, h.distance, h.score, h.metadata] for h in hits],
       "get": col.get(1),
       "rows": [[h.id for h in r] for r in col.search([[1, 1, 1], [-1, 0, 0]], limit=2)]}}
client.delete_collection("nonumpy")
print(json.dumps(out))
"""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    embedded = vexfs.Client().create_collection(name="n", dimension=3, metric="ip")
    embedded.batch_insert(vectors=[[1, 2, 3], [0.1, 0.2, 0.3], [-1, 0, 1]],
                          metadata=[{"a": 1}, None, {"a": 3}])
    assert out["ids"] == [0, 1, 2]
    assert out["hits"] == [[h.id, h.distance, h.score, h.metadata]
                           for h in embedded.search([1, 1, 1], limit=3)]
    assert out["get"] == embedded.get(1).tolist()
    assert out["rows"] == [[0, 1], [2, 1]]


def test_large_ids_and_odd_names(remote):
    embedded = vexfs.Client()
    big = [2**64 - 2, 2**63, 2**53 + 1]
    cols = [c.create_collection(name="odd.name-1", dimension=2, algorithm="flat")
            for c in (embedded, remote)]
    for c in cols:
        assert c.batch_insert([[1, 0], [0, 1], [1, 1]], ids=big).ids == big
    a, b = (c.search([1, 0.9], limit=3) for c in cols)
    assert a == b and [h.id for h in b] == [2**53 + 1, 2**64 - 2, 2**63]
    assert cols[1].get(2**64 - 2).tolist() == [1, 0]
    with pytest.raises(vexfs.InvalidArgumentError):
        cols[1].get(2**64 - 1)
    assert "odd.name-1" in remote.list_collections()
    assert remote.get_collection("odd.name-1").name == "odd.name-1"
    with pytest.raises(vexfs.InvalidArgumentError):  # a '/' is no collection name's
        remote.create_collection(name="a/b", dimension=2)
    with pytest.raises(vexfs.NotFoundError):
        remote.get_collection("a/b")
    embedded.close()
