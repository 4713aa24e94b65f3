"""ShardedCollection: one logical collection spread over Dask workers, one shard per actor."""
from __future__ import annotations

import asyncio
import json
import operator
import os
import shutil
import threading
import time
import uuid
from concurrent.futures import CancelledError
from typing import Any, Iterable, Sequence

import distributed
import numpy as np

from .. import __version__
from .._arguments import MAX_K, c_text, choice, float_rows, integer, is_one_query, json_text, one_id
from ..collection import Collection
from ..database import _SYNC
from ..errors import (AlreadyExistsError, BusyError, CorruptError, InvalidArgumentError,
                      NotFoundError, VexfsError, VexfsIOError)
from . import manifest
from .batch import id_batch, write_batch
from .errors import ShardError, ShardLostError
from .merge import merge, merge_payloads
from .routing import shard_of, split
from .shard import Shard

# How long a call that failed with a connection error waits for the scheduler to say whether the
# shard's worker is gone (it learns at once from a nanny when a worker process dies).
LOST_WAIT_S = 30.0
# How long reopening a shard waits, for a live worker to appear and for the dead one's lock.
REOPEN_WAIT_S = 60.0
POLL_S = 0.5  # how often a call waiting on shards asks the scheduler whether their workers live
_WAIT_TIMEOUTS = (TimeoutError, asyncio.TimeoutError)  # distributed.wait's (one class in 3.11+)
_COMM_ERRORS = (OSError, ValueError, CancelledError, KeyError)  # how Dask reports a lost actor
_SUMMED = ("inserts", "searches", "removes", "vectors", "distance_computations")
# a failed call's error that, found on the rerun after a lost worker, means the first attempt had
# been applied once the shard confirms it (see _settled)
_DONE_AS = {"add": AlreadyExistsError, "remove": NotFoundError,
            "create_payload_index": AlreadyExistsError, "drop_payload_index": NotFoundError}


