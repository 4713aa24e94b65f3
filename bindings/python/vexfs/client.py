"""The VexFS SDK's names (vexfs.Client and its collections) over Database and Collection.

The earlier server-based VexFS documented a client API; this layer makes its calls work on the
embedded library, so that code written against those documents runs unchanged where it touches
only vector storage and search:

    client = vexfs.Client()                        # or vexfs.Client("/path/to/db")
    docs = client.create_collection(name="docs", dimension=384, algorithm="hnsw",
                                    parameters={"m": 16, "ef_construction": 200, "ef_search": 100})
    docs.batch_insert(vectors=vectors, metadata=[{"category": "tech"}, ...])
    for hit in docs.search(vector=query, limit=10, filter={"category": "tech"}):
        print(hit.id, hit.score, hit.metadata)

vexfs.Client(endpoint="http://host:port", api_key=...) is the same API answered by a vexfs-server
(vexfs/remote.py, over /api/v1): the classes below are shared, their primitives differ.

Options of the server SDK that tune the server (performance_config, performance_options) are
accepted with their documented keys and change nothing, batch_size aside (batch_insert splits by
it): libvexfs always allocates from its pools and runs the widest SIMD the CPU has. An unknown
key raises InvalidArgumentError.
"""
from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass, field
from typing import Any, Sequence

from ._arguments import NO_ID, U32_MAX, id_list, integer, is_one_query
from .collection import Collection, _json_metrics
from .database import Database
from .errors import AlreadyExistsError, InvalidArgumentError

# Keys the server SDK documents for performance_config / performance_options.
_ADVISORY_KEYS = frozenset({
    "optimization_level", "memory_pool_size", "enable_simd", "enable_stack_optimization",
    "enable_enhanced_bridge", "target_ops_per_sec", "use_memory_pools", "parallel_processing",
    "priority", "low_latency_mode", "cache_results", "batch_size"})
# The parameters the server SDK documents, by algorithm: theirs -> (ours, converter of theirs).
# HNSW's max_m and ml are accepted and derived from m here (2*m, 1/ln m). LSH (reference 001,
# "Parameter Tuning"): num_tables hash tables, num_functions hash functions (key bits) per table,
# bucket_size the bucket width along a projection (L2), projection_type "random" or "learned".
# IVF: nlist lists and nprobe lists scanned per search.
_SAME = {"m": "m", "ef_construction": "ef_construction", "ef_search": "ef_search"}
_PARAMETERS = {
    "hnsw": _SAME, "auto": _SAME, "flat": {},
    "lsh": {"num_tables": "lsh_tables", "num_functions": "lsh_bits",
            "bucket_size": "lsh_bucket_width", "projection_type": "lsh_projection",
            "ef_search": "ef_search"},
    "ivf": {"nlist": "ivf_nlist", "nprobe": "nprobe", "codes": "ivf_codes"},
}
_DERIVED_PARAMETERS = {"hnsw": frozenset({"max_m", "ml"}), "auto": frozenset({"max_m", "ml"})}
_FILTER_KEYS = frozenset({"must", "should", "must_not"})


def _check_options(options: dict | None, what: str) -> dict:
    options = dict(options or {})
    unknown = sorted(set(options) - _ADVISORY_KEYS)
    if unknown:
        raise InvalidArgumentError(f"{what}: unknown option(s) {unknown}; known: "
                                   f"{sorted(_ADVISORY_KEYS)}")
    return options


def _index_options(algorithm: str, parameters: dict | None) -> dict:
    """create_collection's parameters (the SDK's names for algorithm) as vexfs.Collection's
    keyword options; unknown ones raise InvalidArgumentError."""
    parameters = dict(parameters or {})
    known = _PARAMETERS.get(algorithm, {})
    derived = _DERIVED_PARAMETERS.get(algorithm, frozenset())
    unknown = sorted(set(parameters) - set(known) - derived)
    if unknown:
        raise InvalidArgumentError(
            f"create_collection: unknown parameter(s) {unknown} for algorithm "
            f"{algorithm!r}; known: {sorted(set(known) | derived)}")
    return {ours: parameters[theirs] for theirs, ours in known.items() if theirs in parameters}


def _filter(f: dict | str | None) -> dict | str | None:
    """A Qdrant-style filter passes through; the SDK's shorthand {"key": value, ...} (no
    must/should/must_not) means every key matches its value."""
    if not isinstance(f, dict) or not f or _FILTER_KEYS & set(f):
        return f
    return {"must": [{"key": k, "match": {"value": v}} for k, v in f.items()]}


