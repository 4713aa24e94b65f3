"""vexfs: embeddable vector search (Python bindings for libvexfs, through ctypes).

    import vexfs
    c = vexfs.Collection(dim=128, metric="cosine")
    c.add(ids, vectors)                  # numpy float32 rows cross without a copy
    ids, distances = c.search(query, k=10)

VEXFS_LIBRARY=/path/libvexfs.so.1 chooses the library; otherwise the copy bundled in this package,
then the system's libvexfs.so.1.
"""
from __future__ import annotations

from . import _native
from .collection import NO_ID, Collection, _json_metrics
from .errors import (AlreadyExistsError, CorruptError, DimensionError, InvalidArgumentError,
                     NotFoundError, OutOfMemoryError, ReadOnlyError, StateError,
                     UnsupportedError, VexfsError, VexfsIOError)

__version__ = _native.lib.vexfs_version_string().decode()
library_path = _native.path

__all__ = ["Collection", "NO_ID", "VexfsError", "InvalidArgumentError", "OutOfMemoryError",
           "DimensionError", "NotFoundError", "AlreadyExistsError", "VexfsIOError", "CorruptError",
           "UnsupportedError", "ReadOnlyError", "StateError", "simd_isa", "metrics",
           "__version__", "library_path"]


def simd_isa() -> str:
    """The instruction set the distance kernels use: scalar, avx2, avx512 or neon."""
    return _native.lib.vexfs_simd_isa().decode()


def metrics() -> dict:
    """Process-wide metrics, every collection's together."""
    return _json_metrics(None)
