"""The pure-Python :class:`Masker` / :func:`pad` / :func:`mask` front end over the kernel.

Only the option checks are shared with :mod:`fastmask._api` (the :class:`Masker` constructor and
the layout options). Everything a call does is done here again, in plain Python on lists of
ints: reading every input form (lists, padded 2-D arrays with ``lengths`` or
``attention_mask``, flat values with ``offsets``), the side inputs, the word boundaries (word
ids, offsets, flags, ``chinese_ref``, via the kernel's rules), truncation, the padded width, the
running sample-id counter, padding and masking. NumPy is used only to accept arrays and to
return the results as arrays. A layout or normalisation bug in the C path therefore shows up as
a difference in the equivalence tests instead of being shared.
"""

from __future__ import annotations

import inspect
import numbers
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .. import _api
from .. import _config as C
from .._checks import check_exclusive, check_int, int_array, offsets_array, sample_ids_array
from .kernel import (
    pad_and_mask,
    word_starts_from_offsets,
    word_starts_from_table,
    word_starts_from_word_ids,
)

__all__ = ["Masker", "pad", "mask"]

Rows = List[list]


def _is_int(x: Any) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_))


def _is_array(x: Any) -> bool:
    return isinstance(x, np.ndarray) or (hasattr(x, "__array__")
                                         and not isinstance(x, (list, tuple)))


def _is_batch(x: Any) -> bool:
    """A sized container that can hold sequences (not a string, bytes or a mapping)."""
    return hasattr(x, "__len__") and not isinstance(x, (str, bytes, dict))


def _with_signature(sig: inspect.Signature):
    """Shows ``sig`` (the C path's) as the signature of the decorated function."""
    def wrap(f):
        f.__signature__ = sig
        return f
    return wrap


def _arguments(where: str, sig: inspect.Signature, *args: Any, **kwargs: Any) -> Dict[str, Any]:
    """The arguments of a call of ``where`` by ``sig``, defaults filled in; a TypeError as
    Python's for an unknown keyword."""
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError as e:
        raise TypeError(f"{where}() {e}") from None
    bound.apply_defaults()
    return bound.arguments


# ---------------------------------------------------------------------------------------------
# reading inputs into lists


def _as_list(seq: Any, name: str, i: int) -> list:
    """One sequence (list, tuple or 1-D integer array) as a list."""
    if isinstance(seq, (list, tuple)):
        return list(seq)
    if _is_array(seq):
        arr = np.asarray(seq)
        if arr.ndim != 1:
            raise ValueError(f"{name}[{i}]: expected a 1-D sequence of ids, got an array of "
                             f"shape {arr.shape}")
        if arr.dtype.kind not in "iub" or (arr.dtype.kind == "b" and name == "input_ids"):
            raise TypeError(f"{name}[{i}]: expected an integer array, got dtype {arr.dtype}")
        return arr.tolist()
    if not _is_batch(seq):
        raise TypeError(f"{name}[{i}]: expected a list, tuple or 1-D integer array of ids, "
                        f"got {type(seq).__name__}")
    return list(seq)


def _spans(B: int, W: int, lengths: Any, attention_mask: Any,
           left: bool) -> List[Tuple[int, int]]:
    """Column span ``[a, b)`` of the real tokens of each row of a padded 2-D input."""
    if lengths is None and attention_mask is None:
        return [(0, W)] * B
    spans = []
    if attention_mask is None:
        counts = int_array("lengths", lengths)
        if counts.shape != (B,):
            raise ValueError(f"lengths must have shape ({B},), got {counts.shape}")
        for i, n in enumerate(counts.tolist()):
            if not 0 <= n <= W:
                raise ValueError(f"lengths[{i}] = {n} is outside [0, {W}]")
            spans.append((W - n, W) if left else (0, n))
        return spans
    if lengths is not None:
        raise ValueError("pass lengths or attention_mask, not both")
    grid = np.asarray(attention_mask)
    if grid.shape != (B, W):
        raise ValueError("attention_mask must have the shape of input_ids "
                         f"{(B, W)}, got {grid.shape}")
    if grid.dtype.kind not in "iub":
        raise TypeError(f"attention_mask must be an integer or boolean array, got {grid.dtype}")
    cells = grid.tolist()
    for i, row in enumerate(cells):
        for j, v in enumerate(row):
            if v not in (0, 1):
                raise ValueError(f"attention_mask[{i}][{j}] = {v} is not 0 or 1")
    for i, row in enumerate(cells):
        n = sum(1 for v in row if v)
        a, b = (W - n, W) if left else (0, n)
        for j, v in enumerate(row):
            if bool(v) != (a <= j < b):
                raise ValueError(f"attention_mask[{i}] is not a "
                                 f"{'left' if left else 'right'}-padded mask (position "
                                 f"{j}); fastmask expects real tokens to be contiguous")
        spans.append((a, b))
    return spans