@dataclass(frozen=True)
class SearchResult:
    """One hit. distance: the metric's (smaller is nearer). score: a similarity (larger is
    nearer): 1 - distance for "cosine" (the cosine) and "ip" (the dot product), 1 / (1 +
    distance) for "l2". metadata: the payload dict, or None."""
    id: int
    distance: float
    score: float
    metadata: dict | None


@dataclass(frozen=True)
class PerformanceStats:
    """How a batch insert ran: the scratch pool's hit rate and the SIMD level in use."""
    memory_pool_hit_rate: float
    simd_used: bool
    simd_isa: str


@dataclass(frozen=True)
class InsertResult:
    """What batch_insert / insert_batch stored: the ids (given or assigned), in input order."""
    ids: list
    count: int
    performance_stats: PerformanceStats


@dataclass(frozen=True)
class CollectionStats:
    """collection.get_stats(): sizes, counts and search latency of one collection."""
    name: str
    vector_count: int
    dimension: int
    algorithm: str
    metric: str
    index_size_mb: float      # vectors, index and payloads in memory
    insert_count: int
    search_count: int
    avg_search_time_ms: float
    p95_search_time_ms: float
    memory_bytes: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SystemStats:
    """client.get_stats(): every collection of the client together."""
    collection_count: int
    vector_count: int
    memory_usage_mb: float    # every collection of this process, plus the scratch pool
    avg_search_time_ms: float
    cache_hits: int           # scratch-pool hits and misses, every tier
    cache_misses: int


@dataclass(frozen=True)
class PerformanceMetrics:
    """Process-wide figures (every collection in this process), measured by the library. Rates
    are over the last 10 s; `raw` holds everything vexfs.metrics() reports (1 s / 60 s too)."""
    vector_ops_per_sec: float
    search_ops_per_sec: float
    insert_ops_per_sec: float
    search_latency_p50_ms: float
    search_latency_p95_ms: float
    search_latency_p99_ms: float
    memory_pool_hit_rate: float
    simd_acceleration_active: bool
    simd_isa: str
    raw: dict = field(default_factory=dict)


def _performance_stats(raw: dict) -> PerformanceStats:
    return PerformanceStats(memory_pool_hit_rate=raw["pool"]["hit_rate"],
                            simd_used=raw["simd_isa"] != "scalar", simd_isa=raw["simd_isa"])


