"""path/manifest.json: what a durable sharded collection is, read back by ShardedCollection.open.

    {"format": "vexfs-sharded", "version": 1, "name": "docs", "dim": 784, "metric": "l2",
     "index": "hnsw", "index_params": {"m": 16, ...}, "shards": 4, "hashing": "splitmix64-mod"}

Shard i's database is the directory path/shard-XXXX (i in 4 hex digits), holding one collection
called name. The manifest is written once, after every shard exists (written to a temporary file,
synced, renamed, the directory synced), so a directory without one holds no sharded collection."""
from __future__ import annotations

import json
import os
import re

from ..errors import CorruptError, NotFoundError, UnsupportedError, VexfsIOError
from .routing import HASHING

FILE = "manifest.json"
FORMAT = "vexfs-sharded"
VERSION = 1
MAX_SHARDS = 1 << 16  # shard-XXXX
MAX_BYTES = 1 << 20  # a manifest is a few hundred bytes
_SHARD_DIR = re.compile(r"shard-[0-9a-f]{4}")


def shard_dir(path: str, shard: int) -> str:
    return os.path.join(path, f"shard-{shard:04x}")


def write(path: str, manifest: dict) -> None:
    """Writes path/manifest.json durably (temporary file, fsync, rename, fsync of the folder);
    VexfsIOError when any step fails (a full disk, say)."""
    final = os.path.join(path, FILE)
    temporary = final + ".tmp"
    try:
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
    except OSError as e:
        raise VexfsIOError(f"{final}: cannot write the manifest: {e.strerror or e}") from None


def read(path: str) -> dict:
    """The manifest in path, checked: NotFoundError without one, CorruptError when it does not
    hold what version 1 holds, UnsupportedError for another format version or hashing."""
    where = os.path.join(path, FILE)
    try:
        with open(where, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except (FileNotFoundError, NotADirectoryError):
        raise NotFoundError(f"{where}: no sharded collection here (no manifest)") from None
    except IsADirectoryError:
        raise CorruptError(f"{where}: a directory, not a manifest") from None
    except OSError as e:
        raise VexfsIOError(f"{where}: cannot read: {e.strerror}") from None
    if len(raw) > MAX_BYTES:
        raise CorruptError(f"{where}: over {MAX_BYTES} bytes, not a manifest")
    try:
        m = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
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


def check_shard_dirs(path: str, shards: int) -> None:
    """CorruptError when path holds shard directories past the manifest's count (their rows
    would be out of reach, and their ids routed elsewhere)."""
    extra = sorted(name for name in os.listdir(path)
                   if _SHARD_DIR.fullmatch(name) and int(name[6:], 16) >= shards)
    if extra:
        raise CorruptError(f"{os.path.join(path, FILE)}: says {shards} shard(s), but "
                           f"{', '.join(extra)} exist(s) too")