class ShardedCollection:
    """A collection of dim-dimensional vectors split into shards by id, each shard a libvexfs
    collection held by a Dask actor on some worker. Make one with create() or open().

    Routing: the id's shard is splitmix64(id) mod shards (vexfs.distributed.routing), fixed for the
    collection's life. Writes are split by shard and each part is one call, all or nothing per
    shard; searches go to every shard at once, one call per shard per batch, and each shard's k
    best merge into the global k best (distance, then id), so exact (FLAT) shards answer exactly
    what one collection would.

    Errors: arguments are checked here before any shard is called (InvalidArgumentError, nothing
    changed). A call whose shards all fail the same way raises that error; one that some shards
    applied and others refused raises ShardError (failed, applied).

    Lost workers: a shard whose worker died is reopened from its directory on a live worker by
    the next call that needs it, and that call runs again there; durable collections assume the
    path is on a file system every worker sees at the same place. With sync="full" every write
    that returned survives. In memory the shard's rows died with it: ShardLostError.

    Thread-safe: calls may come from several threads (Dask's client is thread-safe); close() must
    not race other calls."""

    def __init__(self, client: Any, layout: dict, path: str | None, sync: str):
        """Private: use create() or open()."""
        self._client, self._path, self._sync = client, path, sync
        self.name, self.dim, self.metric = layout["name"], layout["dim"], layout["metric"]
        self.index, self.shards = layout["index"], layout["shards"]
        self._index_params = layout["index_params"]
        self._futures: list = [None] * self.shards  # the actors' tasks (their status tells loss)
        self._actors: list = [None] * self.shards
        self._workers: list = [None] * self.shards
        self._lost: set = set()  # in-memory shards whose worker died
        self._recovering = threading.Lock()
        self._closed = False

    # ---- making and opening ----

    @classmethod
    def create(cls, client: Any, name: str, dim: int, shards: int = 2, metric: str = "l2",
               index: str = "auto", path: str | os.PathLike | None = None, sync: str = "full",
               **index_params: Any) -> "ShardedCollection":
        """A new, empty sharded collection of `shards` shards spread round-robin over the
        client's workers (sorted by address). name, dim, metric, index and index_params (m,
        ef_construction, ef_search, threads, seed and the LSH / IVF options) are those of
        vexfs.Database.create_collection and apply to every shard; threads defaults to the
        worker's thread count (dask worker --nthreads). path: a new or empty directory for
        durable shards (path/shard-XXXX/ each, and path/manifest.json), None for in-memory ones.
        sync: as vexfs.Database's, for every shard.
        Errors: InvalidArgumentError (a bad parameter: checked on an empty collection here first),
        AlreadyExistsError (path holds files), VexfsIOError; on any error nothing is left
        behind."""
        _check_client(client)
        shards = integer(shards, "shards", 1, manifest.MAX_SHARDS)
        c_text(name, "name")
        choice(sync, _SYNC, "sync")
        Collection(dim, metric, index, **index_params).close()  # checks every parameter
        layout = {"name": name, "dim": integer(dim, "dim"), "metric": metric, "index": index,
                  "index_params": {k: _plain(v) for k, v in index_params.items()},
                  "shards": shards}
        try:
            json.dumps(layout)
        except (TypeError, ValueError) as e:
            raise InvalidArgumentError(f"a parameter the manifest cannot store: {e}") from None
        made = None
        if path is not None:
            path = _absolute(path)
            made = _new_directory(path)
        self = cls(client, layout, path, sync)
        try:
            self._start_all("create", create=True)
            if path is not None:
                manifest.write(path, {**layout, "created_by": __version__})
        except BaseException:
            self._abandon()
            if path is not None:
                _remove_made(path, made, shards)
            raise
        return self

    @classmethod
    def open(cls, client: Any, path: str | os.PathLike, sync: str = "full") -> "ShardedCollection":
        """The durable sharded collection in path (its manifest.json), each shard opened on a
        worker (round-robin, by address). Errors: NotFoundError (no manifest, a missing shard),
        CorruptError / UnsupportedError (a manifest this version cannot read), BusyError (a shard
        is open elsewhere), and what opening a vexfs.Database raises."""
        _check_client(client)
        choice(sync, _SYNC, "sync")
        path = _absolute(path)
        layout = manifest.read(path)
        manifest.check_shard_dirs(path, layout["shards"])
        self = cls(client, layout, path, sync)
        try:
            self._start_all("open", create=False)
            self._check_layout()
        except BaseException:
            self._abandon()
            raise
        return self

    def _check_layout(self) -> None:
        """CorruptError when a shard's collection is not what the manifest says it is."""
        configs = self._broadcast("open", "config")
        for s in range(self.shards):
            real = configs[s]
            for field, said in (("dim", self.dim), ("metric", self.metric),
                                ("index", self.index)):
                if real[field] != said:
                    raise CorruptError(f"{manifest.shard_dir(self._path, s)}: its collection's "
                                       f"{field} is {real[field]!r}, the manifest says {said!r}")

    def _start(self, shards: Iterable[int], workers: list, create: bool) -> None:
        """Starts an actor for each shard on the matching worker, all at once; raises the first
        shard's error (by shard) once all have answered."""
        shards = list(shards)
        threads = self._index_params.get("threads")
        nthreads = self._client.scheduler_info()["workers"]
        started = {}
        for s, worker in zip(shards, workers):
            config = dict(self._index_params, dim=self.dim, metric=self.metric, index=self.index)
            if threads is None:
                config["threads"] = nthreads.get(worker, {}).get("nthreads", 0)
            where = None if self._path is None else manifest.shard_dir(self._path, s)
            started[s] = (worker, self._client.submit(
                Shard, where, self.name, create, config, self._sync, actor=True,
                workers=[worker], allow_other_workers=False, pure=False,
                key=f"vexfs-shard-{self.name}-{s:04x}-{uuid.uuid4().hex}"))
        errors = {}
        while started:
            try:  # the task of a worker that died would wait for that address forever
                distributed.wait([f for _, f in started.values()], timeout=POLL_S,
                                 return_when="FIRST_COMPLETED")
            except _WAIT_TIMEOUTS:
                alive = self._client.scheduler_info()["workers"]
                for s in [s for s, (worker, _) in started.items() if worker not in alive]:
                    worker, future = started.pop(s)
                    future.cancel()
                    errors[s] = ConnectionError(f"worker {worker} died while shard {s} started")
                continue
            for s in [s for s, (_, future) in started.items() if future.done()]:
                worker, future = started.pop(s)
                try:
                    actor = future.result()
                except BaseException as e:  # noqa: B902: reported once every shard has answered
                    errors[s] = e
                    continue
                self._futures[s], self._actors[s], self._workers[s] = future, actor, worker
        if errors:
            raise errors[min(errors)]

    def _start_all(self, what: str, create: bool) -> None:
        """Starts every shard, round-robin over the live workers; ShardLostError when a worker
        dies meanwhile (the call can be made again)."""
        workers = self._live_workers()
        try:
            self._start(range(self.shards),
                        [workers[s % len(workers)] for s in range(self.shards)], create)
        except VexfsError:
            raise
        except _COMM_ERRORS as e:
            raise ShardLostError(what, [], f"a worker died while the shards started: {e}") from e

    def _abandon(self) -> None:
        """Closes whatever shards started (a failed create or open)."""
        for s, actor in enumerate(self._actors):
            if actor is not None:
                try:
                    actor.close().result()
                except Exception:  # noqa: B902: already failing; the first error is raised
                    pass
        self._futures = [None] * self.shards
        self._actors = [None] * self.shards
        self._closed = True

    def _live_workers(self, wait_s: float = 0.0) -> list:
        """The scheduler's workers, sorted by address; waits up to wait_s for one to appear."""
        deadline = time.monotonic() + wait_s
        while True:
            workers = sorted(self._client.scheduler_info()["workers"])
            if workers or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        if not workers:
            raise VexfsError("the Dask cluster has no workers")
        return workers

    # ---- calling shards ----

    def _run(self, what: str, calls: dict) -> dict:
        """Runs calls = {shard: (method, args)} on their shards at once and returns {shard: result}.
        A shard whose worker was lost is reopened and its call runs again (see _settled)."""
        self._check_open(what)
        gone = sorted(set(calls) & self._lost)
        if gone:
            raise ShardLostError(what, gone, "their worker died and they were in memory")
        results, failed, lost = self._call_all(calls)
        if lost:
            self._reopen(what, lost, applied=list(results), failed=failed)
            again, failed_again, lost_again = self._call_all({s: calls[s] for s in lost})
            if lost_again:
                raise ShardLostError(what, lost_again, "lost again right after being reopened",
                                     applied=list(results) + list(again),
                                     failed={**failed, **failed_again})
            for s, e in failed_again.items():
                if self._settled(calls[s], s, e):
                    again[s] = None
                else:
                    failed[s] = e
            results.update(again)
        if failed:
            raise _failure(what, failed, applied=list(results))
        return results

    def _check_open(self, what: str) -> None:
        if self._closed:
            raise InvalidArgumentError(f"{what}: the sharded collection is closed")

    def _call_all(self, calls: dict) -> tuple:
        """({shard: result}, {shard: error}, [lost shards]) of calls made all at once. The
        answers are collected together on the client's event loop, POLL_S at a time; between
        polls it asks the scheduler whether a worker it waits on is gone, since a call to a dead
        worker would otherwise wait for Dask's connect timeout (30 s by default)."""
        results, failed, lost, pending = {}, {}, [], {}
        # the actor each call goes to: another thread may reopen the shard meanwhile
        used = {s: (self._futures[s], self._workers[s]) for s in calls}
        for s, (method, args) in calls.items():
            try:  # a proxy whose actor Dask knows is lost raises here, without calling
                pending[s] = getattr(self._actors[s], method)(*args)
            except _COMM_ERRORS as e:
                if self._worker_lost(s, used[s]):
                    lost.append(s)
                else:
                    failed[s] = e
        while pending:
            answered = self._client.sync(_answers, pending, POLL_S)
            for s, (ok, value) in answered.items():
                del pending[s]
                if ok:
                    results[s] = value
                elif isinstance(value, VexfsError):
                    failed[s] = value
                elif isinstance(value, _COMM_ERRORS) and self._worker_lost(s, used[s]):
                    lost.append(s)
                else:
                    failed[s] = value
            if pending and not answered:  # still running: is any of the workers it waits on gone?
                for s in self._gone({s: used[s] for s in pending}):
                    lost.append(s)
                    del pending[s]
        return results, failed, sorted(lost)

    def _settled(self, call: tuple, shard: int, error: BaseException) -> bool:
        """Whether a call rerun after a lost worker failed only because its first attempt had been
        applied before the worker died: an add whose rows are all there (AlreadyExistsError), a
        remove whose ids are all gone (NotFoundError), an index already made or dropped."""
        method, args = call
        if not isinstance(error, _DONE_AS.get(method, ())):
            return False
        actor = self._actors[shard]
        if method == "add":
            return actor.holds(*args[:3]).result()
        if method == "remove":
            return actor.holds_none(args[0]).result()
        return True

    def _current(self, shards: Iterable[int]) -> dict:
        return {s: (self._futures[s], self._workers[s]) for s in shards}

    def _gone(self, used: dict) -> list:
        """Those shards of used = {shard: (actor's future, worker)} whose actor is lost: its worker
        dropped by the scheduler, its task no longer finished, or the shard since reopened."""
        workers = self._client.scheduler_info()["workers"]
        return [s for s, (future, worker) in used.items()
                if future is not self._futures[s] or future.status != "finished"
                or worker not in workers]

    def _worker_lost(self, shard: int, used: tuple) -> bool:
        """Whether the actor a call to shard went to (used: its future and worker) is lost, after
        the call failed to connect: waits up to LOST_WAIT_S for the scheduler to notice (a nanny
        tells it at once when its worker process dies); False when the worker is still there."""
        deadline = time.monotonic() + LOST_WAIT_S
        while not self._gone({shard: used}):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
        return True

    def _reopen(self, what: str, shards: list, applied: list, failed: dict) -> None:
        """Opens the lost shards' databases again on live workers (the least loaded first);
        ShardLostError when they were in memory or cannot be reopened."""
        with self._recovering:
            if self._path is None:
                self._lost.update(shards)
                raise ShardLostError(what, shards, "their worker died and they were in memory",
                                     applied=applied, failed=failed)
            deadline = time.monotonic() + REOPEN_WAIT_S
            while True:
                # those still gone: another thread, or an earlier pass, may have reopened some
                shards = self._gone(self._current(shards))
                if not shards:
                    return
                workers = self._live_workers(wait_s=REOPEN_WAIT_S)
                load = {w: 0 for w in workers}
                for s, w in enumerate(self._workers):
                    if s not in shards and w in load:
                        load[w] += 1
                placement = []
                for _ in shards:
                    least = min(workers, key=lambda w: (load[w], w))
                    placement.append(least)
                    load[least] += 1
                try:
                    self._start(shards, placement, create=False)
                    return
                except BusyError as e:  # the dead process's lock, until the kernel drops it
                    if time.monotonic() >= deadline:
                        raise ShardLostError(what, shards, f"cannot reopen: {e}", applied,
                                             failed) from e
                except VexfsError as e:
                    raise ShardLostError(what, shards, f"cannot reopen: {e}", applied,
                                         failed) from e
                except _COMM_ERRORS as e:  # the chosen worker died too
                    if time.monotonic() >= deadline:
                        raise ShardLostError(what, shards, f"cannot reopen: {e}", applied,
                                             failed) from e
                time.sleep(0.2)

    def _broadcast(self, what: str, method: str, *args: Any) -> dict:
        return self._run(what, {s: (method, args) for s in range(self.shards)})

    def _owner(self, id: int) -> int:
        return int(shard_of(np.array([id], dtype=np.uint64), self.shards)[0])

    # ---- writes ----

    def add(self, ids: Any, vectors: Any, payloads: Sequence | None = None) -> None:
        """Inserts vectors under ids (payloads: one dict or JSON text per vector, or None), each
        shard's part in one call, the parts in parallel. All or nothing per shard: ShardError
        names the shards that refused their part (an id they already hold) and those that
        applied it; a batch refused everywhere raises the shard's error (AlreadyExistsError)."""
        self._write("add", ids, vectors, payloads, upsert=False)

    def upsert(self, ids: Any, vectors: Any, payloads: Sequence | None = None) -> None:
        """As add, but ids already present get the new vector and payload."""
        self._write("upsert", ids, vectors, payloads, upsert=True)

    def _write(self, what: str, ids: Any, vectors: Any, payloads: Sequence | None,
               upsert: bool) -> None:
        self._check_open(what)
        batch = write_batch(ids, vectors, payloads, self.dim, self.metric)
        calls = {}
        for s, positions in split(batch.ids, self.shards).items():
            part = batch.part(positions)
            calls[s] = ("add", (part.ids, part.rows, part.payloads, upsert))
        if calls:
            self._run(what, calls)

    def remove(self, ids: Any) -> None:
        """Removes ids (one or many), all or nothing per shard (as add: NotFoundError when every
        shard involved refused, ShardError when some applied their part)."""
        self._check_open("remove")
        ids = id_batch(ids)
        calls = {s: ("remove", (ids[positions],))
                 for s, positions in split(ids, self.shards).items()}
        if calls:
            self._run("remove", calls)

    def set_payload(self, id: int, payload: dict | str | None, merge: bool = False) -> None:
        """As vexfs.Collection.set_payload, on id's shard."""
        id = one_id(id)
        text = None if payload is None else json_text(payload, "payload")
        if merge and text is None:
            raise InvalidArgumentError("merging needs a payload, not None")
        self._run("set_payload", {self._owner(id): ("set_payload", (id, text, bool(merge)))})

    def create_payload_index(self, key: str, kind: str = "keyword") -> None:
        """Indexes a payload key on every shard (see vexfs.Collection.create_payload_index)."""
        self._broadcast("create_payload_index", "create_payload_index", key, kind)

    def drop_payload_index(self, key: str, kind: str = "keyword") -> None:
        """Drops that index on every shard."""
        self._broadcast("drop_payload_index", "drop_payload_index", key, kind)

    def checkpoint(self) -> None:
        """Checkpoints every shard's database (see vexfs.Database.checkpoint)."""
        self._broadcast("checkpoint", "checkpoint")

    # ---- reads ----

    def search(self, queries: Any, k: int = 10, ef: int | None = None,
               filter: dict | str | None = None, with_payload: bool = False,
               probes: int | None = None, nprobe: int | None = None,
               exact: bool = False) -> tuple:
        """The k nearest neighbours over every shard, as vexfs.Collection.search returns them:
        one query (1-D): its hits only, nearest first; several (2-D): (nq, k) arrays, missing
        hits NO_ID at distance inf. with_payload adds the hits' payloads. The batch goes to every
        shard in one call each, at once. ef (HNSW), probes (LSH), nprobe (IVF) and exact apply
        in each shard as in vexfs.Collection.search; filter: applied by each shard."""
        k = integer(k, "k", 1, MAX_K)
        ef, probes, nprobe = (None if v is None else integer(v, name)
                              for v, name in ((ef, "ef"), (probes, "probes"), (nprobe, "nprobe")))
        if type(exact) is not bool:
            raise InvalidArgumentError(f"exact must be True or False, not {exact!r}")
        rows = float_rows(queries, self.dim)[2]
        single = is_one_query(queries)
        text = None if filter is None else json_text(filter, "filter")
        if type(with_payload) is not bool:
            raise InvalidArgumentError(f"with_payload must be True or False, not {with_payload!r}")
        answers = self._broadcast("search", "search", rows, k, ef, text, with_payload, probes,
                                  nprobe, exact)
        parts = [answers[s] for s in range(self.shards)]
        ids, dist, positions = merge(parts, k)
        payloads = merge_payloads([p[2] for p in parts], positions) if with_payload else None
        if single:
            n = int(np.count_nonzero(ids[0] != np.uint64(2**64 - 1)))
            hits = (ids[0, :n], dist[0, :n])
            return hits + (payloads[0][:n],) if with_payload else hits
        return (ids, dist, payloads) if with_payload else (ids, dist)

    def get(self, id: int) -> np.ndarray:
        """The vector stored under id (NotFoundError when none)."""
        id = one_id(id)
        s = self._owner(id)
        return self._run("get", {s: ("get", (id,))})[s]

    def get_payload(self, id: int) -> dict | None:
        """The payload of id (a dict), None when it has none."""
        id = one_id(id)
        s = self._owner(id)
        return self._run("get_payload", {s: ("get_payload", (id,))})[s]

    def count(self) -> int:
        """Vectors over all shards."""
        return sum(self._broadcast("count", "count").values())

    __len__ = count

    def ids(self) -> np.ndarray:
        """Every id, ascending (uint64)."""
        parts = self._broadcast("ids", "ids")
        return np.sort(np.concatenate([parts[s] for s in range(self.shards)]))

    def metrics(self) -> dict:
        """{"shards": [each shard's vexfs.Collection.metrics() with "shard" and "worker"],
        "total": the counters (inserts, searches, removes, vectors, distance_computations) and
        memory_bytes summed, the scratch pool (one per worker process, which every shard there
        reports) once per worker}."""
        per = self._broadcast("metrics", "metrics")
        shards = [{"shard": s, "worker": self._workers[s], **per[s]} for s in range(self.shards)]
        total = {key: sum(m.get(key, 0) for m in shards) for key in _SUMMED}
        memory, pools = {}, {}
        for m in shards:
            for part, n in m.get("memory_bytes", {}).items():
                if part == "pool":  # the scratch pool is the worker process's, shared by its shards
                    pools[m["worker"]] = n
                else:
                    memory[part] = memory.get(part, 0) + n
        if pools:
            memory["pool"] = sum(pools.values())
        total["memory_bytes"] = memory
        return {"shards": shards, "total": total}

    def workers(self) -> dict:
        """{shard: the address of the worker holding it now}."""
        return dict(enumerate(self._workers))

    @property
    def path(self) -> str | None:
        """The directory of a durable sharded collection (absolute), None in memory."""
        return self._path

    # ---- closing ----

    def close(self) -> None:
        """Checkpoints and closes every shard's database and releases the actors. Idempotent.
        Raises what a shard's close raised (its log keeps anything unsaved)."""
        if self._closed:
            return
        try:
            live = {s: ("close", ()) for s in range(self.shards) if s not in self._lost}
            try:
                self._run("close", live)
            except ShardLostError:
                if self._path is not None:
                    raise  # a durable shard that could not be reopened: its log keeps its rows
                # in memory, the lost shards died with their rows; the others are closed
        finally:
            self._closed = True
            self._futures = [None] * self.shards
            self._actors = [None] * self.shards

    def __enter__(self) -> "ShardedCollection":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        where = "memory" if self._path is None else repr(self._path)
        return (f"<vexfs.distributed.ShardedCollection {self.name!r} {self.shards} shards, "
                f"{where}{' closed' if self._closed else ''}>")