class ClientCollection:
    """A collection with the SDK's call shapes. `collection` is the underlying vexfs.Collection
    (numpy results, every option). Ids are assigned (one past the largest id present) where a
    call gives none. Thread-safe."""

    def __init__(self, collection: Collection):
        self.collection = collection
        self.name = collection.name
        self._ef: int | None = None
        self._lock = threading.Lock()
        self._next_id: int | None = None

    @property
    def dimension(self) -> int:
        """The vectors' dimension."""
        return self.collection.dim

    def __len__(self) -> int:
        return len(self.collection)

    def _take_ids(self, n: int, ids: Sequence[int] | None) -> list:
        """The ids for n new vectors (caller holds _lock); they count as used once inserted."""
        if self._next_id is None:
            present = self.collection.ids()
            self._next_id = int(present[-1]) + 1 if len(present) else 0
        if ids is None:
            return list(range(self._next_id, self._next_id + n))
        ids = id_list(ids)
        if len(ids) != n:
            raise InvalidArgumentError(f"{len(ids)} ids for {n} vectors")
        return ids

    def _insert(self, vectors: Any, metadata: Sequence[dict | None] | None,
                ids: Sequence[int] | None) -> list:
        rows = len(vectors)
        with self._lock:
            chosen = self._take_ids(rows, ids)
            try:
                self.collection.add(chosen, vectors, payloads=metadata)
            except AlreadyExistsError:
                if ids is not None:
                    raise
                # ids were added past ours by another way (the underlying collection, another
                # handle): look at what is there once more
                self._next_id = None
                chosen = self._take_ids(rows, None)
                self.collection.add(chosen, vectors, payloads=metadata)
            if chosen:
                self._next_id = max(self._next_id, max(chosen) + 1)
        return chosen

    def insert(self, vector: Any, metadata: dict | None = None, id: int | None = None) -> int:
        """Inserts one vector (and its metadata) under id (0 .. 2**64 - 2; assigned when None);
        returns its id."""
        return self._insert([vector], None if metadata is None else [metadata],
                            None if id is None else [id])[0]

    def batch_insert(self, vectors: Any, metadata: Sequence[dict | None] | None = None,
                     ids: Sequence[int] | None = None,
                     performance_options: dict | None = None) -> InsertResult:
        """Inserts every vector in one all-or-nothing call (batch_size in performance_options
        splits it as insert_batch does)."""
        options = _check_options(performance_options, "batch_insert")
        if "batch_size" in options:
            return self.insert_batch(vectors, metadata, batch_size=options["batch_size"], ids=ids)
        chosen = self._insert(vectors, metadata, ids)
        return InsertResult(ids=chosen, count=len(chosen), performance_stats=self._performance())

    def insert_batch(self, vectors: Any, metadata: Sequence[dict | None] | None = None,
                     batch_size: int = 1000, ids: Sequence[int] | None = None) -> InsertResult:
        """Inserts in calls of batch_size vectors (an integer >= 1); each call is all or nothing,
        and calls before a failing one stay inserted (ids and batch_size are checked first)."""
        batch_size = integer(batch_size, "batch_size", 1, sys.maxsize)
        ids = None if ids is None else id_list(ids)
        if metadata is not None and len(metadata) != len(vectors):
            raise InvalidArgumentError(f"{len(metadata)} metadata entries for {len(vectors)} vectors")
        if ids is not None and len(ids) != len(vectors):
            raise InvalidArgumentError(f"{len(ids)} ids for {len(vectors)} vectors")
        chosen: list = []
        for at in range(0, len(vectors), batch_size):
            end = at + batch_size
            chosen += self._insert(vectors[at:end], None if metadata is None else metadata[at:end],
                                   None if ids is None else ids[at:end])
        return InsertResult(ids=chosen, count=len(chosen), performance_stats=self._performance())

    def _performance(self) -> PerformanceStats:
        """The PerformanceStats an InsertResult reports, after the insert."""
        return _performance_stats(self.collection.metrics())

    def search(self, vector: Any, limit: int = 10, filter: dict | str | None = None,
               ef: int | None = None, performance_options: dict | None = None) -> list:
        """The limit nearest vectors (those the filter admits) as SearchResult objects, nearest
        first. Several query rows give one list per query. ef: None for configure_search's
        value (the collection's ef_search until then)."""
        _check_options(performance_options, "search")
        rows = self._search(vector, limit, _filter(filter), self._ef if ef is None else ef)
        to_score = _SCORES[self.metric]
        results = [[SearchResult(i, d, to_score(d), p) for i, d, p in row] for row in rows]
        return results[0] if is_one_query(vector) else results

    @property
    def metric(self) -> str:
        """The collection's metric: "l2", "ip" or "cosine"."""
        return self.collection.metric

    def _search(self, vector: Any, limit: int, filter: dict | str | None,
                ef: int | None) -> list:
        """Per query row, its hits as (id, distance, metadata) tuples, nearest first."""
        found = self.collection.search(vector, k=limit, ef=ef, filter=filter, with_payload=True)
        rows = [found] if is_one_query(vector) else zip(*found)
        return [[(int(i), float(d), p) for i, d, p in zip(*row) if int(i) != NO_ID]
                for row in rows]

    def configure_search(self, ef_search: int) -> None:
        """Sets the candidate-list size later searches use (the collection's ef_search until
        then): an integer 1 .. 2**32 - 1."""
        self._ef = integer(ef_search, "ef_search", 1, U32_MAX)

    def get(self, id: int) -> Any:
        """The vector stored under id."""
        return self.collection.get(id)

    def get_metadata(self, id: int) -> dict | None:
        """The metadata stored with id (None when it has none)."""
        return self.collection.get_payload(id)

    def delete(self, ids: Sequence[int] | int) -> None:
        """Removes ids, all or nothing."""
        self.collection.remove(ids)

    def get_stats(self) -> CollectionStats:
        """Counts, memory and search latency of this collection, measured by the library."""
        m = self.collection.metrics()
        memory = m["memory_bytes"]
        in_memory = memory["vectors"] + memory["index"] + memory["payloads"]
        return CollectionStats(
            name=self.name, vector_count=m["vectors"], dimension=self.collection.dim,
            algorithm=self.collection.index, metric=self.collection.metric,
            index_size_mb=in_memory / 2**20, insert_count=m["inserts"], search_count=m["searches"],
            avg_search_time_ms=m["search_latency_us"]["mean"] / 1000,
            p95_search_time_ms=m["search_latency_us"]["p95"] / 1000, memory_bytes=memory)

    def __repr__(self) -> str:
        return f"<vexfs.ClientCollection {self.name!r} dim={self.dimension} n={len(self)}>"


