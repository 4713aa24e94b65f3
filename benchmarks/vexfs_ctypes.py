"""The few libvexfs calls the benchmarks need, through ctypes (the Python package is separate)."""
import ctypes
import os

import numpy as np

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_lib = ctypes.CDLL(os.environ.get("VEXFS_LIBRARY", os.path.join(_ROOT, "build/lib/libvexfs.so.1")))


class _Config(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint32) for n in ("struct_size", "dim", "metric", "index", "hnsw_m",
                                               "hnsw_ef_construction", "hnsw_ef_search", "threads")]


class _Params(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("ef", ctypes.c_uint32),
                ("filter_json", ctypes.c_char_p), ("threads", ctypes.c_uint32)]


_lib.vexfs_last_error.restype = ctypes.c_char_p
_lib.vexfs_simd_isa.restype = ctypes.c_char_p
_lib.vexfs_version_string.restype = ctypes.c_char_p
_P = ctypes.c_void_p
_lib.vexfs_insert.argtypes = [_P, _P, _P, ctypes.c_size_t]
_lib.vexfs_search.argtypes = [_P, _P, ctypes.c_size_t, ctypes.c_size_t, _P, _P, _P, _P]
_lib.vexfs_collection_free.argtypes = [_P]


def _check(status):
    if status != 0:
        raise RuntimeError(_lib.vexfs_last_error().decode())


class Flat:
    """An exact L2 collection holding `vectors` (ids 0..n-1)."""

    def __init__(self, vectors, threads=1, metric=1, index=1):
        cfg = _Config()
        _lib.vexfs_collection_config_init(ctypes.byref(cfg))
        cfg.dim, cfg.metric, cfg.index, cfg.threads = vectors.shape[1], metric, index, threads
        self._c = _P()
        _check(_lib.vexfs_collection_create(ctypes.byref(cfg), ctypes.byref(self._c)))
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        ids = np.arange(len(vectors), dtype=np.uint64)
        _check(_lib.vexfs_insert(self._c, ids.ctypes.data, vectors.ctypes.data, len(vectors)))
        self._params = _Params()
        _lib.vexfs_search_params_init(ctypes.byref(self._params))
        self._params.threads = threads
        self.version = _lib.vexfs_version_string().decode()
        self.isa = _lib.vexfs_simd_isa().decode()

    def search(self, queries, k):
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        ids = np.empty((len(queries), k), dtype=np.uint64)
        dist = np.empty((len(queries), k), dtype=np.float32)
        _check(_lib.vexfs_search(self._c, queries.ctypes.data, len(queries), k,
                                 ctypes.byref(self._params), ids.ctypes.data, dist.ctypes.data,
                                 None))
        return ids, dist

    def __del__(self):
        _lib.vexfs_collection_free(self._c)
