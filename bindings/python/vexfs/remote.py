"""vexfs.Client(endpoint=...): the SDK's calls answered by a vexfs-server over its /api/v1 routes.

    client = vexfs.Client(endpoint="http://localhost:6333", api_key="...")   # a RemoteClient
    docs = client.create_collection(name="docs", dimension=384, algorithm="hnsw")
    docs.batch_insert(vectors=vectors, metadata=[{"category": "tech"}, ...])
    for hit in docs.search(vector=query, limit=10, filter={"category": "tech"}):
        print(hit.id, hit.score, hit.metadata)

RemoteClient and RemoteCollection are subclasses of Client and ClientCollection (vexfs/client.py)
with the same calls, arguments, checks and result types (SearchResult, InsertResult,
CollectionStats, SystemStats, PerformanceMetrics); only their primitives differ: each is one
request. Arguments are checked here as the embedded client checks them, with the same
exceptions, before anything is sent; what only the server can know (a missing collection, a
taken id) comes back as the same exception classes, with the server's message and the answer's
`http_status` and `api_code` (API_001 .. API_008) on the exception.

The standard library only (http.client, vexfs/_http.py): keep-alive connections from a small
pool, so that calls in a row share one TCP connection and threads calling at once use one each;
a connection the server closed while idle is replaced once, transparently. Thread-safe.
"""
from __future__ import annotations

import array
import json
import math
import struct
import os
import ssl
import threading
from typing import Any, Sequence

from ._arguments import MAX_K, c_text, float_rows, id_list, integer, np, one_id
from ._http import Transport, quote
from .performance import PerformanceConfig
from .client import (Client, ClientCollection, CollectionStats, PerformanceMetrics,
                     PerformanceStats, SystemStats, _check_options, _index_options)
from .errors import (AlreadyExistsError, AuthenticationError, BusyError, CorruptError,
                     DimensionError, InvalidArgumentError, NotFoundError, OutOfMemoryError,
                     ReadOnlyError, StateError, UnsupportedError, VexfsError, VexfsIOError)

_CLOSED = "the client is closed"
_F32 = struct.Struct("f")
# The library's status texts (vexfs_status_string), with which the server begins the message of a
# library failure ("dimension mismatch: ..."), and the exception each means.
_LIBRARY_TEXTS = (("invalid argument", InvalidArgumentError), ("out of memory", OutOfMemoryError),
                  ("dimension mismatch", DimensionError), ("not found", NotFoundError),
                  ("already exists", AlreadyExistsError), ("I/O error", VexfsIOError),
                  ("data is corrupt", CorruptError), ("not supported", UnsupportedError),
                  ("read-only", ReadOnlyError), ("not allowed in the current state", StateError),
                  ("database is busy", BusyError))
# The /api/v1 codes (reference 000, "Error Codes") where the message names no library status.
_BY_CODE = {"API_001": InvalidArgumentError, "API_002": AuthenticationError,
            "API_003": AuthenticationError, "API_004": BusyError, "API_005": NotFoundError,
            "API_006": InvalidArgumentError, "API_007": VexfsError, "API_008": BusyError}
_BY_HTTP = {400: InvalidArgumentError, 401: AuthenticationError, 403: AuthenticationError,
            404: NotFoundError, 409: AlreadyExistsError, 413: InvalidArgumentError,
            422: InvalidArgumentError, 429: BusyError, 503: BusyError}


def _error(status: int, answer: Any) -> VexfsError:
    """The exception for an answer of HTTP status >= 400: /api/v1's {"error": {"code",
    "message"}}, or any other body (a proxy's page, Qdrant's envelope)."""
    code = message = None
    if isinstance(answer, dict):
        err = answer.get("error")
        if isinstance(err, dict):
            code, message = err.get("code"), err.get("message")
        elif isinstance(answer.get("status"), dict):  # Qdrant's {"status": {"error": ...}}
            message = answer["status"].get("error")
    if not isinstance(message, str) or not message:
        message = answer if isinstance(answer, str) and answer else f"HTTP {status}"
    cls = None
    if status == 409:
        cls = AlreadyExistsError
    elif status not in (401, 403) or message.startswith("read-only"):
        cls = next((c for text, c in _LIBRARY_TEXTS if message.startswith(text + ":")), None)
    if cls is None:
        cls = _BY_CODE.get(code) or _BY_HTTP.get(status) or VexfsError
    e = cls(message)
    e.http_status, e.api_code = status, code if isinstance(code, str) else None
    return e


