"""Per-example word-start flags from what a tokenizer reports about an encoding: word ids
(``encoding.word_ids()``), character offsets (``offset_mapping``) and Chinese whole-word
references (``chinese_ref``)."""

from __future__ import annotations

from numbers import Integral
from typing import Any, Iterable, List, Optional, Sequence, Union

import numpy as np

from .. import _core
from ._rules import SPANS, WORD_IDS, flat_starts

Offsets = Union[Sequence[Sequence[int]], np.ndarray]
WordIds = Union[Sequence[Optional[int]], np.ndarray]


def _word_ids_array(word_ids: WordIds, where: str) -> np.ndarray:
    """int64 array of one example's word ids, ``None`` (and negatives) as -1."""
    if isinstance(word_ids, np.ndarray):
        if word_ids.ndim != 1:
            raise ValueError(f"{where} must be 1-D, got shape {word_ids.shape}")
        if word_ids.dtype != object:
            if word_ids.size and not np.issubdtype(word_ids.dtype, np.integer):
                raise TypeError(f"{where} must hold ints or None, got dtype {word_ids.dtype}")
            return np.where(word_ids < 0, -1, word_ids).astype(np.int64)
    if len(word_ids) == 0:
        return np.zeros(0, dtype=np.int64)
    try:
        fast = np.array([-1 if w is None else w for w in word_ids])
    except (TypeError, ValueError, OverflowError):
        fast = None
    if fast is not None and fast.ndim == 1 and fast.dtype.kind in "iu" and not any(
            isinstance(w, (bool, np.bool_)) for w in word_ids):  # bools go to the loop: refused
        return np.where(fast < 0, -1, fast).astype(np.int64, copy=False)
    out = np.empty(len(word_ids), dtype=np.int64)
    for j, w in enumerate(word_ids):
        if w is None:
            out[j] = -1
        elif isinstance(w, Integral) and not isinstance(w, bool):
            value = int(w)
            if value >= 1 << 63:
                raise ValueError(f"{where}[{j}] = {value} does not fit in 64 bits")
            out[j] = value if value >= 0 else -1
        else:
            raise TypeError(f"{where}[{j}] is {type(w).__name__} {w!r}, expected int or None")
    return out


def flags_from_flat_word_ids(values: np.ndarray, offsets: Optional[np.ndarray] = None) -> np.ndarray:
    """The word-id rule on flat int64 word ids (negative = no word) of rows cut by ``offsets``
    (one row when ``None``): ``f[j] = 1`` at a row's first token, at a token without a word
    and where the word id changes. Applied by the C core (csrc/words.c)."""
    flags, _, _ = flat_starts(WORD_IDS, np.asarray(values), offsets)
    return flags


def _flags_from_word_ids(ids: np.ndarray) -> np.ndarray:
    return flags_from_flat_word_ids(ids)


def _is_sequence(x: Any) -> bool:
    return isinstance(x, (list, tuple, np.ndarray))


def starts_from_word_ids(
    word_ids: Union[WordIds, Sequence[WordIds]],
) -> Union[np.ndarray, List[np.ndarray]]:
    """Word-start flags from a fast tokenizer's ``encoding.word_ids()``.

    ``f[j] = 1`` when ``word_ids[j]`` is ``None`` (a special token), or ``j == 0``, or
    ``word_ids[j] != word_ids[j-1]``. A negative id counts as ``None`` (the usual way to store
    word ids in an integer array).

    For a pair of sequences the tokenizer restarts word ids at 0 in the second one; the special
    token between them (``[SEP]``, ``</s>``) keeps the first word of the second sequence apart.

    Args:
        word_ids: one example (a list of ints/``None`` or a 1-D integer array), a batch of
            examples (a list of such lists, each with its own length), or a 2-D integer array
            whose rows are examples.

    Returns:
        A ``uint8`` array of the example's length; for a list batch a list of them; for a 2-D
        array a 2-D array.
    """
    if isinstance(word_ids, np.ndarray) and word_ids.ndim == 2 and word_ids.dtype != object:
        if np.issubdtype(word_ids.dtype, np.integer):  # all rows in one call of the core
            rows, width = word_ids.shape
            cuts = np.arange(0, rows * width + 1, max(width, 1), dtype=np.int64)
            return flags_from_flat_word_ids(word_ids.reshape(-1), cuts).reshape(rows, width)
        flags = np.empty(word_ids.shape, dtype=np.uint8)
        for i, row in enumerate(word_ids):
            flags[i] = _flags_from_word_ids(_word_ids_array(row, f"word_ids[{i}]"))
        return flags
    if not _is_sequence(word_ids):
        raise TypeError(
            f"word_ids must be a list of ints/None, a list of such lists or an integer array, "
            f"got {type(word_ids).__name__}"
        )
    first = next((w for w in word_ids if w is not None), None)
    if _is_sequence(first):
        out = []
        for i, example in enumerate(word_ids):
            if not _is_sequence(example):
                raise TypeError(
                    f"word_ids[{i}] is {type(example).__name__}; a batch holds one list per example"
                )
            out.append(_flags_from_word_ids(_word_ids_array(example, f"word_ids[{i}]")))
        return out
    return _flags_from_word_ids(_word_ids_array(word_ids, "word_ids"))  # type: ignore[arg-type]


