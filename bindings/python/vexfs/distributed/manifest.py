"""path/manifest.json: what a durable sharded collection is, read back by ShardedCollection.open.

    {"format": "vexfs-sharded", "version": 1, "name": "docs", "dim": 784, "metric": "l2",
     "index": "hnsw", "index_params": {"m": 16, ...}, "shards": 4, "hashing": "splitmix64-mod"}

Shard i's database is the directory path/shard-XXXX (i in 4 hex digits), holding one collection
called name. The manifest is written once, after every shard exists (written to a temporary file,
synced, renamed, the directory synced), so a directory without one holds no sharded collection."""
from __future__ import annotations

import json
import os

from ..errors import CorruptError, NotFoundError, UnsupportedError
from .routing import HASHING

FILE = "manifest.json"
FORMAT = "vexfs-sharded"
VERSION = 1
MAX_SHARDS = 1 << 16  # shard-XXXX


def shard_dir(path: str, shard: int) -> str:
    return os.path.join(path, f"shard-{shard:04x}")


def write(path: str, manifest: dict) -> None:
    """Writes path/manifest.json durably (temporary file, fsync, rename, fsync of the folder)."""
    final = os.path.join(path, FILE)
    temporary = final + ".tmp"
    with open(temporary, "w", encoding="utf-8") as f:
        json.dump({"format": FORMAT, "version": VERSION, "hashing": HASHING, **manifest}, f,
                  indent=1, sort_keys=True)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, final)
    folder = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def read(path: str) -> dict:
    """The manifest in path, checked: NotFoundError without one, CorruptError when it does not
    hold what version 1 holds, UnsupportedError for another format version or hashing."""
    where = os.path.join(path, FILE)
    try:
        with open(where, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise NotFoundError(f"{where}: no sharded collection here (no manifest)") from None
    try:
        m = json.loads(text)
    except ValueError as e:
        raise CorruptError(f"{where}: not JSON: {e}") from None
    if not isinstance(m, dict) or m.get("format") != FORMAT:
        raise CorruptError(f"{where}: not a vexfs sharded-collection manifest")
    if m.get("version") != VERSION:
        raise UnsupportedError(f"{where}: manifest version {m.get('version')!r}; this vexfs reads "
                               f"version {VERSION}")
    if m.get("hashing") != HASHING:
        raise UnsupportedError(f"{where}: hashing {m.get('hashing')!r}; this vexfs routes by "
                               f"{HASHING!r}")
    fields = {"name": str, "dim": int, "metric": str, "index": str, "index_params": dict,
              "shards": int}
    for field, kind in fields.items():
        if type(m.get(field)) is not kind:
            raise CorruptError(f"{where}: {field!r} is missing or not a {kind.__name__}")
    if not 1 <= m["shards"] <= MAX_SHARDS:
        raise CorruptError(f"{where}: shards must be 1..{MAX_SHARDS}, not {m['shards']}")
    return m