async def _answers(futures: dict, timeout: float) -> dict:
    """{shard: (True, result) or (False, exception)} of the futures that answer within timeout
    (all that have answered by then; none if none has)."""
    waiting = {s: asyncio.ensure_future(_outcome(f)) for s, f in futures.items()}
    await asyncio.wait(waiting.values(), timeout=timeout)
    return {s: task.result() for s, task in waiting.items() if task.done()}


async def _outcome(future: Any) -> tuple:
    try:
        return True, await future
    except Exception as e:  # noqa: B902: the caller sorts errors by kind
        return False, e


def _failure(what: str, failed: dict, applied: list) -> VexfsError:
    """The exception for failed shards: the shard's own when nothing was applied and all failed
    alike (its message prefixed by the shard), else ShardError."""
    kinds = {type(e) for e in failed.values()}
    kind = next(iter(kinds))
    if not applied and len(kinds) == 1 and issubclass(kind, VexfsError) \
            and not issubclass(kind, ShardError):
        first = min(failed)
        e = failed[first]
        alike = e.__class__(f"shard {first}: {e}", e.status)
        alike.__cause__ = e
        return alike
    return ShardError(what, failed, applied)


def _plain(value: Any) -> Any:
    """An index parameter (already accepted by vexfs.Collection) as JSON stores it: an int for
    integers of any kind, a float for other real numbers, anything else as given."""
    if isinstance(value, (str, bool)):
        return value
    try:
        return operator.index(value)
    except TypeError:
        pass
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def _check_client(client: Any) -> None:
    """A ShardedCollection blocks on its calls: it needs a synchronous Dask Client."""
    if not isinstance(client, distributed.Client):
        raise InvalidArgumentError(f"client must be a dask.distributed.Client, not "
                                   f"{type(client).__name__}")
    if client.asynchronous:
        raise InvalidArgumentError("the client is asynchronous (asynchronous=True); a "
                                   "ShardedCollection needs a synchronous Client")


