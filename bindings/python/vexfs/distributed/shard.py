"""The worker side: one shard is one collection in a vexfs.Database, held by a Dask actor.

Dask runs an actor's methods one at a time, on its worker's actor thread; each call is one
libvexfs call (or a few reads), which releases the GIL while it works. Arguments arrive already
checked by the client (batch.py), so what a shard raises comes from its contents or its machine.
"""
from __future__ import annotations

import os

import numpy as np

from ..collection import Collection
from ..database import Database
from ..errors import NotFoundError


class Shard:
    """A shard's database and collection. path None: in memory. create: make the collection
    (config: vexfs.Database.create_collection's keywords) in a database that must hold none by
    that name; otherwise open the existing one."""

    def __init__(self, path: str | None, name: str, create: bool, config: dict, sync: str):
        if path is not None and not create and not os.path.isdir(path):
            raise NotFoundError(f"{path}: the shard's database directory is missing")
        self._db = Database(path, sync=sync)
        try:
            if create:
                self._c = self._db.create_collection(name, **config)
            else:
                self._c = self._db.get_collection(name)
        except BaseException:
            self._db.close()
            raise

    def pid(self) -> int:
        """The worker process holding this shard."""
        return os.getpid()

    def add(self, ids: np.ndarray, rows: np.ndarray, payloads: list | None,
            upsert: bool) -> None:
        if upsert:
            self._c.upsert(ids, rows, payloads)
        else:
            self._c.add(ids, rows, payloads)

    def search(self, queries: np.ndarray, k: int, ef: int | None, filter: bytes | None,
               with_payload: bool, probes: int | None, nprobe: int | None,
               exact: bool) -> tuple:
        """(ids, distances[, payloads]) of shape (nq, k) for 2-D queries."""
        return self._c.search(queries, k=k, ef=ef, filter=filter, with_payload=with_payload,
                              probes=probes, nprobe=nprobe, exact=exact)

    def remove(self, ids: np.ndarray) -> None:
        self._c.remove(ids)

    def get(self, id: int) -> np.ndarray:
        return self._c.get(id)

    def get_payload(self, id: int) -> dict | None:
        return self._c.get_payload(id)

    def set_payload(self, id: int, payload: bytes | None, merge: bool) -> None:
        self._c.set_payload(id, payload, merge=merge)

    def create_payload_index(self, key: str, kind: str) -> None:
        self._c.create_payload_index(key, kind)

    def drop_payload_index(self, key: str, kind: str) -> None:
        self._c.drop_payload_index(key, kind)

    def count(self) -> int:
        return len(self._c)

    def ids(self) -> np.ndarray:
        return self._c.ids()

    def metrics(self) -> dict:
        return self._c.metrics()

    def checkpoint(self) -> None:
        self._db.checkpoint()

    def close(self) -> None:
        """Checkpoints and closes the database; later calls raise InvalidArgumentError."""
        self._db.close()

    def config(self) -> dict:
        """The collection's configuration (vexfs.Collection.config)."""
        return self._c.config()

    def holds(self, ids: np.ndarray, rows: np.ndarray, payloads: list | None) -> bool:
        """Whether every id is here with exactly this vector and payload: what an add that was
        cut off by a lost worker leaves when it had in fact been applied. Payloads are compared
        as the library stores them (numbers past 64 bits become doubles, and so on): each one
        given is stored once in a scratch collection and read back."""
        present = set(self._c.ids().tolist())
        if payloads is not None:
            scratch = Collection(1, index="flat", threads=1)
            scratch.add(np.arange(len(payloads)), np.zeros((len(payloads), 1), np.float32),
                        payloads)
        try:
            for i, id in enumerate(ids.tolist()):
                if id not in present or not np.array_equal(self._c.get(id), rows[i]):
                    return False
                stored = None if payloads is None else scratch.get_payload(i)
                if self._c.get_payload(id) != stored:
                    return False
            return True
        finally:
            if payloads is not None:
                scratch.close()

    def holds_none(self, ids: np.ndarray) -> bool:
        """Whether none of ids is here: what a remove that had been applied leaves."""
        return not set(ids.tolist()) & set(self._c.ids().tolist())
