"""Loading libvexfs and declaring the C functions the package calls (ctypes).

The library is found, in order: the VEXFS_LIBRARY environment variable, the copy bundled inside
this package, then the system's libvexfs.so.1.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os

_P = ctypes.c_void_p
_U32, _U64, _SIZE = ctypes.c_uint32, ctypes.c_uint64, ctypes.c_size_t


class Config(ctypes.Structure):
    """struct vexfs_collection_config (include/vexfs/vexfs.h), field for field."""

    _fields_ = [("struct_size", _U32), ("dim", _U32), ("metric", ctypes.c_int), ("index", ctypes.c_int),
                ("hnsw_m", _U32), ("hnsw_ef_construction", _U32), ("hnsw_ef_search", _U32),
                ("threads", _U32), ("hnsw_seed", _U64),
                ("lsh_tables", _U32), ("lsh_bits", _U32), ("lsh_probes", _U32),
                ("lsh_bucket_width", ctypes.c_float), ("ivf_nlist", _U32), ("ivf_nprobe", _U32),
                ("ivf_codes", ctypes.c_int), ("lsh_projection", ctypes.c_int),
                ("storage", ctypes.c_int), ("rerank", ctypes.c_int)]


class SearchParams(ctypes.Structure):
    """struct vexfs_search_params (include/vexfs/vexfs.h), field for field."""

    _fields_ = [("struct_size", _U32), ("ef", _U32), ("filter_json", ctypes.c_char_p),
                ("threads", _U32), ("padding_0_1", _U32), ("probes", _U32), ("nprobe", _U32),
                ("exact", _U32), ("padding_0_4", _U32)]


class DbOptions(ctypes.Structure):
    """struct vexfs_db_options (include/vexfs/vexfs.h), field for field."""

    _fields_ = [("struct_size", _U32), ("sync", ctypes.c_int), ("read_only", _U32),
                ("wal_checkpoint_bytes", _U64)]


def _candidates() -> list[str]:
    found = []
    if os.environ.get("VEXFS_LIBRARY"):
        found.append(os.environ["VEXFS_LIBRARY"])
    bundled = os.path.join(os.path.dirname(os.path.abspath(__file__)), "libvexfs.so.1")
    if os.path.exists(bundled):
        found.append(bundled)
    found.append("libvexfs.so.1")
    return found


def _load() -> tuple[ctypes.CDLL, str]:
    errors = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            errors.append(f"{path}: {e}")
            if path == os.environ.get("VEXFS_LIBRARY"):
                break  # an explicit choice that fails is an error, not a hint
    raise ImportError("cannot load libvexfs: " + "; ".join(errors))


lib, path = _load()

_sigs = {
    "vexfs_version_string": (ctypes.c_char_p, []),
    "vexfs_version_number": (_U32, []),
    "vexfs_simd_isa": (ctypes.c_char_p, []),
    "vexfs_last_error": (ctypes.c_char_p, []),
    "vexfs_status_string": (ctypes.c_char_p, [ctypes.c_int]),
    "vexfs_status_name": (ctypes.c_char_p, [ctypes.c_int]),
    # the sized _init functions: the library fills exactly ctypes.sizeof of our structs
    "vexfs_collection_config_init_sized": (None, [_P, _SIZE]),
    "vexfs_search_params_init_sized": (None, [_P, _SIZE]),
    "vexfs_collection_create": (ctypes.c_int, [_P, _P]),
    "vexfs_collection_free": (None, [_P]),
    "vexfs_insert": (ctypes.c_int, [_P, _P, _P, _SIZE]),
    "vexfs_search": (ctypes.c_int, [_P, _P, _SIZE, _SIZE, _P, _P, _P, _P]),
    "vexfs_remove": (ctypes.c_int, [_P, _P, _SIZE]),
    "vexfs_get": (ctypes.c_int, [_P, _U64, _P]),
    "vexfs_count": (_SIZE, [_P]),
    "vexfs_dim": (_U32, [_P]),
    "vexfs_metrics_json": (_P, [_P]),
    "vexfs_metrics_prometheus": (_P, [_P]),
    "vexfs_metrics_reset": (None, [_P]),
    "vexfs_free": (None, [_P]),
    "vexfs_insert_with_payload": (ctypes.c_int, [_P, _P, _P, _P, _SIZE]),
    "vexfs_upsert": (ctypes.c_int, [_P, _P, _P, _P, _SIZE]),
    "vexfs_get_payload": (ctypes.c_int, [_P, _U64, _P]),
    "vexfs_set_payload": (ctypes.c_int, [_P, _U64, ctypes.c_char_p, ctypes.c_int]),
    "vexfs_create_payload_index": (ctypes.c_int, [_P, ctypes.c_char_p, ctypes.c_int]),
    "vexfs_drop_payload_index": (ctypes.c_int, [_P, ctypes.c_char_p, ctypes.c_int]),
    "vexfs_search_with_payload": (ctypes.c_int, [_P, _P, _SIZE, _SIZE, _P, _P, _P, _P, _P]),
    "vexfs_collection_get_config": (ctypes.c_int, [_P, _P]),
    "vexfs_list_ids": (ctypes.c_int, [_P, _P, _P]),
    "vexfs_db_options_init_sized": (None, [_P, _SIZE]),
    "vexfs_db_open": (ctypes.c_int, [ctypes.c_char_p, _P, _P]),
    "vexfs_db_close": (ctypes.c_int, [_P]),
    "vexfs_db_checkpoint": (ctypes.c_int, [_P]),
    "vexfs_db_create_collection": (ctypes.c_int, [_P, ctypes.c_char_p, _P, _P]),
    "vexfs_db_get_collection": (ctypes.c_int, [_P, ctypes.c_char_p, _P]),
    "vexfs_db_drop_collection": (ctypes.c_int, [_P, ctypes.c_char_p]),
    "vexfs_db_list_collections": (ctypes.c_int, [_P, _P, _P]),
    "vexfs_db_check": (ctypes.c_int, [ctypes.c_char_p, _P]),
}
for _name, (_res, _args) in _sigs.items():
    _f = getattr(lib, _name)
    _f.restype, _f.argtypes = _res, _args

# The same library through a second handle whose functions have no argtypes: callers pass ctypes
# objects only (c_void_p, c_size_t, arrays, byref), for hot paths. Same dlopen'ed copy.
unchecked = ctypes.CDLL(path)
unchecked.vexfs_search.restype = ctypes.c_int