def _rows(vectors: Any, dim: int) -> list:
    """Vectors (one, or rows of them) checked as the embedded client checks them and rounded to
    float32, as lists of Python floats (exact in JSON: each prints as the shortest text that reads
    back as the same float32)."""
    _, n, keep = float_rows(vectors, dim)
    if np is not None:
        return keep.tolist()
    flat = keep[0].tolist()
    return [flat[i * dim:(i + 1) * dim] for i in range(n)]


def _payload(value: Any, what: str) -> dict | None:
    """A payload for the body: a dict, None, or JSON text of an object (as the library takes)."""
    if value is None or isinstance(value, dict):
        return value
    if isinstance(value, (str, bytes)):
        try:
            parsed = json.loads(value)
        except ValueError as e:
            raise InvalidArgumentError(f"{what} is not valid JSON: {e}") from None
        if isinstance(parsed, dict):
            return parsed
    raise InvalidArgumentError(f"{what} must be a dict (or JSON text of an object), not "
                               f"{type(value).__name__}")


def _float_vector(values: Any) -> Any:
    """A vector from an answer, as the embedded get() returns it (numpy float32, or a list of the
    float32 values). The server writes each float32 as the shortest text that reads back as it
    (%.9g at most): rounding the parsed double to float32 gives it back exactly."""
    if np is not None:
        return np.array(values, dtype=np.float32)
    return array.array("f", values).tolist()


def _f32(x: Any) -> float:
    """A float32 of an answer (a distance), exactly as the embedded client returns it."""
    return _F32.unpack(_F32.pack(float(x)))[0]


class RemoteCollection(ClientCollection):
    """A collection of a vexfs-server, with ClientCollection's calls. Ids are assigned by the
    server (one past the largest id present) where a call gives none. Thread-safe."""

    collection = None  # no vexfs.Collection behind it: the data is the server's

    def __init__(self, client: "RemoteClient", info: dict):
        self._client = client
        self.name = info["name"]
        self._dimension = int(info["dimension"])
        self._metric = info["metric"]
        self.algorithm = info["algorithm"]
        self._ef: int | None = None
        self._local = threading.local()  # the performance_stats of this thread's last insert

    def _path(self, *tail: str) -> str:
        return "/collections/" + quote(self.name) + "".join("/" + t for t in tail)

    def _call(self, method: str, what: str, *tail: str, body: Any = None,
              query: dict | None = None) -> Any:
        return self._client._call(method, self._path(*tail), what, body, query)

    @property
    def dimension(self) -> int:
        """The vectors' dimension."""
        return self._dimension

    @property
    def metric(self) -> str:
        """The collection's metric: "l2", "ip" or "cosine"."""
        return self._metric

    def __len__(self) -> int:
        return int(self._call("GET", f"collection {self.name!r}")["vector_count"])

    def _insert(self, vectors: Any, metadata: Sequence[dict | None] | None,
                ids: Sequence[int] | None) -> list:
        rows = _rows(vectors, self._dimension)
        if metadata is not None and len(metadata) != len(rows):
            raise InvalidArgumentError(f"{len(metadata)} metadata entries for {len(rows)} vectors")
        if ids is not None:
            ids = id_list(ids)
            if len(ids) != len(rows):
                raise InvalidArgumentError(f"{len(ids)} ids for {len(rows)} vectors")
        items = []
        for i, row in enumerate(rows):
            item: dict = {"vector": row}
            if metadata is not None and metadata[i] is not None:
                item["metadata"] = _payload(metadata[i], f"metadata[{i}]")
            if ids is not None:
                item["id"] = ids[i]
            items.append(item)
        answer = self._call("POST", f"insert into {self.name!r}", "vectors", "batch",
                            body={"vectors": items})
        self._local.stats = answer.get("performance_stats") or {}
        return [int(i) for i in answer["vector_ids"]]

    def _performance(self) -> PerformanceStats:
        stats = getattr(self._local, "stats", None) or {}
        isa = str(stats.get("simd_isa", ""))
        return PerformanceStats(memory_pool_hit_rate=float(stats.get("memory_pool_hit_rate", 0.0)),
                                simd_used=bool(stats.get("simd_acceleration_used", False)),
                                simd_isa=isa)

    def _search(self, vector: Any, limit: int, filter: dict | str | None,
                ef: int | None) -> list:
        limit = integer(limit, "k", 1, MAX_K)
        if ef is not None:
            ef = integer(ef, "ef")
        if isinstance(filter, (str, bytes)):
            filter = _payload(filter, "filter")
        elif filter is not None and not isinstance(filter, dict):
            raise InvalidArgumentError(f"filter must be a dict (or JSON text), not "
                                       f"{type(filter).__name__}")
        out = []
        for row in _rows(vector, self._dimension):
            body: dict = {"vector": row, "limit": limit}
            if filter is not None:
                body["filter"] = filter
            if ef:
                body["ef"] = ef
            answer = self._call("POST", f"search in {self.name!r}", "search", body=body)
            out.append([(int(h["id"]), _f32(h["distance"]), h.get("metadata"))
                        for h in answer["results"]])
        return out

    def _vector(self, id: int) -> dict:
        id = one_id(id)
        return self._call("GET", f"vector {id} of {self.name!r}", "vectors", str(id))

    def get(self, id: int) -> Any:
        """The vector stored under id (numpy float32 array, or a list without numpy)."""
        return _float_vector(self._vector(id)["vector"])

    def get_metadata(self, id: int) -> dict | None:
        """The metadata stored with id (None when it has none)."""
        return self._vector(id).get("metadata")

    def delete(self, ids: Sequence[int] | int) -> None:
        """Removes ids, all or nothing."""
        ids = id_list(ids)
        self._call("POST", f"delete from {self.name!r}", "vectors", "delete", body={"ids": ids})

    def get_stats(self) -> CollectionStats:
        """Counts, memory and search latency of this collection, measured by the server's
        library."""
        s = self._call("GET", f"stats of {self.name!r}", "stats")
        return CollectionStats(
            name=s["name"], vector_count=int(s["vector_count"]), dimension=int(s["dimension"]),
            algorithm=s["algorithm"], metric=s["metric"], index_size_mb=float(s["index_size_mb"]),
            insert_count=int(s["insert_count"]), search_count=int(s["search_count"]),
            avg_search_time_ms=float(s["avg_search_time_ms"]),
            p95_search_time_ms=float(s["p95_search_time_ms"]),
            memory_bytes=dict(s.get("memory_bytes") or {}))

    def __repr__(self) -> str:
        return (f"<vexfs.RemoteCollection {self.name!r} dim={self.dimension} at "
                f"{self._client.endpoint}>")


