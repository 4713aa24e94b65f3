"""vexfs.Collection: an in-memory collection of float32 vectors with uint64 ids."""
from __future__ import annotations

import ctypes
import json
import threading
from typing import Any, Iterable, Sequence

from . import _native
from ._arguments import (MAX_K, U64_MAX, address, c_text, choice, float_rows, id_array,
                         integer, is_one_query, json_text, np, one_id, real)
from ._native import lib
from .errors import InvalidArgumentError, check

_CLOSED = "the collection is closed (by close(), by dropping it, or by closing its database)"

_F32 = np.dtype(np.float32) if np is not None else None
_METRICS = {"l2": 1, "ip": 2, "cosine": 3}
_INDEXES = {"auto": 0, "flat": 1, "hnsw": 2, "lsh": 3, "ivf": 4}
_PROJECTIONS = {"random": 0, "learned": 1}
_IVF_CODES = {"f32": 0, "sq8": 1}
_STORAGES = {"f32": 0, "f16": 1, "sq8": 2, "sq4": 3}
_RERANKS = {"in_memory": 0, "mapped": 1, "none": 2}
_PAYLOAD_INDEXES = {"keyword": 1, "numeric": 2}
_METRIC_NAMES = {v: k for k, v in _METRICS.items()}
_INDEX_NAMES = {v: k for k, v in _INDEXES.items()}
_PROJECTION_NAMES = {v: k for k, v in _PROJECTIONS.items()}
_IVF_CODE_NAMES = {v: k for k, v in _IVF_CODES.items()}
_STORAGE_NAMES = {v: k for k, v in _STORAGES.items()}
_RERANK_NAMES = {v: k for k, v in _RERANKS.items()}

# Keyword options of the LSH and IVF indexes and of storage: name -> (config field, converter).
# 0 (and "random", "f32", "in_memory") are the library's defaults.
_INDEX_OPTIONS = {
    "lsh_tables": ("lsh_tables", integer), "lsh_bits": ("lsh_bits", integer),
    "lsh_probes": ("lsh_probes", integer), "lsh_bucket_width": ("lsh_bucket_width", real),
    "lsh_projection": ("lsh_projection", lambda v, what: choice(v, _PROJECTIONS, what)),
    "ivf_nlist": ("ivf_nlist", integer), "nprobe": ("ivf_nprobe", integer),
    "ivf_codes": ("ivf_codes", lambda v, what: choice(v, _IVF_CODES, what)),
    "storage": ("storage", lambda v, what: choice(v, _STORAGES, what)),
    "rerank": ("rerank", lambda v, what: choice(v, _RERANKS, what)),
}


def _config(dim: int, metric: str, index: str, m: int, ef_construction: int, ef_search: int,
            threads: int, seed: int, index_options: dict) -> "_native.Config":
    """A filled vexfs_collection_config: names checked, numbers exact in their C types (the
    library checks their ranges)."""
    cfg = _native.Config()
    lib.vexfs_collection_config_init_sized(ctypes.byref(cfg), ctypes.sizeof(cfg))
    cfg.dim = integer(dim, "dim")
    cfg.metric, cfg.index = choice(metric, _METRICS, "metric"), choice(index, _INDEXES, "index")
    cfg.hnsw_m = integer(m, "m")
    cfg.hnsw_ef_construction = integer(ef_construction, "ef_construction")
    cfg.hnsw_ef_search = integer(ef_search, "ef_search")
    cfg.threads, cfg.hnsw_seed = integer(threads, "threads"), integer(seed, "seed", 0, U64_MAX)
    unknown = sorted(set(index_options) - set(_INDEX_OPTIONS))
    if unknown:
        raise InvalidArgumentError(f"unknown index option(s) {unknown}; known: "
                                   f"{sorted(_INDEX_OPTIONS)}")
    for name, value in index_options.items():
        field, convert = _INDEX_OPTIONS[name]
        setattr(cfg, field, convert(value, name))
    return cfg


def _take_json(raw: int | None) -> dict | None:
    """Decodes (and frees) a JSON string the library returned; None for NULL."""
    if not raw:
        return None
    try:
        return json.loads(ctypes.string_at(raw).decode())
    finally:
        lib.vexfs_free(raw)


