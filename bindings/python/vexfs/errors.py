"""Exceptions: one subclass of VexfsError per libvexfs status code."""
from __future__ import annotations

from ._native import lib


class VexfsError(Exception):
    """A libvexfs call failed. `status` is the C status code, the message is vexfs_last_error()."""

    status = -1

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status


class InvalidArgumentError(VexfsError, ValueError):
    status = 1


class OutOfMemoryError(VexfsError, MemoryError):
    status = 2


class DimensionError(VexfsError, ValueError):
    status = 3


class NotFoundError(VexfsError, KeyError):
    status = 4

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class AlreadyExistsError(VexfsError):
    status = 5


class VexfsIOError(VexfsError, OSError):
    status = 6


class CorruptError(VexfsError):
    status = 7


class UnsupportedError(VexfsError, NotImplementedError):
    status = 8


class ReadOnlyError(VexfsError):
    status = 9


class StateError(VexfsError):
    status = 10


class BusyError(VexfsError):
    """The database is open for writing elsewhere (in this process or another)."""
    status = 11


_BY_STATUS = {cls.status: cls for cls in (InvalidArgumentError, OutOfMemoryError, DimensionError,
                                         NotFoundError, AlreadyExistsError, VexfsIOError,
                                         CorruptError, UnsupportedError, ReadOnlyError,
                                         StateError, BusyError)}


def check(status: int) -> None:
    """Raises the exception for a non-zero status, with this thread's last error message."""
    if status != 0:
        message = lib.vexfs_last_error().decode("utf-8", "replace")
        raise _BY_STATUS.get(status, VexfsError)(message, status)