_SCORES = {"cosine": lambda d: 1.0 - d, "ip": lambda d: 1.0 - d, "l2": lambda d: 1.0 / (1.0 + d)}


class Client:
    """The SDK's entry point over an embedded database: a directory (path), or memory (None).
    Other keyword arguments are those of vexfs.Database (sync, read_only, checkpoint_bytes).

    vexfs.Client(endpoint="http://host:port", api_key=...) is instead a vexfs.RemoteClient (a
    subclass, in vexfs/remote.py) with the same calls and results, answered by a vexfs-server
    over its /api/v1 routes."""

    def __new__(cls, *args: Any, endpoint: str | None = None, **kwargs: Any) -> "Client":
        if endpoint is not None and cls is Client:
            from .remote import RemoteClient
            cls = RemoteClient  # type() then runs RemoteClient.__init__ with these arguments
        return super().__new__(cls)

    def __init__(self, path: str | os.PathLike | None = None, *, endpoint: None = None,
                 **database_options: Any):
        self.database = Database(path, **database_options)
        self._lock = threading.Lock()
        self._collections: dict[str, ClientCollection] = {}

    def _wrap(self, collection: Collection) -> ClientCollection:
        with self._lock:
            c = self._collections.get(collection.name)
            if c is None or c.collection is not collection:
                c = self._collections[collection.name] = ClientCollection(collection)
            return c

    def create_collection(self, name: str, dimension: int, algorithm: str = "hnsw",
                          parameters: dict | None = None, metric: str = "l2",
                          performance_config: dict | None = None) -> ClientCollection:
        """Creates a collection. algorithm: "hnsw" (default), "lsh", "ivf", "flat" or "auto".
        parameters: for hnsw and auto m, ef_construction, ef_search (max_m and ml are accepted
        and derived from m here); for lsh num_tables, num_functions (bits per table),
        bucket_size (bucket width, L2), projection_type ("random" or "learned") and ef_search
        (the re-ranked candidates are 4 * ef_search); for ivf nlist, nprobe and codes ("f32" or
        "sq8"). metric: "l2", "cosine" or "ip"."""
        _check_options(performance_config, "create_collection")
        tuned = _index_options(algorithm, parameters)
        return self._wrap(self.database.create_collection(name, dimension, metric=metric,
                                                          index=algorithm, **tuned))

    def get_collection(self, name: str) -> ClientCollection:
        """The collection called name (NotFoundError when there is none)."""
        return self._wrap(self.database.get_collection(name))

    def list_collections(self) -> list[str]:
        """The collections' names, sorted."""
        return self.database.list_collections()

    def delete_collection(self, name: str) -> None:
        """Deletes the collection and its data (NotFoundError when there is none)."""
        self.database.drop_collection(name)
        with self._lock:
            self._collections.pop(name, None)

    def get_performance_metrics(self) -> PerformanceMetrics:
        """Real-time figures measured by the library (see PerformanceMetrics)."""
        m = _json_metrics(None)
        rate = m["ops_per_sec"]
        latency = m["search_latency_us"]
        return PerformanceMetrics(
            vector_ops_per_sec=rate["search_10s"] + rate["insert_10s"],
            search_ops_per_sec=rate["search_10s"], insert_ops_per_sec=rate["insert_10s"],
            search_latency_p50_ms=latency["p50"] / 1000, search_latency_p95_ms=latency["p95"] / 1000,
            search_latency_p99_ms=latency["p99"] / 1000,
            memory_pool_hit_rate=m["pool"]["hit_rate"],
            simd_acceleration_active=m["simd_isa"] != "scalar", simd_isa=m["simd_isa"], raw=m)

    def get_stats(self) -> SystemStats:
        """Process-wide counts and memory (every collection in this process)."""
        m = _json_metrics(None)
        tiers = m["pool"]["tiers"]
        memory = m["memory_bytes"]
        return SystemStats(
            collection_count=len(self.list_collections()), vector_count=m["vectors"],
            memory_usage_mb=sum(memory.values()) / 2**20,
            avg_search_time_ms=m["search_latency_us"]["mean"] / 1000,
            cache_hits=sum(t["hits"] for t in tiers),
            cache_misses=sum(t["misses_too_big"] + t["misses_empty"] for t in tiers))

    def close(self) -> None:
        """Closes the database (checkpointing it); its collections stop working."""
        self.database.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
