"""Validators for user-facing arguments, shared by every entry point.

Each function checks one kind of argument and raises ``TypeError`` (wrong kind of object) or
``ValueError`` (right kind, bad value) with a message that names the argument. Nothing here
knows about masking; the modules above decide which bounds apply.
"""

from __future__ import annotations

import difflib
import math
import numbers
from typing import AbstractSet, Any, Iterable, Literal, Optional, Sequence, overload

import numpy as np

__all__ = ["check_int", "check_prob", "check_choice", "check_bool", "int_array",
           "offsets_array", "sample_ids_array", "check_names"]


def check_names(where: str, names: Iterable[str], valid: AbstractSet[str]) -> None:
    """A TypeError naming the first unknown keyword option of ``where()``, the likely intended
    one and all valid ones."""
    for name in names:
        if name not in valid:
            close = difflib.get_close_matches(name, sorted(valid), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise TypeError(f"{where}() got an unexpected keyword argument {name!r}{hint}; "
                            f"valid options: {', '.join(sorted(valid))}")


@overload
def check_int(name: str, value: Any, lo: Optional[int] = None, hi: Optional[int] = None,
              none_ok: Literal[False] = ...) -> int: ...
@overload
def check_int(name: str, value: Any, lo: Optional[int] = None, hi: Optional[int] = None,
              *, none_ok: bool) -> Optional[int]: ...
def check_int(name: str, value: Any, lo: Optional[int] = None, hi: Optional[int] = None,
              none_ok: bool = False) -> Optional[int]:
    """An integer (not a bool) in ``[lo, hi]``; ``None`` passes when ``none_ok``."""
    if value is None and none_ok:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    v = int(value)
    if lo is not None and v < lo:
        raise ValueError(f"{name} must be >= {lo}, got {v}")
    if hi is not None and v > hi:
        raise ValueError(f"{name} must be <= {hi}, got {v}")
    return v


def check_prob(name: str, value: Any) -> float:
    """A real number in ``[0, 1]`` (not a bool, not NaN)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in [0, 1], got {type(value).__name__} {value!r}")
    v = float(value)
    if not (0.0 <= v <= 1.0) or math.isnan(v):
        raise ValueError(f"{name} must be in [0, 1], got {v}")
    return v


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """One of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_exclusive(named: Sequence[tuple]) -> list:
    """The names of the ``(name, value)`` pairs given (value not ``None``): at most one."""
    given = [name for name, value in named if value is not None]
    if len(given) > 1:
        raise ValueError(f"pass only one of {', '.join(given)}")
    return given


def check_bool(name: str, value: Any) -> bool:
    """``True`` or ``False`` (a NumPy bool too), nothing else."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def int_array(name: str, value: Any) -> np.ndarray:
    """``value`` as a NumPy array of an integer dtype (bools refused)."""
    arr = np.asarray(value)
    if arr.dtype.kind == "b" or arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer array, got dtype {arr.dtype}")
    return arr


def offsets_array(name: str, offsets: Any, n_values: int) -> np.ndarray:
    """Arrow-style row offsets over ``n_values`` flat values: 1-D, non-decreasing, from 0 to
    ``n_values``; returned as contiguous int64."""
    off = int_array(name, offsets)
    if off.ndim != 1 or off.shape[0] < 1:
        raise ValueError(f"{name} must be a 1-D array of at least one entry")
    if off.dtype.kind == "u" and off.shape[0] and int(off.max()) > np.iinfo(np.int64).max:
        raise ValueError(f"{name}: value {int(off.max())} is out of range")
    off = off.astype(np.int64)
    if off[0] != 0 or off[-1] != n_values:
        raise ValueError(f"{name} must start at 0 and end at the number of values ({n_values}), "
                         f"got {int(off[0])} .. {int(off[-1])}")
    bad = np.flatnonzero(np.diff(off) < 0)
    if bad.shape[0]:
        raise ValueError(f"{name} must be non-decreasing; {name}[{int(bad[0]) + 1}] < "
                         f"{name}[{int(bad[0])}]")
    return np.ascontiguousarray(off)


def sample_ids_array(value: Any, n: int, limit: int) -> np.ndarray:
    """One sample id per sequence (``n`` of them), each an integer in ``[0, limit)``, as
    contiguous uint64. Lists are checked element by element, so a bad entry is named whatever
    NumPy would have made of the list."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "iu":
        arr = value
        if arr.shape != (n,):
            raise ValueError(f"sample_ids must have one entry per sequence ({n}), got shape "
                             f"{arr.shape}")
        if arr.dtype.kind == "i":
            bad = np.flatnonzero(arr < 0)
            if bad.shape[0]:
                i = int(bad[0])
                raise ValueError(f"sample_ids[{i}] = {int(arr[i])} is negative")
        big = np.flatnonzero(arr.astype(np.uint64) >= np.uint64(limit))
        if big.shape[0]:
            i = int(big[0])
            raise ValueError(f"sample_ids[{i}] = {int(arr[i])} is not below 2**{limit.bit_length() - 1}")
        return np.ascontiguousarray(arr, dtype=np.uint64)
    if isinstance(value, np.ndarray):
        if value.dtype != object and value.size:
            raise TypeError(f"sample_ids must be integers, got dtype {value.dtype}")
        shape = value.shape
        items = value.reshape(-1).tolist()
    elif isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        raise TypeError(f"sample_ids must be a sequence of integers, got {type(value).__name__}")
    else:
        items = list(value)
        shape = (len(items),)
    for i, v in enumerate(items):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
            raise TypeError(f"sample_ids must be integers, got {type(v).__name__} {v!r} at "
                            f"sample_ids[{i}]")
    if shape != (n,):
        raise ValueError(f"sample_ids must have one entry per sequence ({n}), got shape {shape}")
    for i, v in enumerate(items):
        if v < 0:
            raise ValueError(f"sample_ids[{i}] = {int(v)} is negative")
        if v >= limit:
            raise ValueError(f"sample_ids[{i}] = {int(v)} is not below 2**{limit.bit_length() - 1}")
    return np.array([int(v) for v in items], dtype=np.uint64).reshape(n)