def _absolute(path: Any) -> str:
    """path (str, bytes or os.PathLike) made absolute, as the workers must see it."""
    try:
        text = os.fsdecode(os.fspath(path))
    except TypeError:
        raise InvalidArgumentError(f"path must be a str, bytes or os.PathLike, not "
                                   f"{type(path).__name__}") from None
    if "\0" in text:
        raise InvalidArgumentError("path contains a NUL character")
    return os.path.abspath(text)


def _new_directory(path: str) -> bool:
    """Makes path (True) or accepts an empty directory there (False); AlreadyExistsError when it
    holds anything, VexfsIOError when it cannot be made."""
    try:
        os.mkdir(path)
        return True
    except FileExistsError:
        if os.path.isdir(path) and not os.listdir(path):
            return False
        raise AlreadyExistsError(f"{path}: not an empty directory; a sharded collection is made "
                                 "in a new or empty one") from None
    except OSError as e:
        raise VexfsIOError(f"{path}: cannot make the directory: {e.strerror}") from None


def _remove_made(path: str, made: bool, shards: int) -> None:
    """Undoes a failed create: the shard directories and manifest, and path when it made it.
    Best effort: the error that made create fail is the one raised."""
    for s in range(shards):
        shutil.rmtree(manifest.shard_dir(path, s), ignore_errors=True)
    for leftover in (manifest.FILE, manifest.FILE + ".tmp"):
        try:
            os.remove(os.path.join(path, leftover))
        except OSError:
            pass
    if made:
        try:
            os.rmdir(path)
        except OSError:
            pass

