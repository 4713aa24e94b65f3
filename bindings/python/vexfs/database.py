"""vexfs.Database: named collections that persist in a directory (or live in memory)."""
from __future__ import annotations

import ctypes
import os
import threading
import weakref
from typing import Any

from . import _native
from ._arguments import U64_MAX, c_path, c_text, choice, integer
from ._native import lib
from .collection import Collection, _config, _take_json
from .errors import InvalidArgumentError, check

_SYNC = {"off": 0, "normal": 1, "full": 2}


class Database:
    """A database: a directory of named collections (path), or an in-memory one (path=None).

    sync: "full" (default; a call that returned survives kill -9 and power loss), "normal"
    (survives a process crash) or "off". read_only: open without writing; several read-only
    handles may share a directory, a writer may not (BusyError). checkpoint_bytes: the log size
    that triggers an automatic checkpoint (0 = never; an integer up to 2**64 - 1).

    Collections it hands out belong to it: the same object for the same name, valid until the
    collection is dropped or the database closed (then their calls raise InvalidArgumentError).
    Thread-safe, but close() must not race other calls on it or its collections.
    """

    def __init__(self, path: str | os.PathLike | None = None, sync: str = "full",
                 read_only: bool = False, checkpoint_bytes: int = 64 << 20):
        opts = _native.DbOptions()
        lib.vexfs_db_options_init_sized(ctypes.byref(opts), ctypes.sizeof(opts))
        opts.sync, opts.read_only = choice(sync, _SYNC, "sync"), bool(read_only)
        opts.wal_checkpoint_bytes = integer(checkpoint_bytes, "checkpoint_bytes", 0, U64_MAX)
        encoded = None if path is None else c_path(path)
        self._db = ctypes.c_void_p()
        self.path = None if path is None else os.fspath(path)
        self.read_only = bool(read_only)
        self._lock = threading.Lock()
        # held weakly: a collection keeps its database alive, not the other way round
        self._collections: "weakref.WeakValueDictionary[str, Collection]" = \
            weakref.WeakValueDictionary()
        check(lib.vexfs_db_open(encoded, ctypes.byref(opts), ctypes.byref(self._db)))

    @staticmethod
    def check(path: str | os.PathLike) -> dict:
        """Verifies the database in directory path without changing it, as SQLite's
        integrity_check does: every snapshot section read back, every log record (a damaged last
        one included, which opening would drop as a torn write), then a read-only load. Returns
        the report: {"ok": True, "snapshot": {...} or None, "log": {...} or None,
        "collections": [{"name", "vectors"}]}. Raises CorruptError naming the damaged file and
        place, BusyError while a writer has the database open, VexfsIOError when path holds no
        database."""
        report = ctypes.c_void_p()
        status = lib.vexfs_db_check(c_path(path), ctypes.byref(report))
        result = _take_json(report.value)
        check(status)
        return result

    def _handle(self) -> ctypes.c_void_p:
        if not self._db:
            raise InvalidArgumentError("the database is closed")
        return self._db

    def _wrap(self, name: str, handle: ctypes.c_void_p) -> Collection:
        c = self._collections.get(name)
        if c is None or not c._c:  # none yet, or the caller closed the last one
            c = self._collections[name] = Collection._borrowed(handle, self, name)
        return c

    def create_collection(self, name: str, dim: int, metric: str = "l2", index: str = "auto",
                          m: int = 16, ef_construction: int = 200, ef_search: int = 64,
                          threads: int = 0, seed: int = 0, **index_options: Any) -> Collection:
        """Creates an empty collection called name (letters, digits, '_', '-', '.'; up to 128
        bytes; not starting with '.'); the parameters, index options included, are those of
        vexfs.Collection. Raises AlreadyExistsError when the name is taken, ReadOnlyError on a
        read-only database."""
        cfg = _config(dim, metric, index, m, ef_construction, ef_search, threads, seed,
                      index_options)
        handle = ctypes.c_void_p()
        with self._lock:
            check(lib.vexfs_db_create_collection(self._handle(), c_text(name, "name"),
                                                 ctypes.byref(cfg), ctypes.byref(handle)))
            return self._wrap(name, handle)

    def get_collection(self, name: str) -> Collection:
        """The collection called name; NotFoundError when there is none."""
        handle = ctypes.c_void_p()
        with self._lock:
            check(lib.vexfs_db_get_collection(self._handle(), c_text(name, "name"),
                                              ctypes.byref(handle)))
            return self._wrap(name, handle)

    def list_collections(self) -> list[str]:
        """The collections' names, sorted."""
        names, n = ctypes.POINTER(ctypes.c_char_p)(), ctypes.c_size_t()
        check(lib.vexfs_db_list_collections(self._handle(), ctypes.byref(names), ctypes.byref(n)))
        try:
            return [names[i].decode() for i in range(n.value)]
        finally:
            lib.vexfs_free(ctypes.cast(names, ctypes.c_void_p))

    def __contains__(self, name: str) -> bool:
        return name in self.list_collections()

    def drop_collection(self, name: str) -> None:
        """Deletes the collection called name and its data; NotFoundError when there is none.
        Its Collection object stops working. Must not race other calls on that collection."""
        with self._lock:
            check(lib.vexfs_db_drop_collection(self._handle(), c_text(name, "name")))
            dropped = self._collections.pop(name, None)
            if dropped is not None:
                dropped._invalidate()

    def checkpoint(self) -> None:
        """Writes every collection to a new snapshot and empties the log (opening then loads
        instead of replaying). Mutations wait while it runs; searches do not."""
        check(lib.vexfs_db_checkpoint(self._handle()))

    def close(self) -> None:
        """Checkpoints (when writable and anything changed) and releases the database and its
        collections. Raises VexfsIOError if the final checkpoint failed: nothing is lost, the log
        is replayed at the next open. Idempotent."""
        with self._lock:
            if not getattr(self, "_db", None):
                return
            for c in list(self._collections.values()):
                c._invalidate()
            self._collections.clear()
            handle, self._db = self._db, None
            check(lib.vexfs_db_close(handle))

    def __del__(self) -> None:
        if getattr(self, "_db", None):  # no collection object is left: each keeps us alive
            lib.vexfs_db_close(self._db)  # nothing to raise to; the log keeps anything unsaved
            self._db = None

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        where = "memory" if self.path is None else repr(self.path)
        state = "closed" if not self._db else ("read-only" if self.read_only else "open")
        return f"<vexfs.Database {where} {state}>"
