"""The public calls' arguments, checked and converted into exactly what the C functions take.

What a C type cannot hold exactly is refused with InvalidArgumentError, wrong types included (one
exception for every refused argument, as VEXFS_E_INVALID is for the library), never wrapped,
floored, truncated or parsed:
- integers (ids, k, dim, ef, threads, ...): Python ints, numpy integers, or anything else with
  __index__, in the parameter's range; never floats (not even 3.0), bools or strings.
- ids: 0 .. 2**64 - 2; 2**64 - 1 (NO_ID) marks empty result slots and is no vector's id. A
  sequence of them, or a numpy array of any signed or unsigned integer dtype.
- vectors: real numbers (numpy float or integer arrays, lists, array.array), rounded to float32
  once; complex, bool, string and object values are refused, and so are ragged rows.
- text (JSON, payload keys, collection names, paths): without NUL characters, which would end the
  C string early.
"""
from __future__ import annotations

import array
import ctypes
import json
import operator
import os
import reprlib
from typing import Any

try:
    import numpy as np
except ImportError:  # the package works on lists and the array module without numpy
    np = None

from .errors import InvalidArgumentError

U32_MAX = 2**32 - 1
U64_MAX = 2**64 - 1
NO_ID = U64_MAX  # the id of an empty result slot in batch searches: never a vector's id
MAX_ID = NO_ID - 1
MAX_K = 1 << 24  # VEXFS_MAX_K (include/vexfs/vexfs.h): the result buffers are made before the call

_F32 = np.dtype(np.float32) if np is not None else None
_INTS = {int}
_ROW_TYPES = (list, tuple, array.array)


def address(a: "np.ndarray") -> int:
    """The data address of a numpy array (cheaper than a.ctypes.data)."""
    return a.__array_interface__["data"][0]


def integer(value: Any, what: str, low: int = 0, high: int = U32_MAX) -> int:
    """value as a Python int in low..high (bools and floats are refused, numpy integers taken)."""
    if not isinstance(value, bool) and not (np is not None and isinstance(value, np.bool_)):
        try:
            exact = operator.index(value)
        except TypeError:
            pass
        else:
            if low <= exact <= high:
                return exact
    raise InvalidArgumentError(f"{what} must be an integer {low}..{high}, not {reprlib.repr(value)}")


def real(value: Any, what: str) -> float:
    """value as a Python float (ints, floats and numpy reals; bools and strings are refused). The
    library checks the range."""
    if not isinstance(value, (bool, str, bytes)) and not (np is not None and isinstance(value, np.bool_)):
        try:
            return float(operator.index(value)) if isinstance(value, int) else float(value)
        except (TypeError, ValueError, OverflowError):
            pass
    raise InvalidArgumentError(f"{what} must be a real number, not {reprlib.repr(value)}")


def choice(value: Any, table: dict, what: str) -> int:
    """The C value of one of table's names."""
    if isinstance(value, str) and value in table:
        return table[value]
    raise InvalidArgumentError(f"{what} must be one of {sorted(table)}, not {reprlib.repr(value)}")


def one_id(value: Any, what: str = "id") -> int:
    """One vector id (0 .. 2**64 - 2)."""
    return integer(value, what, 0, MAX_ID)


