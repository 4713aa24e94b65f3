"""Write batches checked on the client, before any shard sees them.

A sharded write is all or nothing per shard only, so everything that would make a shard refuse
its part whatever it holds is refused here for the whole call, and nothing changes anywhere. The
check is the library's own: the batch goes, a slice at a time, into an empty in-memory FLAT
collection of the same dimension and metric (then freed), so vectors (finite, squared norm within
VEXFS_MAX_SQUARED_NORM as the kernels compute it) and payloads (strict JSON objects, within
VEXFS_MAX_PAYLOAD_BYTES as stored) are judged exactly as a shard will judge them. Ids given twice
are found over the whole batch. What is left for a shard to refuse depends on its contents (an
id it already holds) or its machine (memory, disk)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .._arguments import float_rows, id_array, json_text
from ..collection import Collection
from ..errors import InvalidArgumentError

CHECK_ROWS = 4096  # rows per slice of the check (its copy of them is freed after each)
_ROW = re.compile(r"\brow (\d+)\b")


@dataclass
class Batch:
    """A checked batch: ids (uint64), rows (C-contiguous float32, one per id), payloads (JSON text
    per row, None entries for none; None for no payloads at all)."""
    ids: np.ndarray
    rows: np.ndarray
    payloads: list | None

    def part(self, positions: np.ndarray) -> "Batch":
        """The rows at positions (in that order)."""
        payloads = None if self.payloads is None else [self.payloads[i] for i in positions]
        return Batch(self.ids[positions], np.ascontiguousarray(self.rows[positions]), payloads)


def write_batch(ids: Any, vectors: Any, payloads: Sequence | None, dim: int,
                metric: str) -> Batch:
    """The checked batch of an add or upsert; InvalidArgumentError naming the first problem."""
    ids = id_array(ids)[2]
    rows = float_rows(vectors, dim)[2]
    if ids.shape[0] != rows.shape[0]:
        raise InvalidArgumentError(f"{ids.shape[0]} ids for {rows.shape[0]} vectors")
    check_unique(ids)
    texts = None
    if payloads is not None:
        payloads = list(payloads)
        if len(payloads) != ids.shape[0]:
            raise InvalidArgumentError(f"{len(payloads)} payloads for {ids.shape[0]} vectors")
        texts = [None if p is None else json_text(p, f"payload {i}")
                 for i, p in enumerate(payloads)]
    batch = Batch(ids, rows, texts)
    _check_with_the_library(batch, dim, metric)
    return batch


def _check_with_the_library(batch: Batch, dim: int, metric: str) -> None:
    """Inserts the batch, CHECK_ROWS at a time, into scratch collections; a refusal is re-raised
    with the row counted from the start of the whole batch."""
    n = batch.ids.shape[0]
    for start in range(0, n, CHECK_ROWS):
        stop = min(n, start + CHECK_ROWS)
        scratch = Collection(dim, metric=metric, index="flat", threads=1)
        try:
            payloads = None if batch.payloads is None else batch.payloads[start:stop]
            scratch.add(np.arange(stop - start), batch.rows[start:stop], payloads)
        except InvalidArgumentError as e:
            message = _ROW.sub(lambda m: f"row {start + int(m.group(1))}", str(e), count=1)
            raise InvalidArgumentError(message, e.status) from None
        finally:
            scratch.close()


def check_unique(ids: np.ndarray) -> None:
    """Refuses an id given twice, naming it and both positions."""
    if ids.shape[0] < 2:
        return
    order = np.argsort(ids, kind="stable")
    same = np.flatnonzero(ids[order[1:]] == ids[order[:-1]])
    if same.size:
        first, second = sorted((int(order[same[0]]), int(order[same[0] + 1])))
        raise InvalidArgumentError(f"id {int(ids[first])} appears twice in the batch (ids[{first}]"
                                   f" and ids[{second}])")


def id_batch(ids: Any) -> np.ndarray:
    """Ids of a remove, checked: uint64, each an id, none twice."""
    a = id_array(ids)[2]
    check_unique(a)
    return a
