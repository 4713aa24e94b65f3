"""Write batches checked on the client, before any shard sees them.

A sharded write is all-or-nothing per shard only, so everything that would make one shard refuse
its part is refused here for the whole call, and nothing changes anywhere: ids (integers
0 .. 2**64 - 2, none twice), vectors (dim real numbers each, finite, squared norm within
VEXFS_MAX_SQUARED_NORM), payloads (JSON objects as the library parses them: no duplicate keys, no
NaN or Infinity, nesting up to 64, VEXFS_MAX_PAYLOAD_BYTES). What is left for a shard to refuse
depends on its contents (an id it already holds) or its machine (memory, disk)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .._arguments import float_rows, id_array, json_text
from ..errors import InvalidArgumentError

MAX_SQUARED_NORM = float(np.finfo(np.float32).max) / 4  # VEXFS_MAX_SQUARED_NORM
MAX_PAYLOAD_BYTES = 64 << 20  # VEXFS_MAX_PAYLOAD_BYTES
MAX_NESTING = 64
_NORM_ROWS = 4096  # rows whose squared norms are formed in float64 at a time


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


def write_batch(ids: Any, vectors: Any, payloads: Sequence | None, dim: int) -> Batch:
    """The checked batch of an add or upsert; InvalidArgumentError naming the first problem."""
    ids = id_array(ids)[2]
    rows = float_rows(vectors, dim)[2]
    if ids.shape[0] != rows.shape[0]:
        raise InvalidArgumentError(f"{ids.shape[0]} ids for {rows.shape[0]} vectors")
    check_unique(ids)
    _check_rows(rows)
    texts = None
    if payloads is not None:
        payloads = list(payloads)
        if len(payloads) != ids.shape[0]:
            raise InvalidArgumentError(f"{len(payloads)} payloads for {ids.shape[0]} vectors")
        texts = [None if p is None else payload_text(p, f"payload {i}")
                 for i, p in enumerate(payloads)]
    return Batch(ids, rows, texts)


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


def _check_rows(rows: np.ndarray) -> None:
    finite = np.isfinite(rows).all(axis=1)
    if not finite.all():
        raise InvalidArgumentError(f"row {int(np.flatnonzero(~finite)[0])} holds NaN or Inf")
    if rows.size == 0:
        return
    biggest = float(max(rows.max(), -rows.min()))
    if biggest * biggest * rows.shape[1] <= MAX_SQUARED_NORM:
        return  # every row's squared norm is within the limit
    for start in range(0, rows.shape[0], _NORM_ROWS):
        chunk = rows[start:start + _NORM_ROWS].astype(np.float64)
        over = np.flatnonzero(np.einsum("ij,ij->i", chunk, chunk) > MAX_SQUARED_NORM)
        if over.size:
            raise InvalidArgumentError(f"row {start + int(over[0])} has a squared norm above "
                                       f"VEXFS_MAX_SQUARED_NORM ({MAX_SQUARED_NORM:.7g})")


def payload_text(payload: Any, what: str) -> bytes:
    """A payload (dict or JSON text) as the JSON text of an object, checked as the library will."""
    text = json_text(payload, what)
    if len(text) > MAX_PAYLOAD_BYTES:
        raise InvalidArgumentError(f"{what} is {len(text)} bytes, above VEXFS_MAX_PAYLOAD_BYTES")
    try:
        value = json.loads(text.decode("utf-8"), object_pairs_hook=_no_duplicate_keys,
                           parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as e:
        raise InvalidArgumentError(f"{what} is not valid JSON: {e}") from None
    if not isinstance(value, dict):
        raise InvalidArgumentError(f"{what} is not a JSON object")
    if _nesting(value) > MAX_NESTING:
        raise InvalidArgumentError(f"{what} nests deeper than {MAX_NESTING}")
    return text


def _no_duplicate_keys(pairs: list) -> dict:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        seen = set()
        twice = next(k for k in keys if k in seen or seen.add(k))
        raise ValueError(f"duplicate key {twice!r}")
    return dict(pairs)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _nesting(value: Any) -> int:
    """How deeply objects and arrays nest in value (an object holding an array: 2)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        v, depth = stack.pop()
        if isinstance(v, dict):
            v = v.values()
        elif not isinstance(v, list):
            continue
        deepest = max(deepest, depth)
        stack.extend((item, depth + 1) for item in v)
    return deepest


def id_batch(ids: Any) -> np.ndarray:
    """Ids of a remove, checked: uint64, each an id, none twice."""
    a = id_array(ids)[2]
    check_unique(a)
    return a