class _Form:
    """How input_ids was given, so that side inputs can be read the same way."""

    def __init__(self, kind: str, lengths: List[int], offsets=None, spans=None, shape=None):
        self.kind = kind  # "lists", "flat" or "2d"
        self.lengths = lengths
        self.offsets = offsets
        self.spans = spans
        self.shape = shape


def _read_flat(input_ids: Any, offsets: Any) -> Tuple[Rows, _Form]:
    """Flat values with offsets: row i is ``values[offsets[i]:offsets[i + 1]]``."""
    values = int_array("input_ids", input_ids)
    if values.ndim != 1:
        raise ValueError("with offsets, input_ids must be the 1-D flat values, got shape "
                         f"{values.shape}")
    flat = values.tolist()
    bounds = offsets_array("offsets", offsets, len(flat)).tolist()
    rows = [flat[a:b] for a, b in zip(bounds, bounds[1:])]
    return rows, _Form("flat", [len(r) for r in rows], offsets=bounds)


def _read_ids(input_ids: Any, lengths: Any, attention_mask: Any, offsets: Any,
              left: bool) -> Tuple[Rows, _Form]:
    if offsets is not None:
        return _read_flat(input_ids, offsets)
    if _is_array(input_ids):
        arr = np.asarray(input_ids)
        if arr.ndim == 2:
            if arr.dtype.kind not in "iu":
                raise TypeError(f"input_ids must be an integer array, got dtype {arr.dtype}")
            B, W = arr.shape
            spans = _spans(B, W, lengths, attention_mask, left)
            grid = arr.tolist()
            rows = [grid[i][a:b] for i, (a, b) in enumerate(spans)]
            return rows, _Form("2d", [len(r) for r in rows], spans=spans, shape=(B, W))
        if arr.dtype != object:
            if arr.ndim == 1:
                raise ValueError("input_ids is a 1-D array: pass a batch (a list of sequences, "
                                 "a 2-D array, or flat values with offsets=)")
            raise ValueError(f"input_ids must be 2-D, got shape {arr.shape}")
        input_ids = list(arr)
    if lengths is not None or attention_mask is not None:
        raise ValueError("lengths and attention_mask describe a padded 2-D input_ids array; "
                         "a list of sequences carries its own lengths")
    if not _is_batch(input_ids):
        raise TypeError("input_ids must be a list of sequences, a 2-D integer array or flat "
                        f"values with offsets, got {type(input_ids).__name__}")
    rows = [_as_list(s, "input_ids", i) for i, s in enumerate(input_ids)]
    return rows, _Form("lists", [len(r) for r in rows])


def _check_row_lengths(name: str, rows: Sequence[Sequence[Any]], form: _Form) -> None:
    for i, (r, n) in enumerate(zip(rows, form.lengths)):
        if len(r) != n:
            raise ValueError(f"{name}[{i}] has {len(r)} entries but input_ids[{i}] has {n} "
                             "tokens")


def _per_example(name: str, value: Any, n: int) -> list:
    """``value`` as a list of ``n`` entries, one per sequence."""
    sized = hasattr(value, "__len__") and not isinstance(value, (str, bytes))
    entries = list(value) if sized else None
    if entries is None:
        raise TypeError(f"{name} must be a list with one entry per sequence")
    if len(entries) != n:
        raise ValueError(f"{name} has {len(entries)} entries but input_ids has {n} sequences")
    return entries


def _is_per_sequence(value: Any, lengths: List[int]) -> bool:
    """A list (not an array) of one sequence per row, each of its row's length."""
    return isinstance(value, (list, tuple)) and len(value) == len(lengths) and len(value) > 0 \
        and all((isinstance(v, (list, tuple)) or isinstance(v, np.ndarray)) and len(v) == n
                for v, n in zip(value, lengths))