def id_list(values: Any) -> list:
    """Ids (one, or an iterable of them) as a list of Python ints, each checked."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        return [one_id(values, "ids")]
    if np is not None and isinstance(values, np.ndarray):
        return _id_array(values).tolist()
    ids = values if isinstance(values, list) else list(values)
    # Python ints in range pass in C-speed passes; anything else is looked at one by one
    if not (set(map(type, ids)) <= _INTS and (not ids or (min(ids) >= 0 and max(ids) <= MAX_ID))):
        ids = [one_id(v, f"ids[{i}]") for i, v in enumerate(ids)]
    return ids


def id_array(values: Any) -> tuple[Any, int, Any]:
    """(pointer, n, keep-alive) for uint64 ids; a C-contiguous uint64 numpy array crosses without
    a copy."""
    if np is None:
        ids = id_list(values)
        buf = (ctypes.c_uint64 * len(ids))(*ids)
        return ctypes.cast(buf, ctypes.c_void_p), len(ids), buf
    if isinstance(values, np.ndarray):
        a = np.ascontiguousarray(_id_array(values), dtype=np.uint64)
    else:
        a = np.array(id_list(values), dtype=np.uint64)
    return address(a), a.shape[0], a


def _id_array(a: "np.ndarray") -> "np.ndarray":
    """A numpy array of ids, checked: one dimension (or none: one id), an integer dtype, every
    value an id."""
    if a.dtype.kind not in "iu":
        raise InvalidArgumentError(f"ids must be integers, not an array of {a.dtype}")
    if a.ndim > 1:
        raise InvalidArgumentError(f"ids must be one-dimensional, not of shape {a.shape}")
    a = a.reshape(-1)
    negative = a.dtype.kind == "i" and a.size and a.min() < 0
    reserved = a.dtype == np.uint64 and a.size and a.max() == NO_ID
    if negative or reserved:
        bad = int(np.flatnonzero((a < 0) if negative else (a == NO_ID))[0])
        one_id(int(a[bad]), f"ids[{bad}]")  # raises, naming the value
    return a


def float_rows(values: Any, dim: int) -> tuple[Any, int, Any]:
    """(pointer, rows, keep-alive) for rows of dim float32s (one vector is one row). A C-contiguous
    float32 numpy array crosses without a copy; other real numbers are converted once."""
    if np is None:
        return _float_rows_without_numpy(values, dim)
    if not isinstance(values, np.ndarray):
        try:
            values = np.asarray(values)
        except ValueError as e:  # numpy's word for ragged rows
            raise InvalidArgumentError(f"vectors must be rows of {dim} numbers: {e}") from None
    if values.dtype.kind not in "fiu":
        raise InvalidArgumentError(f"vectors must hold real numbers, not {values.dtype} values")
    a = np.ascontiguousarray(values, dtype=np.float32)
    if a.ndim == 1:
        a = a.reshape(1, -1)
    if a.ndim != 2 or a.shape[1] != dim:
        raise InvalidArgumentError(f"expected rows of {dim} floats, got shape {values.shape}")
    return address(a), a.shape[0], a


def _float_rows_without_numpy(values: Any, dim: int) -> tuple[Any, int, Any]:
    if not hasattr(values, "__iter__") or isinstance(values, (str, bytes)):
        raise InvalidArgumentError(f"vectors must be rows of {dim} numbers, not "
                                   f"{type(values).__name__}")
    rows = list(values)
    if rows and not isinstance(rows[0], _ROW_TYPES):
        rows = [rows]
    flat = array.array("f")
    for r in rows:
        if not isinstance(r, _ROW_TYPES):
            raise InvalidArgumentError(f"vectors must be rows of {dim} numbers, not mixed with "
                                       f"{type(r).__name__}")
        if len(r) != dim:
            raise InvalidArgumentError(f"expected rows of {dim} floats, got one of {len(r)}")
        for x in r:
            if isinstance(x, bool) or not isinstance(x, (int, float)):
                raise InvalidArgumentError(f"vectors must hold real numbers, not "
                                           f"{reprlib.repr(x)}")
        flat.extend(r)
    buf = (ctypes.c_float * len(flat)).from_buffer(flat) if flat else None
    return (ctypes.cast(buf, ctypes.c_void_p) if buf else None), len(rows), (flat, buf)


def is_one_query(queries: Any) -> bool:
    """Whether queries (already accepted by float_rows) is one vector rather than rows of them."""
    if np is not None:
        return np.ndim(queries) == 1
    return bool(queries) and not isinstance(list(queries)[0], _ROW_TYPES)


def _without_nul(text: bytes, what: str) -> bytes:
    """text for a C string, where a NUL would end it early."""
    if b"\0" in text:
        raise InvalidArgumentError(f"{what} contains a NUL character at byte {text.index(0)} (C "
                                   "text would end there)")
    return text


def c_text(value: Any, what: str) -> bytes:
    """A str as UTF-8 for a C string, without NUL."""
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{what} must be a str, not {type(value).__name__}")
    try:
        return _without_nul(value.encode(), what)
    except UnicodeEncodeError as e:
        raise InvalidArgumentError(f"{what} is not valid text: {e}") from None


def c_path(path: str | os.PathLike) -> bytes:
    """A file-system path (str, bytes or os.PathLike; os.fsencode) for a C string, without NUL."""
    try:
        return _without_nul(os.fsencode(path), "path")
    except TypeError:
        raise InvalidArgumentError(f"path must be a str, bytes or os.PathLike, not "
                                   f"{type(path).__name__}") from None


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as the Python values json can encode."""
    if np is not None and isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_text(value: Any, what: str) -> bytes:
    """A payload or filter as JSON text: dicts are encoded, str and bytes pass through as JSON
    text (without NUL)."""
    if isinstance(value, str):
        return c_text(value, what)
    if isinstance(value, bytes):
        return _without_nul(value, what)
    if not isinstance(value, dict):
        raise InvalidArgumentError(f"{what} must be a dict (or JSON text), not {type(value).__name__}")
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False, default=_plain).encode()
    except (TypeError, ValueError, RecursionError) as e:  # nested too deep for json
        raise InvalidArgumentError(f"{what} cannot be encoded as JSON: {e}") from None
