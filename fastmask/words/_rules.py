"""The word-start rules of docs/semantics.md (section 6), applied by the C core (csrc/words.c).

Every Python-side word-start computation (word ids, character spans, the vocabulary table)
goes through :func:`flat_starts`, so each rule is written once, in C; the pure-Python reference
(fastmask.reference) implements the same rules independently and the tests compare the two.

The rules only look at a token and the one before it, and a row's first token always starts a
word, so rows laid end to end are handled as one long row with each row's first flag set.
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from .. import _core

WORD_IDS = _core.STARTS_FROM_WORD_IDS
SPANS = _core.STARTS_FROM_SPANS
TABLE = _core.STARTS_FROM_TABLE


def flat_starts(kind: int, values: np.ndarray, offsets: Optional[np.ndarray] = None,
                table: Optional[np.ndarray] = None) -> Tuple[np.ndarray, int, int]:
    """Word-start flags of flat ``values`` (word ids, token ids, or ``(n, 2)`` spans) whose rows
    are cut by ``offsets`` (one row when ``None``).

    Returns ``(flags, status, pos)``: ``status`` is the C core's (``_core.OK`` or an
    ``ERR_*`` code) and ``pos`` the flat position it names (-1 where none applies).
    """
    vals = np.ascontiguousarray(values, dtype=np.int64).reshape(-1)
    n = vals.shape[0] // 2 if kind == SPANS else vals.shape[0]
    flags = np.zeros((1, n), dtype=np.uint8)
    if n:
        rc, _, pos = _core.word_starts_ragged(kind, vals, np.array([0, n], dtype=np.int64),
                                              flags, False, False, table)
        if rc != _core.OK:
            return flags[0], rc, pos
    flat = flags[0]
    if offsets is not None and offsets.shape[0] > 1:
        firsts = offsets[:-1][np.diff(offsets) > 0]
        flat[firsts[firsts < n]] = 1
    return flat, _core.OK, -1
