"""vexfs.distributed: sharded collections on Dask distributed (an optional dependency: importing
vexfs does not need it; this module does).

    from dask.distributed import Client
    from vexfs.distributed import ShardedCollection

    client = Client("tcp://scheduler:8786")          # or Client(LocalCluster(...))
    docs = ShardedCollection.create(client, "docs", dim=768, shards=8, index="hnsw",
                                    path="/shared/docs")       # None: in memory
    docs.add(ids, vectors, payloads)     # split by shard, the parts in parallel
    ids, distances = docs.search(queries, k=10)   # every shard at once, merged exactly
    docs.close()
    docs = ShardedCollection.open(client, "/shared/docs")

A shard is one libvexfs collection in a vexfs.Database held by a Dask actor; an id's shard is
splitmix64(id) mod shards (routing.py), fixed for the collection's life. See README "Sharded
collections on Dask" for running it on a real cluster.
"""
from __future__ import annotations

try:
    import distributed  # noqa: F401
except ImportError as e:  # pragma: no cover - depends on the machine
    raise ImportError("vexfs.distributed needs Dask distributed (Debian: apt-get install "
                      "python3-distributed; elsewhere: pip install distributed)") from e

from .errors import ShardError, ShardLostError
from .routing import HASHING, shard_of
from .sharded import ShardedCollection

__all__ = ["ShardedCollection", "ShardError", "ShardLostError", "shard_of", "HASHING"]