def _read_side(name: str, value: Any, form: _Form, lo: int, hi: int,
               cut: Optional[int] = None) -> Optional[Rows]:
    """A per-token side input as one list per row, values in [lo, hi); with ``cut`` only the
    first ``cut`` entries of each row are checked (truncation never reads the rest)."""
    if value is None:
        return None
    B = len(form.lengths)
    if form.kind == "lists" or _is_per_sequence(value, form.lengths):
        if isinstance(value, np.ndarray) and value.ndim == 2:
            value = list(value)
        if not hasattr(value, "__len__") or isinstance(value, (str, bytes)):
            raise TypeError(f"{name} must be a list of per-sequence lists or arrays")
        if len(value) != B:
            raise ValueError(f"{name} has {len(value)} sequences but input_ids has {B}")
        rows = [_as_list(v, name, i) for i, v in enumerate(value)]
        _check_row_lengths(name, rows, form)
    else:
        arr = np.asarray(value)
        n_values = sum(form.lengths)
        if arr.ndim == 2 and form.kind == "2d":
            if arr.shape != form.shape:
                raise ValueError(f"{name} must have the shape of input_ids {form.shape}, got "
                                 f"{arr.shape}")
            grid = arr.tolist()
            rows = [grid[i][a:b] for i, (a, b) in enumerate(form.spans)]
        elif arr.ndim == 2 and form.kind == "flat" and arr.shape[0] == B and all(
                n == arr.shape[1] for n in form.lengths):
            rows = arr.tolist()
        elif arr.ndim == 1 and arr.shape[0] == n_values:
            flat = arr.tolist()
            o = [0]
            for n in form.lengths:
                o.append(o[-1] + n)
            rows = [flat[o[i]:o[i + 1]] for i in range(B)]
        else:
            raise ValueError(f"{name} must be aligned with input_ids: expected {n_values} "
                             f"values, got shape {arr.shape}")
        if arr.dtype.kind not in "iub" or (arr.dtype.kind == "b" and hi != 2):
            raise TypeError(f"{name} must hold integers, got dtype {arr.dtype}")
    for i, r in enumerate(rows):
        for j, v in enumerate(r if cut is None else r[:cut]):
            if isinstance(v, (bool, np.bool_)) and hi == 2:
                v = int(v)
                r[j] = v
            if not _is_int(v):
                raise TypeError(f"{name}[{i}][{j}]: expected an integer, got "
                                f"{type(v).__name__} {v!r}")
            if not lo <= v < hi:
                raise ValueError(f"{name}[{i}][{j}]: value {v} is out of range [{lo}, {hi})")
            r[j] = int(v)
    return rows


def _example(row: Any) -> Any:
    return row.tolist() if isinstance(row, np.ndarray) else row


def _word_starts(form: _Form, word_starts, word_ids, offset_mapping,
                 chinese_ref, cut: Optional[int] = None, rows: Optional[Rows] = None,
                 table: Optional[bytes] = None) -> Optional[Rows]:
    """As ``fastmask._rows.word_start_rows``: ``chinese_ref`` marks continuing positions on
    top of the other boundaries, or of the word table's (``table``, read from ``rows``) when it
    is the only source."""
    check_exclusive((("word_starts", word_starts), ("word_ids", word_ids),
                     ("offset_mapping", offset_mapping)))
    B = len(form.lengths)
    base: Optional[Rows] = None
    if word_starts is not None:
        base = _read_side("word_starts", word_starts, form, 0, 2, cut)
    elif word_ids is not None:
        base = _flag_rows("word_ids", word_ids, word_starts_from_word_ids, form, cut)
    elif offset_mapping is not None:
        base = _flag_rows("offset_mapping", offset_mapping, word_starts_from_offsets, form,
                          cut)
    if chinese_ref is None:
        return base
    if base is None and table is not None and rows is not None:
        base = [word_starts_from_table(r, table)
                if all(_is_int(y) and 0 <= y < len(table) for y in r) else [1] * len(r)
                for r in rows]
    out = []
    for i, refs in enumerate(_per_example("chinese_ref", chinese_ref, B)):
        n = form.lengths[i]
        flags = [1] * n if base is None else list(base[i])
        for k, pos in enumerate([] if refs is None else _example(refs)):
            if not _is_int(pos):
                raise TypeError(f"chinese_ref[{i}]: chinese_ref[{k}] is {type(pos).__name__}, "
                                "expected int")
            if not 0 <= pos < n:
                raise ValueError(f"chinese_ref[{i}]: chinese_ref[{k}] = {pos} is outside "
                                 f"[0, {n})")
            flags[int(pos)] = 0
        out.append(flags)
    return out


