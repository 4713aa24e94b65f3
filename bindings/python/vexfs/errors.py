"""Exceptions: one subclass of VexfsError per libvexfs status code (keyed by its number; the
status's name comes from the library)."""
from __future__ import annotations

from ._native import lib


class VexfsError(Exception):
    """A libvexfs call failed. `status` is the C status code and `code` its name; the message is
    vexfs_last_error()."""

    status = -1
    # set on errors a remote client (vexfs.Client(endpoint=...)) raises for a server's answer:
    # the HTTP status and the /api/v1 error code ("API_005"); None otherwise
    http_status: int | None = None
    api_code: str | None = None

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status

    @property
    def code(self) -> str:
        """The status's name, e.g. "VEXFS_E_NOT_FOUND" (vexfs_status_name: "VEXFS_E_UNKNOWN" for
        a number the library does not know)."""
        return lib.vexfs_status_name(self.status).decode()


class InvalidArgumentError(VexfsError, ValueError):
    """A bad argument: NULL, a wrong size, NaN/Inf, a bad name, filter or JSON (VEXFS_E_INVALID)."""

    status = 1


class OutOfMemoryError(VexfsError, MemoryError):
    """An allocation failed; nothing was changed (VEXFS_E_NOMEM)."""

    status = 2


class DimensionError(VexfsError, ValueError):
    """A vector does not have the collection's dimension (VEXFS_E_DIMENSION)."""

    status = 3


class NotFoundError(VexfsError, KeyError):
    """No vector, payload, collection or index under that id or name (VEXFS_E_NOT_FOUND)."""

    status = 4

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class AlreadyExistsError(VexfsError):
    """The id or name is already taken (VEXFS_E_EXISTS)."""

    status = 5


class VexfsIOError(VexfsError, OSError):
    """Reading or writing the database failed; the call did nothing (VEXFS_E_IO)."""

    status = 6


class CorruptError(VexfsError):
    """A database file is damaged: a checksum, length or record does not add up (VEXFS_E_CORRUPT)."""

    status = 7


class UnsupportedError(VexfsError, NotImplementedError):
    """Not supported by this version: an LSH index, a newer file format (VEXFS_E_UNSUPPORTED)."""

    status = 8


class ReadOnlyError(VexfsError):
    """A write through a database opened read_only (VEXFS_E_READONLY)."""

    status = 9


class StateError(VexfsError):
    """The call does not fit the object's state, e.g. allocator hooks set too late (VEXFS_E_STATE)."""

    status = 10


class BusyError(VexfsError):
    """The database is open for writing elsewhere, in this process or another (VEXFS_E_BUSY)."""

    status = 11


class AuthenticationError(VexfsError, PermissionError):
    """vexfs-server refused the request's API key (HTTP 401/403, API_002/API_003): none given,
    or not the server's --api-key. Remote clients only (vexfs.Client(endpoint=...))."""

    code = "VEXFS_E_AUTH"  # no library status: a name of the remote client's own


class VexfsConnectionError(VexfsError, ConnectionError):
    """vexfs-server could not be reached, or the connection broke before an answer came (the
    message names the endpoint). Remote clients only."""

    code = "VEXFS_E_CONNECTION"


class VexfsTimeoutError(VexfsConnectionError, TimeoutError):
    """vexfs-server did not answer within the client's timeout. Remote clients only."""

    code = "VEXFS_E_TIMEOUT"


_BY_STATUS = {cls.status: cls for cls in (InvalidArgumentError, OutOfMemoryError, DimensionError,
                                         NotFoundError, AlreadyExistsError, VexfsIOError,
                                         CorruptError, UnsupportedError, ReadOnlyError,
                                         StateError, BusyError)}


def check(status: int) -> None:
    """Raises the exception for a non-zero status, with this thread's last error message."""
    if status != 0:
        message = lib.vexfs_last_error().decode("utf-8", "replace")
        raise _BY_STATUS.get(status, VexfsError)(message, status)
