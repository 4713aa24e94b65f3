"""The global k best from every shard's k best.

Each shard answers a batch of nq queries with (nq, k) ids and distances, nearest first, empty
slots holding NO_ID at distance +inf. The global k best of a query are among the union of those
lists, since each shard's own k best include every one of its rows that can rank in the global k.
They are ordered as one collection orders its hits: distance ascending, ties by id ascending; so
for exact (FLAT) shards the merge equals one collection's answer, bit for bit (each distance is
computed by the same kernel on the same two vectors)."""
from __future__ import annotations

import numpy as np


def merge(parts: list[tuple], k: int) -> tuple:
    """(ids (nq, k) uint64, distances (nq, k) float32, positions) of the k best over the parts,
    each (ids, distances) of shape (nq, k_i). positions (nq, k) holds, for each kept hit, its
    column in the parts' columns laid side by side (to carry payloads along)."""
    ids = np.concatenate([p[0] for p in parts], axis=1)
    dist = np.concatenate([p[1] for p in parts], axis=1)
    order = np.lexsort((ids, dist), axis=-1)[:, :k]  # the last key sorts first: distance, then id
    return (np.take_along_axis(ids, order, axis=1), np.take_along_axis(dist, order, axis=1),
            order)


def merge_payloads(parts: list[list], positions: np.ndarray) -> list:
    """The payloads (one list per query) that go with merge's positions, from each part's payloads
    (a list of nq lists, one entry per hit column)."""
    rows = [sum((p[q] for p in parts), []) for q in range(positions.shape[0])]
    return [[row[j] for j in cols] for row, cols in zip(rows, positions.tolist())]