def _flag_rows(name: str, value: Any, rule, form: _Form, cut: Optional[int]) -> Rows:
    """Word-start flags of per-example word ids or offsets by a kernel rule, applied to each
    example's first ``cut`` entries (all without truncation) and padded with zeros to the
    example's length."""
    examples = [_example(e) for e in _per_example(name, value, len(form.lengths))]
    for i, e in enumerate(examples):
        if isinstance(e, (str, bytes)) or not isinstance(e, (list, tuple)):
            raise TypeError(f"{name}[{i}] must be a list, got {type(e).__name__}")
    _check_row_lengths(name, examples, form)
    out = []
    for i, e in enumerate(examples):
        kept = list(e) if cut is None else list(e[:cut])
        flags = rule(kept, f"{name}[{i}]")
        out.append(flags + [0] * (len(e) - len(kept)))
    return out


def _check_ids(rows: Rows, hi: int) -> Rows:
    """Every id an int in [0, hi), with the messages of the C path."""
    out = []
    for i, r in enumerate(rows):
        row = []
        for k, item in enumerate(r):
            if not _is_int(item):
                raise TypeError(f"input_ids[{i}][{k}]: expected an integer id, got "
                                f"{type(item).__name__} {item!r}")
            v = int(item)
            if not 0 <= v < hi:
                raise ValueError(f"input_ids[{i}][{k}]: id {item!r} is out of range [0, {hi})")
            row.append(v)
        out.append(row)
    return out


# ---------------------------------------------------------------------------------------------
# layout