class RemoteClient(Client):
    """vexfs.Client(endpoint="http://host:port", api_key=None, timeout=60.0, ssl_context=None):
    Client's calls answered by the vexfs-server at endpoint (its /api/v1 routes; a path after the
    port is kept as a prefix, a trailing /api/v1 is allowed). api_key: sent as `Authorization:
    Bearer`. timeout: seconds per request (connect, send, answer), None for none. ssl_context:
    for https, an ssl.SSLContext (default: ssl.create_default_context(), which verifies the
    server's certificate against the system's store). performance_config (a
    vexfs.performance.PerformanceConfig or a dict of the SDK's keys) and enable_monitoring, the
    reference's, are accepted and change nothing. Nothing is sent until the first call."""

    def __init__(self, path: str | os.PathLike | None = None, *, endpoint: str,
                 api_key: str | None = None, timeout: float | None = 60.0,
                 ssl_context: ssl.SSLContext | None = None, performance_config: Any = None,
                 enable_monitoring: Any = None):
        if path is not None:
            raise InvalidArgumentError("vexfs.Client: give a path (an embedded database) or an "
                                       "endpoint (a server), not both")
        if isinstance(performance_config, dict):
            _check_options(performance_config, "Client")
        elif performance_config is not None and not isinstance(performance_config,
                                                               PerformanceConfig):
            raise InvalidArgumentError("performance_config must be a "
                                       "vexfs.performance.PerformanceConfig or a dict, not "
                                       f"{type(performance_config).__name__}")
        from . import __version__
        self._http = Transport(endpoint, api_key=api_key, timeout=timeout,
                               ssl_context=ssl_context, user_agent=f"vexfs-python/{__version__}")
        self.endpoint = self._http.endpoint
        self._closed = False

    def _call(self, method: str, path: str, what: str, body: Any = None,
              query: dict | None = None) -> Any:
        if self._closed:
            raise InvalidArgumentError(_CLOSED)  # as the embedded client's closed database
        status, answer = self._http.request(method, path, body, query)
        if status >= 400:
            raise _error(status, answer)
        if not isinstance(answer, dict):
            raise VexfsError(f"{what}: vexfs-server at {self.endpoint} answered HTTP {status} "
                             f"with {str(answer)[:200]!r}, not a JSON object")
        return answer

    def create_collection(self, name: str, dimension: int, algorithm: str = "hnsw",
                          parameters: dict | None = None, metric: str = "l2",
                          performance_config: dict | None = None) -> RemoteCollection:
        """Creates a collection on the server (arguments as Client.create_collection)."""
        _check_options(performance_config, "create_collection")
        _index_options(algorithm, parameters)  # the same checks as the embedded client
        c_text(name, "name")
        body: dict = {"name": name, "dimension": integer(dimension, "dim"),
                      "algorithm": algorithm, "metric": metric}
        if parameters:
            body["parameters"] = dict(parameters)
        if performance_config:
            body["performance_config"] = dict(performance_config)
        return RemoteCollection(self, self._call("POST", "/collections",
                                                 f"create collection {name!r}", body))

    def get_collection(self, name: str) -> RemoteCollection:
        """The collection called name (NotFoundError when there is none)."""
        c_text(name, "name")
        return RemoteCollection(self, self._call("GET", "/collections/" + quote(name),
                                                 f"collection {name!r}"))

    def list_collections(self) -> list[str]:
        """The collections' names, sorted."""
        names: list = []
        page = 1
        while True:
            answer = self._call("GET", "/collections", "list collections",
                                query={"page": page, "per_page": 1000})
            names += [c["name"] for c in answer["collections"]]
            if not answer["collections"] or len(names) >= int(answer.get("total", 0)):
                return sorted(names)
            page += 1

    def delete_collection(self, name: str) -> None:
        """Deletes the collection and its data (NotFoundError when there is none)."""
        c_text(name, "name")
        self._call("DELETE", "/collections/" + quote(name), f"delete collection {name!r}")

    def get_performance_metrics(self) -> PerformanceMetrics:
        """The server's real-time figures (its library's, every collection it serves, sampled
        once a second); `raw` is the answer of GET /api/v1/performance/metrics/realtime as it
        came. A figure the server does not report is nan."""
        m = self._call("GET", "/performance/metrics/realtime", "performance metrics")
        ops, pools, simd = (m.get(k) if isinstance(m.get(k), dict) else {}
                            for k in ("vector_operations", "memory_pools", "simd_acceleration"))

        def figure(section: dict, key: str) -> float:
            value = section.get(key)
            return float(value) if isinstance(value, (int, float)) else math.nan

        return PerformanceMetrics(
            vector_ops_per_sec=figure(ops, "ops_per_sec"),
            search_ops_per_sec=figure(ops, "search_ops_per_sec"),
            insert_ops_per_sec=figure(ops, "insert_ops_per_sec"),
            search_latency_p50_ms=figure(ops, "search_latency_p50_ms"),
            search_latency_p95_ms=figure(ops, "search_latency_p95_ms"),
            search_latency_p99_ms=figure(ops, "search_latency_p99_ms"),
            memory_pool_hit_rate=figure(pools, "hit_rate"),
            simd_acceleration_active=bool(simd.get("enabled", False)),
            simd_isa=str(simd.get("type", "")), raw=m)

    def get_performance_history(self, duration: str = "1h", interval: str = "1m") -> dict:
        """GET /api/v1/performance/metrics/history: {"metrics": [rows, oldest first], ...}."""
        return self._call("GET", "/performance/metrics/history", "performance history",
                          query={"duration": duration, "interval": interval})

    def get_stats(self) -> SystemStats:
        """The server's counts and memory (every collection it serves)."""
        s = self._call("GET", "/stats", "stats")
        return SystemStats(
            collection_count=int(s["collection_count"]), vector_count=int(s["vector_count"]),
            memory_usage_mb=float(s["memory_usage_mb"]),
            avg_search_time_ms=float(s["avg_search_time_ms"]), cache_hits=int(s["cache_hits"]),
            cache_misses=int(s["cache_misses"]))

    def close(self) -> None:
        """Closes the connections; later calls raise InvalidArgumentError (as the embedded
        client's do once closed). Idempotent."""
        self._closed = True
        self._http.close()

    def __repr__(self) -> str:
        return f"<vexfs.RemoteClient {self.endpoint}>"


__all__ = ["RemoteClient", "RemoteCollection"]
