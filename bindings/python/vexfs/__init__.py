"""vexfs: embeddable vector search (Python bindings for libvexfs, through ctypes).

    import vexfs
    c = vexfs.Collection(dim=128, metric="cosine")
    c.add(ids, vectors)                  # numpy float32 rows cross without a copy
    ids, distances = c.search(query, k=10)

    with vexfs.Database("my.db") as db:      # durable named collections (None: in memory)
        docs = db.create_collection("docs", dim=128)

vexfs.Client(path) offers the VexFS SDK's names (create_collection(name=, dimension=, ...),
collection.search(vector=, limit=) -> results with .id/.score/.metadata) over the same;
vexfs.Client(endpoint="http://host:port", api_key=...) is a vexfs.RemoteClient with those calls,
answered by a vexfs-server (/api/v1).

VEXFS_LIBRARY=/path/libvexfs.so.1 chooses the library; otherwise the copy bundled in this package,
then the system's libvexfs.so.1.
"""
from __future__ import annotations

from . import _native
from ._arguments import NO_ID
from .client import (Client, ClientCollection, CollectionStats, InsertResult, PerformanceMetrics,
                     PerformanceStats, SearchResult, SystemStats)
from .collection import Collection, _json_metrics
from .database import Database
from .errors import (AlreadyExistsError, AuthenticationError, BusyError, CorruptError,
                     DimensionError, InvalidArgumentError, NotFoundError, OutOfMemoryError,
                     ReadOnlyError, StateError, UnsupportedError, VexfsConnectionError,
                     VexfsError, VexfsIOError, VexfsTimeoutError)
from .remote import RemoteClient, RemoteCollection

__version__ = _native.lib.vexfs_version_string().decode()
library_path = _native.path

__all__ = ["Collection", "Database", "NO_ID", "VexfsError", "InvalidArgumentError",
           "OutOfMemoryError", "DimensionError", "NotFoundError", "AlreadyExistsError",
           "VexfsIOError", "CorruptError", "UnsupportedError", "ReadOnlyError", "StateError",
           "BusyError", "AuthenticationError", "VexfsConnectionError", "VexfsTimeoutError",
           "Client", "ClientCollection", "RemoteClient", "RemoteCollection", "SearchResult",
           "InsertResult", "PerformanceStats", "CollectionStats", "SystemStats", "PerformanceMetrics", "simd_isa",
           "metrics", "__version__", "library_path"]


def simd_isa() -> str:
    """The instruction set the distance kernels use: scalar, avx2, avx2vnni, avx512, avx512vnni
    or neon."""
    return _native.lib.vexfs_simd_isa().decode()


def metrics() -> dict:
    """Process-wide metrics, every collection's together."""
    return _json_metrics(None)
