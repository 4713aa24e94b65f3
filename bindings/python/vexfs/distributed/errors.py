"""What a sharded call raises when shards disagree or are gone."""
from __future__ import annotations

from ..errors import VexfsError


class ShardError(VexfsError):
    """Some shards applied their part of a call and others failed (each shard's part is all or
    nothing). failed: {shard: the exception it raised}; applied: the shards whose part took
    effect, ascending. When no shard applied anything and every failing shard raised the same
    kind of error, that error is raised instead (a VexfsError subclass, its message naming the
    shard), as one collection would raise it."""

    def __init__(self, what: str, failed: dict, applied: list):
        described = "; ".join(f"shard {s}: {type(e).__name__}: {e}"
                              for s, e in sorted(failed.items()))
        super().__init__(f"{what}: {len(failed)} shard(s) failed ({described}); applied on "
                         f"shard(s) {sorted(applied) or 'none'}")
        self.failed, self.applied = dict(sorted(failed.items())), sorted(applied)


class ShardLostError(ShardError):
    """Shards whose worker died and that cannot be reopened: in memory (their rows died with the
    worker), or no live worker could open their database. lost: those shards, ascending; failed:
    them (None) and the shards that refused their part of this call (their errors); applied: the
    shards that did apply it."""

    def __init__(self, what: str, lost: list, reason: str, applied: list | None = None,
                 failed: dict | None = None):
        others = "".join(f"; shard {s}: {type(e).__name__}: {e}"
                         for s, e in sorted((failed or {}).items()))
        VexfsError.__init__(self, f"{what}: shard(s) {sorted(lost)} lost: {reason}{others}")
        self.lost = sorted(lost)
        self.failed = dict(sorted({**(failed or {}), **{s: None for s in self.lost}}.items()))
        self.applied = sorted(applied or [])