class _Outputs(threading.local):
    """Per-thread result buffers for single-query searches, by k: ctypes arrays the call writes
    (arrays pass as pointers; the count's pointer is made once), numpy views of them to copy the
    hits out of, and k as a ready C size_t (passed by value). Building any of these
    per call costs more than the search call's own overhead."""

    def __init__(self) -> None:
        self.by_k: dict = {}

    def get(self, k: int) -> tuple:
        """This thread's buffers for k hits, made on first use."""
        out = self.by_k.get(k)
        if out is None:
            ids, dist, count = (ctypes.c_uint64 * k)(), (ctypes.c_float * k)(), ctypes.c_size_t()
            out = (ids, dist, count, ctypes.byref(count), np.frombuffer(ids, dtype=np.uint64),
                   np.frombuffer(dist, dtype=np.float32), ctypes.c_size_t(k))
            self.by_k[k] = out
        return out


_outputs = _Outputs()
# vexfs_search without argtypes, for the single-query path: every argument is passed as a ready
# ctypes object, which skips per-argument conversion (a fifth of the binding's cost per call).
_search_unchecked = _native.unchecked.vexfs_search
_ONE = ctypes.c_size_t(1)
_NDARRAY = np.ndarray if np is not None else None
_KEY_TYPES = frozenset({int, type(None)})  # search knobs whose params may be looked up


