"""Which shard owns an id: a fixed function of the id and the shard count alone, the same in every
version (a sharded collection's manifest names it, "splitmix64-mod", so that a later scheme could
be told apart).

    shard(id) = splitmix64(id) mod shards

splitmix64 is the finalizer of Steele, Lea and Flood's SplittableRandom (also Java's and
xoshiro's seeding function): z ^= z >> 30; z *= 0xbf58476d1ce4e5b9; z ^= z >> 27;
z *= 0x94d049bb133111eb; z ^= z >> 31, arithmetic modulo 2**64. It spreads consecutive ids, or ids
sharing their low bits, evenly over any shard count."""
from __future__ import annotations

import numpy as np

HASHING = "splitmix64-mod"

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def splitmix64(ids: np.ndarray) -> np.ndarray:
    """The finalizer applied to a uint64 array (a new array; products wrap modulo 2**64)."""
    z = np.array(ids, dtype=np.uint64, copy=True)
    with np.errstate(over="ignore"):
        z ^= z >> np.uint64(30)
        z *= _M1
        z ^= z >> np.uint64(27)
        z *= _M2
        z ^= z >> np.uint64(31)
    return z


def shard_of(ids: np.ndarray, shards: int) -> np.ndarray:
    """The shard index (0 .. shards - 1, as int64) owning each of the uint64 ids."""
    return (splitmix64(ids) % np.uint64(shards)).astype(np.int64)


def split(ids: np.ndarray, shards: int) -> dict[int, np.ndarray]:
    """{shard: positions in ids (ascending) of the ids it owns}, for the shards owning any."""
    owner = shard_of(ids, shards)
    order = np.argsort(owner, kind="stable")
    bounds = np.searchsorted(owner[order], np.arange(shards + 1))
    return {s: order[bounds[s]:bounds[s + 1]] for s in range(shards)
            if bounds[s + 1] > bounds[s]}