#: Offsets at or above this count as this (every path reads them the same way).
OFFSET_LIMIT = 1 << 62


def _clamp_offset(v: int) -> int:
    """An offset as the core reads it: negatives stay negative (an error), large values count
    as :data:`OFFSET_LIMIT`."""
    v = int(v)
    return -1 if v < 0 else min(v, OFFSET_LIMIT)


def _offsets_array(offsets: Any, where: str) -> np.ndarray:
    """``(n, 2)`` int64 array of one example's ``(start, end)`` pairs, validated."""
    if not _is_sequence(offsets):
        raise TypeError(
            f"{where} must be a list of (start, end) pairs or an (n, 2) array, "
            f"got {type(offsets).__name__}"
        )
    if len(offsets) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    arr: Optional[np.ndarray] = None
    if isinstance(offsets, np.ndarray):
        arr = offsets
    else:
        try:
            arr = np.asarray(offsets)
        except ValueError:  # ragged pairs
            arr = None
    well_formed = (
        arr is not None
        and arr.ndim == 2
        and arr.shape[1] == 2
        and np.issubdtype(arr.dtype, np.integer)
    )
    if arr is None or not well_formed:
        if isinstance(offsets, np.ndarray):
            if offsets.ndim != 2 or offsets.shape[1] != 2:
                raise ValueError(f"{where} must have shape (n, 2), got {offsets.shape}")
            raise TypeError(f"{where} must hold integers, got dtype {offsets.dtype}")
        for j, pair in enumerate(offsets):
            if not _is_sequence(pair) or len(pair) != 2:
                raise ValueError(f"{where}[{j}] = {pair!r} is not a (start, end) pair")
            for v in pair:
                if isinstance(v, bool) or not isinstance(v, Integral):
                    raise TypeError(
                        f"{where}[{j}] = {pair!r}: offsets must be ints, not {type(v).__name__}"
                    )
        try:
            arr = np.array(offsets, dtype=np.int64)
        except OverflowError:
            arr = np.array([[_clamp_offset(v) for v in pair] for pair in offsets],
                           dtype=np.int64)
    arr = arr.astype(np.int64, copy=False)
    if arr.size and int(arr.max()) > OFFSET_LIMIT:
        arr = np.minimum(arr, OFFSET_LIMIT)
    starts, ends = arr[:, 0], arr[:, 1]
    bad = (starts < 0) | (ends < starts)
    if bad.any():
        j = int(np.argmax(bad))
        raise ValueError(
            f"{where}[{j}] = ({int(starts[j])}, {int(ends[j])}): need 0 <= start <= end"
        )
    return arr


def _flags_from_offsets(arr: np.ndarray, text: Optional[str], where: str) -> np.ndarray:
    """The span rule (applied by the C core) on validated ``(n, 2)`` offsets; with ``text``
    also a token whose span begins with whitespace starts a word (the part of the rule the
    core cannot see, kept here only)."""
    flags, rc, pos = flat_starts(SPANS, arr)
    if rc == _core.ERR_SPAN:
        raise ValueError(f"{where}[{pos}] = ({int(arr[pos, 0])}, {int(arr[pos, 1])}): need "
                         "0 <= start <= end")
    if flags.shape[0] == 0:
        return flags
    starts, ends = arr[:, 0], arr[:, 1]
    empty = starts == ends
    if text is not None:
        if int(ends.max()) > len(text):
            j = int(np.argmax(ends > len(text)))
            raise ValueError(
                f"{where}[{j}] = ({int(starts[j])}, {int(ends[j])}) goes past the end of the "
                f"text ({len(text)} characters)"
            )
        for k in np.flatnonzero(~empty & (flags == 0)):
            if text[int(starts[k])].isspace():  # offsets that include the leading space
                flags[k] = 1
    return flags


def _is_offsets_batch(offsets: Any) -> bool:
    if isinstance(offsets, np.ndarray):
        return offsets.ndim == 3
    if not offsets:
        return False
    first = offsets[0]
    if not _is_sequence(first):
        return False
    return len(first) == 0 or _is_sequence(first[0])