def _width(lay, lengths: List[int]) -> int:
    """The padded width (rows already truncated when truncation is on)."""
    longest = max(lengths, default=0)
    if lay.max_length is not None and longest > lay.max_length:
        raise ValueError(f"input_ids[{lengths.index(longest)}] has {longest} tokens, more than "
                         f"max_length={lay.max_length}; pass truncation=True to cut it")
    # padding="max_length" always comes with max_length (Layout checks it)
    width = lay.max_length if lay.padding == "max_length" else longest
    if lay.pad_to_multiple_of is not None:  # rounded up to a multiple
        width = -(-width // lay.pad_to_multiple_of) * lay.pad_to_multiple_of
    if width > C.MAX_WIDTH:
        raise ValueError(f"the padded width {width} is above the limit of {C.MAX_WIDTH} "
                         "tokens (max_length / pad_to_multiple_of)")
    return width


def _cut(rows: Optional[Rows], n: int) -> Optional[Rows]:
    return None if rows is None else [r[:n] for r in rows]


def _pad_rows(rows: Rows, width: int, left: bool, fill: int) -> Rows:
    return [[fill] * (width - len(r)) + r if left else r + [fill] * (width - len(r))
            for r in rows]


def _array(rows: Rows, B: int, width: int, dtype) -> np.ndarray:
    return np.array(rows, dtype=dtype).reshape(B, width)


def _read_sample_ids(sample_ids: Any, B: int) -> List[int]:
    return sample_ids_array(sample_ids, B, C.MAX_SAMPLE_ID).tolist()


# ---------------------------------------------------------------------------------------------
# the API


#: the keywords and defaults of the C path's call and pad, which the reference takes too
_CALL = inspect.signature(_api.Masker.__call__)
_PAD = inspect.signature(_api.pad)


class Masker(_api.Masker):
    """:class:`fastmask.Masker` computed entirely in Python by the reference kernel."""

    _impl = "reference"

    def _make_core(self):
        return None

    @_with_signature(_CALL)
    def __call__(self, input_ids: Any, **kwargs: Any) -> Dict[str, np.ndarray]:
        a = _arguments("Masker.__call__", _CALL, self, input_ids, **kwargs)
        epoch = check_int("epoch", a["epoch"], 0, C.MAX_EPOCH - 1)
        lay = self.layout
        left = lay.padding_side == "left"
        rows, form = _read_ids(input_ids, a["lengths"], a["attention_mask"], a["offsets"], left)
        B = len(rows)
        cut = lay.max_length if lay.truncation else None
        special = _read_side("special_tokens_mask", a["special_tokens_mask"], form, 0, 2, cut)
        types = _read_side("token_type_ids", a["token_type_ids"], form, 0, C.MAX_VOCAB, cut)
        starts = _word_starts(form, a["word_starts"], a["word_ids"], a["offset_mapping"],
                              a["chinese_ref"], cut, rows, self._word_table)
        self._check_boundaries(starts is not None)
        sample_ids = a["sample_ids"]
        if cut is not None:  # truncation (it needs max_length)
            rows = [r[:cut] for r in rows]
            special, types, starts = (_cut(x, cut) for x in (special, types, starts))
        width = _width(lay, [len(r) for r in rows])
        seqs = _check_ids(rows, self.vocab_size)
        if sample_ids is None:
            with self._lock:
                start = self._next_sid
                if start + B > C.MAX_SAMPLE_ID:
                    raise ValueError("the running sample-id counter reached 2**48")
                sids = list(range(start, start + B))
                out_ids, labels, attention = pad_and_mask(
                    self._kc, epoch, seqs, sids, width, left, special_masks=special,
                    word_starts=starts)
                self._next_sid = start + B  # only once the call has succeeded
        else:
            sids = _read_sample_ids(sample_ids, B)
            out_ids, labels, attention = pad_and_mask(self._kc, epoch, seqs, sids, width, left,
                                                      special_masks=special, word_starts=starts)
        dt = lay.dtype
        out = {"input_ids": _array(out_ids, B, width, dt),
               "attention_mask": _array(attention, B, width, dt),
               "labels": _array(labels, B, width, dt)}
        if types is not None:
            out["token_type_ids"] = _array(_pad_rows(types, width, left, 0), B, width, dt)
        if special is not None and a["return_special_tokens_mask"]:
            out["special_tokens_mask"] = _array(_pad_rows(special, width, left, 1), B, width,
                                                dt)
        return out

    @staticmethod
    def _pad_function(input_ids: Any, **kwargs: Any) -> Dict[str, np.ndarray]:
        return pad(input_ids, **kwargs)


@_with_signature(_PAD)
def pad(input_ids: Any, **kwargs: Any) -> Dict[str, np.ndarray]:
    """:func:`fastmask.pad` in pure Python."""
    a = _arguments("pad", _PAD, input_ids, **kwargs)
    lay = _api.Layout(*(a[k] for k in ("pad_token_id", "padding", "max_length", "truncation",
                                       "pad_to_multiple_of", "padding_side", "dtype")))
    hi = C.MAX_VOCAB + 1
    if a["vocab_size"] is not None:
        hi = check_int("vocab_size", a["vocab_size"], 1, C.MAX_VOCAB)
    if lay.pad_token_id >= hi:
        raise ValueError(f"pad_token_id={lay.pad_token_id} is outside [0, {hi})")
    left = lay.padding_side == "left"
    rows, form = _read_ids(input_ids, a["lengths"], a["attention_mask"], a["offsets"], left)
    cut = lay.max_length if lay.truncation else None
    special = _read_side("special_tokens_mask", a["special_tokens_mask"], form, 0, 2, cut)
    types = _read_side("token_type_ids", a["token_type_ids"], form, 0, C.MAX_VOCAB, cut)
    if cut is not None:  # truncation (it needs max_length)
        rows = [r[:cut] for r in rows]
        special, types = (_cut(x, cut) for x in (special, types))
    width = _width(lay, [len(r) for r in rows])
    rows = _check_ids(rows, hi)
    B = len(rows)
    dt = lay.dtype
    out = {"input_ids": _array(_pad_rows(rows, width, left, lay.pad_token_id), B, width, dt),
           "attention_mask": _array(_pad_rows([[1] * len(r) for r in rows], width, left, 0),
                                    B, width, dt)}
    if types is not None:
        out["token_type_ids"] = _array(_pad_rows(types, width, left, 0), B, width, dt)
    if special is not None:
        out["special_tokens_mask"] = _array(_pad_rows(special, width, left, 1), B, width, dt)
    return out


def mask(input_ids, *, vocab_size: int, mask_token_id: int, sample_ids=None, epoch: int = 0,
         **kwargs):
    """:func:`fastmask.mask` computed by the pure-Python kernel."""
    call_keys = ("lengths", "attention_mask", "offsets", "special_tokens_mask",
                 "token_type_ids", "word_starts", "word_ids", "offset_mapping", "chinese_ref")
    call = {k: kwargs.pop(k) for k in call_keys if k in kwargs}
    m = Masker(vocab_size, mask_token_id, **kwargs)
    return m(input_ids, sample_ids=sample_ids, epoch=epoch, **call)