class Collection:
    """A collection of `dim`-dimensional float32 vectors with uint64 ids.

    metric: "l2" (squared euclidean), "ip" (1 - dot) or "cosine" (1 - cos).
    index: "auto" (exact while small, IVF from 1 280-2 560 vectors by dim), "flat"
    (exact), "hnsw" (graph), "lsh" (multi-probe hashing) or "ivf" (inverted file).
    Index options (keywords; 0 lets the index choose, see README "LSH" and "IVF"): lsh_tables,
    lsh_bits, lsh_probes (buckets probed per table), lsh_bucket_width (L2; a real number),
    lsh_projection ("random" or "learned"), ivf_nlist, nprobe (IVF lists scanned by default),
    ivf_codes ("f32" or "sq8"); storage ("f32", or for index "flat" and "hnsw" "f16", "sq8",
    "sq4": codes searches score, the best re-scored on the exact copy) and rerank (where that copy
    lives: "in_memory"; "mapped" for a Database's collections: in the database's row files from
    each checkpoint on, read through the page cache; "none" with a coded storage: no copy, get()
    returns the decoded vector; see README "Memory").
    Thread-safe: searches run concurrently with each other and with writes; the GIL is released
    during every C call.

    What C cannot take exactly raises InvalidArgumentError before any C call, so nothing changes:
    ids are integers 0 .. 2**64 - 2 (ints, numpy integers, integer arrays of any dtype; never
    floats, bools or strings); vectors are rows of real numbers (rounded to float32 once; not
    complex, bool, str or object values, not ragged); integers fit their C type (dim, m,
    ef_construction, ef_search, threads and the index options: 0 .. 2**32 - 1; seed: 0 ..
    2**64 - 1); text (payload JSON, filters, keys) holds no NUL.
    """

    def __init__(self, dim: int, metric: str = "l2", index: str = "auto", m: int = 16,
                 ef_construction: int = 200, ef_search: int = 64, threads: int = 0,
                 seed: int = 0, **index_options: Any):
        cfg = _config(dim, metric, index, m, ef_construction, ef_search, threads, seed,
                      index_options)
        handle = ctypes.c_void_p()
        check(lib.vexfs_collection_create(ctypes.byref(cfg), ctypes.byref(handle)))
        self._adopt(handle, None, None)

    @classmethod
    def _borrowed(cls, handle: ctypes.c_void_p, owner: Any, name: str) -> "Collection":
        """A collection that belongs to a database (`owner`, kept alive by it): closing it here
        never frees it; the database invalidates it when it is dropped or the database closed."""
        c = cls.__new__(cls)
        c._adopt(handle, owner, name)
        return c

    def _adopt(self, handle: ctypes.c_void_p, owner: Any, name: str | None) -> None:
        cfg = _native.Config()
        lib.vexfs_collection_config_init_sized(ctypes.byref(cfg), ctypes.sizeof(cfg))
        check(lib.vexfs_collection_get_config(handle, ctypes.byref(cfg)))
        self._c, self._owner, self.name = handle, owner, name
        self.metric = _METRIC_NAMES[cfg.metric]
        self.index = _INDEX_NAMES[cfg.index]
        self._dim = cfg.dim
        self._cfg = cfg
        self._params: dict = {}  # (ef, threads, probes, nprobe) -> vexfs_search_params, reused

    def config(self) -> dict:
        """The configuration the collection was created with (read back from the library)."""
        cfg = self._cfg
        return {"dim": cfg.dim, "metric": self.metric, "index": self.index, "m": cfg.hnsw_m,
                "ef_construction": cfg.hnsw_ef_construction, "ef_search": cfg.hnsw_ef_search,
                "threads": cfg.threads, "seed": cfg.hnsw_seed, "lsh_tables": cfg.lsh_tables,
                "lsh_bits": cfg.lsh_bits, "lsh_probes": cfg.lsh_probes,
                "lsh_bucket_width": cfg.lsh_bucket_width,
                "lsh_projection": _PROJECTION_NAMES[cfg.lsh_projection],
                "ivf_nlist": cfg.ivf_nlist, "nprobe": cfg.ivf_nprobe,
                "ivf_codes": _IVF_CODE_NAMES[cfg.ivf_codes],
                "storage": _STORAGE_NAMES[cfg.storage], "rerank": _RERANK_NAMES[cfg.rerank]}

    def close(self) -> None:
        """Frees a standalone collection now (otherwise on garbage collection). For a database's
        collection it only lets go of this object: the database keeps the data."""
        if getattr(self, "_c", None):
            if self._owner is None:
                lib.vexfs_collection_free(self._c)
            self._c = None

    __del__ = close

    def _invalidate(self) -> None:
        """Called by the owning database when the collection is dropped or the database closed."""
        self._c = None

    def __enter__(self) -> "Collection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _handle(self) -> ctypes.c_void_p:
        if not self._c:
            raise InvalidArgumentError(_CLOSED)
        return self._c

    @property
    def dim(self) -> int:
        """The vectors' dimension."""
        return self._dim

    def _params_for(self, key: tuple, filter: dict | str | None):
        """(pointer, keep-alive) of new vexfs_search_params for key = (ef, threads, probes,
        nprobe, exact) (None or 0: the collection's setting) and filter, checked; unfiltered ones
        are kept in self._params under key, where search looks first."""
        ef, threads, probes, nprobe, exact = key
        if type(exact) is not bool:
            raise InvalidArgumentError(f"exact must be True or False, not {exact!r}")
        params = _native.SearchParams()
        lib.vexfs_search_params_init_sized(ctypes.byref(params), ctypes.sizeof(params))
        params.ef = 0 if ef is None else integer(ef, "ef")
        params.threads = integer(threads, "threads")
        params.probes = 0 if probes is None else integer(probes, "probes")
        params.nprobe = 0 if nprobe is None else integer(nprobe, "nprobe")
        params.exact = int(exact)
        if filter is not None:
            params._filter = json_text(filter, "filter")  # kept alive with the struct
            params.filter_json = params._filter
            return ctypes.byref(params), params
        entry = (ctypes.byref(params), params)
        self._params[key] = entry
        return entry

    def __len__(self) -> int:
        return lib.vexfs_count(self._handle())

    def add(self, ids: Iterable[int], vectors: Any,
            payloads: Sequence[dict | str | None] | None = None) -> None:
        """Inserts vectors (rows of dim numbers) under ids (a sequence or integer array), all or
        nothing (one C call for the whole batch). payloads: one JSON object per vector (a dict,
        or JSON text), or None for none."""
        self._write(ids, vectors, payloads, upsert=False)

    batch_insert = add

    def upsert(self, ids: Iterable[int], vectors: Any,
               payloads: Sequence[dict | str | None] | None = None) -> None:
        """As add, but ids already present are replaced (vector and payload; None leaves the
        point without one), all or nothing: one log record in a database."""
        self._write(ids, vectors, payloads, upsert=True)

    def _write(self, ids: Iterable[int], vectors: Any,
               payloads: Sequence[dict | str | None] | None, upsert: bool) -> None:
        ptr, rows, keep = float_rows(vectors, self._dim)
        idp, n, keep_ids = id_array(ids)
        if n != rows:
            raise InvalidArgumentError(f"{n} ids for {rows} vectors")
        texts = None
        if payloads is not None:
            payloads = list(payloads)
            if len(payloads) != n:
                raise InvalidArgumentError(f"{len(payloads)} payloads for {n} vectors")
            texts = (ctypes.c_char_p * n)(*(None if p is None else json_text(p, f"payload {i}")
                                            for i, p in enumerate(payloads)))
        if upsert:
            check(lib.vexfs_upsert(self._handle(), idp, ptr, texts, n))
        elif texts is None:
            check(lib.vexfs_insert(self._handle(), idp, ptr, n))
        else:
            check(lib.vexfs_insert_with_payload(self._handle(), idp, ptr, texts, n))

    def search(self, queries: Any, k: int = 10, ef: int | None = None,
               filter: dict | str | None = None, threads: int = 0,
               with_payload: bool = False, probes: int | None = None,
               nprobe: int | None = None, exact: bool = False) -> tuple:
        """k nearest neighbours. One query (a 1-D vector): arrays of its hits only, at most k,
        nearest first. Several (2-D): arrays shaped (nq, k); missing hits have id NO_ID and
        distance inf. Returns (ids uint64, distances float32), numpy arrays when numpy is there.

        filter: a Qdrant-style filter over payloads and ids, e.g.
        {"must": [{"key": "category", "match": {"value": "tech"}}]}; only admitted vectors are
        returned (k of them whenever k are admitted).
        with_payload: also return the hits' payloads (dicts, None where a hit has none) as a third
        element: a list for one query, a list of lists (one per query, k long) for several.

        k: 1 .. VEXFS_MAX_K (2**24); ef (HNSW; None or 0: the collection's ef_search), probes
        (LSH buckets per table; None or 0: the collection's lsh_probes), nprobe (IVF lists; None
        or 0: the collection's) and threads (0: all cores) are integers 0 .. 2**32 - 1.
        exact=True scores every (admitted) vector exactly, whatever the index."""
        if type(k) is not int or not 0 < k <= MAX_K:  # checked before buffers of k are made
            k = integer(k, "k", 1, MAX_K)
        handle = self._c
        if not handle:
            raise InvalidArgumentError(_CLOSED)
        # params made before are looked up for exact types only: 1.0 and True would find 1's
        # (they hash and compare equal)
        key = (ef, threads, probes, nprobe, exact)
        cacheable = (filter is None and type(threads) is int and type(ef) in _KEY_TYPES
                     and type(probes) in _KEY_TYPES and type(nprobe) in _KEY_TYPES
                     and type(exact) is bool)
        entry = self._params.get(key) if cacheable else None
        params = (entry or self._params_for(key, filter))[0]
        if with_payload:
            return self._search_with_payload(handle, queries, k, params)
        if (type(queries) is _NDARRAY and queries.dtype is _F32 and queries.ndim == 1
                and queries.strides == (4,)):
            # the common case, one float32 vector: straight through
            if queries.shape[0] != self._dim:
                raise InvalidArgumentError(f"expected {self._dim} floats, got {queries.shape[0]}")
            ids, dist, count, count_at, ids_view, dist_view, k_arg = _outputs.get(k)
            try:  # a writable buffer's address is three times cheaper to take this way
                at = ctypes.byref(ctypes.c_char.from_buffer(queries))
            except TypeError:  # read-only array
                at = ctypes.c_void_p(queries.ctypes.data)
            st = _search_unchecked(handle, at, _ONE, k_arg, params, ids, dist, count_at)
            if st:
                check(st)
            n = count.value
            return ids_view[:n].copy(), dist_view[:n].copy()
        ptr, nq, keep = float_rows(queries, self._dim)
        single = is_one_query(queries)
        if np is not None:
            ids = np.empty((nq, k), dtype=np.uint64)
            dist = np.empty((nq, k), dtype=np.float32)
            counts = np.empty(nq, dtype=np.uintp)
            check(lib.vexfs_search(handle, ptr, nq, k, params, address(ids), address(dist),
                                   address(counts)))
            if single:
                return ids[0, :counts[0]], dist[0, :counts[0]]
            return ids, dist
        ids = (ctypes.c_uint64 * (nq * k))()
        dist = (ctypes.c_float * (nq * k))()
        counts = (ctypes.c_size_t * nq)()
        check(lib.vexfs_search(handle, ptr, nq, k, params, ids, dist, counts))
        rows = [(list(ids[q * k:(q + 1) * k]), list(dist[q * k:(q + 1) * k])) for q in range(nq)]
        if single:
            return rows[0][0][:counts[0]], rows[0][1][:counts[0]]
        return [r[0] for r in rows], [r[1] for r in rows]

    def _search_with_payload(self, handle: ctypes.c_void_p, queries: Any, k: int, params: Any):
        ptr, nq, keep = float_rows(queries, self._dim)
        single = is_one_query(queries)
        ids = (ctypes.c_uint64 * (nq * k))()
        dist = (ctypes.c_float * (nq * k))()
        counts = (ctypes.c_size_t * nq)()
        raw = (ctypes.c_void_p * (nq * k))()
        check(lib.vexfs_search_with_payload(handle, ptr, nq, k, params, ids, dist, counts, raw))
        payloads = [_take_json(p) for p in raw]  # frees every string
        if np is not None:
            ids_a = np.frombuffer(ids, dtype=np.uint64).reshape(nq, k).copy()
            dist_a = np.frombuffer(dist, dtype=np.float32).reshape(nq, k).copy()
        else:
            ids_a = [list(ids[q * k:(q + 1) * k]) for q in range(nq)]
            dist_a = [list(dist[q * k:(q + 1) * k]) for q in range(nq)]
        rows = [payloads[q * k:(q + 1) * k] for q in range(nq)]
        if single:
            n = counts[0]
            return ids_a[0][:n], dist_a[0][:n], rows[0][:n]
        return ids_a, dist_a, rows

    def get_payload(self, id: int) -> dict | None:
        """The payload stored with id (a dict), or None when it has none."""
        raw = ctypes.c_void_p()
        check(lib.vexfs_get_payload(self._handle(), one_id(id), ctypes.byref(raw)))
        return _take_json(raw.value)

    def set_payload(self, id: int, payload: dict | str | None, merge: bool = False) -> None:
        """Replaces the payload of id (None drops it), or with merge=True sets the given top-level
        keys over the existing ones."""
        id = one_id(id)
        text = None if payload is None else json_text(payload, "payload")
        check(lib.vexfs_set_payload(self._handle(), id, text, 1 if merge else 0))

    def create_payload_index(self, key: str, kind: str = "keyword") -> None:
        """Indexes a payload key (a dotted path) so that filters on it are planned from the index:
        kind "keyword" (match on strings, integers, booleans) or "numeric" (range)."""
        check(lib.vexfs_create_payload_index(self._handle(), c_text(key, "key"),
                                             choice(kind, _PAYLOAD_INDEXES, "kind")))

    def drop_payload_index(self, key: str, kind: str = "keyword") -> None:
        """Drops the index create_payload_index made."""
        check(lib.vexfs_drop_payload_index(self._handle(), c_text(key, "key"),
                                           choice(kind, _PAYLOAD_INDEXES, "kind")))

    def remove(self, ids: Iterable[int] | int) -> None:
        """Removes ids (one, or a sequence or integer array of them), all or nothing."""
        idp, n, keep = id_array(ids)
        check(lib.vexfs_remove(self._handle(), idp, n))

    def get(self, id: int) -> Any:
        """The vector stored under id (numpy float32 array, or a list without numpy)."""
        out = (ctypes.c_float * self._dim)()
        check(lib.vexfs_get(self._handle(), one_id(id), out))
        return np.array(out, dtype=np.float32) if np is not None else list(out)

    def ids(self) -> Any:
        """Every id in the collection, ascending (numpy uint64 array, or a list without numpy)."""
        raw, n = ctypes.c_void_p(), ctypes.c_size_t()
        check(lib.vexfs_list_ids(self._handle(), ctypes.byref(raw), ctypes.byref(n)))
        if not raw.value:
            return np.empty(0, dtype=np.uint64) if np is not None else []
        try:
            view = (ctypes.c_uint64 * n.value).from_address(raw.value)
            return np.frombuffer(view, dtype=np.uint64).copy() if np is not None else list(view)
        finally:
            lib.vexfs_free(raw)

    def metrics(self) -> dict:
        """This collection's metrics (see the C vexfs_metrics_json for the keys)."""
        return _json_metrics(self._handle())


def _json_metrics(handle: ctypes.c_void_p | None) -> dict:
    raw = lib.vexfs_metrics_json(handle)
    if not raw:
        check(2)
    return _take_json(raw)