def starts_from_offsets(
    offsets: Union[Offsets, Sequence[Offsets]],
    text: Union[str, Sequence[Optional[str]], None] = None,
) -> Union[np.ndarray, List[np.ndarray]]:
    """Word-start flags from character offsets (a tokenizer's ``offset_mapping``).

    Tokens are grouped into whitespace-separated words: ``f[j] = 1`` when ``j == 0``, when
    something lies between the previous token's end and this token's start
    (``start_j > end_{j-1}``), when the offsets go back (``start_j < start_{j-1}``: the second
    text of a pair), and for a token with an empty span and the token right after a ``(0, 0)``
    special token. Tokens that touch or overlap (several byte-level pieces of one character)
    continue a word.

    Tokenizers whose offsets include the leading space of a piece (SentencePiece ``▁x``,
    byte-level ``Ġx`` without ``trim_offsets``) need ``text``: with it, a token whose span
    starts with a whitespace character also starts a word.

    Args:
        offsets: one example, as ``(start, end)`` pairs or an ``(n, 2)`` integer array; or a
            batch: a list of examples, each with its own length, or a ``(B, n, 2)`` array.
        text: the encoded text (one string, or one per example of a batch; ``None`` to go by
            the offsets alone).

    Returns:
        A ``uint8`` array of the example's length; for a batch a list of them (a 2-D array for
        a 3-D input).
    """
    if not _is_sequence(offsets):
        raise TypeError(
            "offsets must be a list of (start, end) pairs, an (n, 2) array, or a batch of them; "
            f"got {type(offsets).__name__}"
        )
    if _is_offsets_batch(offsets):
        count = len(offsets)
        if text is None or isinstance(text, str):
            if isinstance(text, str):
                raise TypeError("text must be a list of strings (one per example) for a batch")
            texts: Sequence[Optional[str]] = [None] * count
        else:
            texts = text
            if len(texts) != count:
                raise ValueError(f"text has {len(texts)} entries for {count} examples")
        out = []
        for i in range(count):
            t = texts[i]
            if t is not None and not isinstance(t, str):
                raise TypeError(f"text[{i}] is {type(t).__name__}, expected str or None")
            where = f"offsets[{i}]"
            out.append(_flags_from_offsets(_offsets_array(offsets[i], where), t, where))
        if isinstance(offsets, np.ndarray):
            return np.stack(out) if out else np.zeros(offsets.shape[:2], dtype=np.uint8)
        return out
    if text is not None and not isinstance(text, str):
        raise TypeError(f"text must be a str for one example, got {type(text).__name__}")
    return _flags_from_offsets(_offsets_array(offsets, "offsets"), text, "offsets")


def starts_from_chinese_ref(
    n: int,
    chinese_ref: Iterable[int],
    base: Union[Sequence[int], np.ndarray, None] = None,
) -> np.ndarray:
    """Word-start flags from a Chinese whole-word reference (Hugging Face's ``chinese_ref``).

    ``chinese_ref`` lists the positions of tokens that continue a Chinese word. The flags are
    ``base`` (all ones by default: every token starts a word, as for character-level Chinese
    BERT) with those positions set to 0.

    Args:
        n: number of tokens of the example.
        chinese_ref: positions in ``[0, n)``.
        base: flags for the rest of the sequence (e.g. from :func:`starts_from_table` for the
            ``##`` pieces of non-Chinese words); length ``n``, values 0/1. Not modified.

    Returns:
        A ``uint8`` array of length ``n``.
    """
    if isinstance(n, bool) or not isinstance(n, Integral):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    n = int(n)
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if base is None:
        flags = np.ones(n, dtype=np.uint8)
    else:
        arr = np.asarray(base)
        if arr.ndim != 1 or arr.shape[0] != n:
            raise ValueError(f"base must be 1-D of length n={n}, got shape {arr.shape}")
        if arr.size and not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_):
            raise TypeError(f"base must hold 0/1 integers, got dtype {arr.dtype}")
        if arr.size and (arr.min() < 0 or arr.max() > 1):
            j = int(np.argmax((arr < 0) | (arr > 1)))
            raise ValueError(f"base[{j}] = {arr[j]}; flags are 0 or 1")
        flags = arr.astype(np.uint8)  # always a copy
    if isinstance(chinese_ref, (str, bytes)) or not isinstance(chinese_ref, Iterable):
        raise TypeError(
            f"chinese_ref must be a list of positions, got {type(chinese_ref).__name__}"
        )
    for k, pos in enumerate(chinese_ref):
        if isinstance(pos, bool) or not isinstance(pos, Integral):
            raise TypeError(f"chinese_ref[{k}] is {type(pos).__name__}, expected int")
        if not 0 <= pos < n:
            raise ValueError(f"chinese_ref[{k}] = {pos} is outside [0, {n})")
        flags[int(pos)] = 0
    return flags


def example_word_id_flags(word_ids: WordIds, where: str) -> np.ndarray:
    """Flags of one example's word ids; errors name ``where`` (e.g. ``"word_ids[3]"``)."""
    return flags_from_flat_word_ids(_word_ids_array(word_ids, where))


def example_offset_flags(offsets: Offsets, where: str) -> np.ndarray:
    """Flags of one example's offsets (without text); errors name ``where``."""
    return _flags_from_offsets(_offsets_array(offsets, where), None, where)
