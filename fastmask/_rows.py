"""Input normalisation of the NumPy API: every accepted form of ``input_ids`` (lists of
sequences, padded 2-D arrays with ``lengths`` or ``attention_mask``, flat values with
``offsets``) and of the per-token side inputs becomes :class:`Rows`; word boundaries given as
word ids, offsets, flags or ``chinese_ref`` are gathered into one per-token source; and
:func:`truncate` cuts rows to ``max_length`` before the padded width is chosen.

Nothing here masks or pads; :mod:`fastmask._api` lays the outputs out.
"""

from __future__ import annotations

from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _config as C
from ._checks import check_exclusive, int_array, offsets_array
from .words.flags import example_offset_flags, example_word_id_flags, starts_from_chinese_ref

__all__ = ["Rows", "WordIds", "Offsets", "Padded", "real_mask", "normalize_ids", "side_rows",
           "word_start_rows", "truncate", "check_lengths"]


class Rows:
    """A batch of ragged rows: either a list of per-row sequences or flat values + offsets.

    The rows of a padded 2-D input (of the output's element types) are kept as that array:
    their flat values are made (one copy, row after row) only when something asks for them, and
    :meth:`kernel_source` hands the array itself to the C core, which reads each row in place.
    """

    __slots__ = ("rows", "_values", "offsets", "lengths", "_padded", "_source")

    def __init__(self, rows=None, values=None, offsets=None, lengths=None, padded=None,
                 source=None):
        self.rows = rows
        self._values = values
        self.offsets = offsets
        self.lengths = lengths
        self._padded = padded  # a Padded, with source: the C-contiguous 2-D array it describes
        self._source = source

    @property
    def values(self):
        if self._values is None and self._source is not None:
            self._values = self._padded.compact(self._source)
        return self._values

    @property
    def dtype(self):
        """The element type of the flat values (None for a list of rows)."""
        if self._source is not None:
            return self._source.dtype
        return None if self._values is None else self._values.dtype

    def kernel_source(self):
        """(values, offsets) for the C core: row i is ``lengths[i]`` values from offsets[i] on
        (consecutive offsets may leave gaps between rows, which the core never reads)."""
        if self._source is None or self._values is not None:
            return self.values, self.offsets
        B, W = self._source.shape
        starts = np.arange(B + 1, dtype=np.int64) * W
        if self._padded.left:
            starts[:-1] += W - self.lengths
        return self._source.reshape(-1), starts

    def __len__(self) -> int:
        return int(self.lengths.shape[0])

    def as_lists(self) -> List[list]:
        """Every row as a Python list of ints (used by the reference and the side arrays)."""
        if self.rows is not None:
            return [r.tolist() if isinstance(r, np.ndarray) else list(r) for r in self.rows]
        v = self.values.tolist()
        o = self.offsets.tolist()
        return [v[o[i]:o[i + 1]] for i in range(len(o) - 1)]


class Padded:
    """Where the real tokens of a padded 2-D input are: row i holds ``lengths[i]`` of them, at
    the end opposite its padding. :meth:`compact` takes them out of any array of that shape."""

    __slots__ = ("shape", "lengths", "left")

    def __init__(self, shape, lengths: np.ndarray, left: bool):
        self.shape = shape
        self.lengths = lengths
        self.left = left

    def compact(self, arr: np.ndarray) -> np.ndarray:
        """The real cells of ``arr`` (of this shape), row after row, as a 1-D array."""
        from . import _core

        if bool((self.lengths == self.shape[1]).all()):
            return np.ascontiguousarray(arr).reshape(-1)
        return _core.unpad(np.ascontiguousarray(arr), self.lengths, self.left)


def real_mask(width: int, lengths: np.ndarray, left: bool) -> np.ndarray:
    """Boolean (B, width) mask of the real tokens of rows with these lengths."""
    cols = np.arange(width)
    if left:
        return cols[None, :] >= (width - lengths)[:, None]
    return cols[None, :] < lengths[:, None]


def lengths_from(name: str, n_rows: int, width: int, lengths: Any, attention_mask: Any,
                  left: bool) -> Tuple[np.ndarray, None]:
    """Row lengths of a padded 2-D input, from lengths, an attention mask or its width."""
    if lengths is not None and attention_mask is not None:
        raise ValueError("pass lengths or attention_mask, not both")
    if lengths is not None:
        ln = int_array("lengths", lengths)
        if ln.shape != (n_rows,):
            raise ValueError(f"lengths must have shape ({n_rows},), got {ln.shape}")
        ln = ln.astype(np.int64)
        bad = np.flatnonzero((ln < 0) | (ln > width))
        if bad.shape[0]:
            i = int(bad[0])
            raise ValueError(f"lengths[{i}] = {int(ln[i])} is outside [0, {width}]")
        return ln, None
    if attention_mask is not None:
        from . import _core

        am = np.asarray(attention_mask)
        if am.shape != (n_rows, width):
            raise ValueError(f"attention_mask must have the shape of {name} {(n_rows, width)}, "
                             f"got {am.shape}")
        if am.dtype.kind not in "iub":
            raise TypeError(f"attention_mask must be an integer or boolean array, got {am.dtype}")
        if am.dtype.kind == "b":
            am = am.view(np.uint8)
        elif am.dtype not in (np.int64, np.int32, np.uint8):
            am = np.where((am == 0) | (am == 1), am, 2).astype(np.int64)  # keeps "not 0/1"
        rc, i, j, ln = _core.lengths_of_mask(np.ascontiguousarray(am), left)
        if rc != _core.OK:
            v = np.asarray(attention_mask)[i, j]
            if v != 0 and v != 1:
                raise ValueError(f"attention_mask[{i}][{j}] = {v} is not 0 or 1")
            # the real tokens of a row must be contiguous, at the padding side's opposite end
            raise ValueError(f"attention_mask[{i}] is not a {'left' if left else 'right'}-padded "
                             f"mask (position {j}); fastmask expects real tokens to be contiguous")
        return ln, None
    return np.full(n_rows, width, dtype=np.int64), None


def normalize_ids(input_ids: Any, lengths: Any, attention_mask: Any, offsets: Any,
                   left: bool) -> Tuple[Rows, Optional["Padded"]]:
    """Turns any accepted input form into :class:`Rows`; for a padded 2-D input also returns
    where its real tokens are (:class:`Padded`), for the side inputs of the same shape."""
    from . import _core

    name = "input_ids"
    if offsets is not None:
        values = int_array(name, input_ids)
        if values.ndim != 1:
            raise ValueError(f"with offsets, {name} must be the 1-D flat values, got shape "
                             f"{values.shape}")
        off = offsets_array("offsets", offsets, values.shape[0])
        if values.dtype not in (np.int64, np.int32):
            values = checked_cast(values, name)
        return Rows(values=np.ascontiguousarray(values), offsets=off,
                     lengths=np.diff(off)), None
    if isinstance(input_ids, np.ndarray) or (hasattr(input_ids, "__array__")
                                             and not isinstance(input_ids, (list, tuple))):
        arr = np.asarray(input_ids)
        if arr.ndim == 2:
            if arr.dtype.kind not in "iu" :
                raise TypeError(f"{name} must be an integer array, got dtype {arr.dtype}")
            B, W = arr.shape
            ln, _ = lengths_from(name, B, W, lengths, attention_mask, left)
            padded = Padded((B, W), ln, left)
            off = np.zeros(B + 1, dtype=np.int64)
            np.cumsum(ln, out=off[1:])
            if arr.dtype not in (np.int64, np.int32):
                values = checked_cast(padded.compact(arr), name)
                return Rows(values=values, offsets=off, lengths=ln), padded
            return Rows(offsets=off, lengths=ln, padded=padded,
                        source=np.ascontiguousarray(arr)), padded
        if arr.ndim == 1 and arr.dtype != object:
            raise ValueError(f"{name} is a 1-D array: pass a batch (a list of sequences, a 2-D "
                             "array, or flat values with offsets=)")
        if arr.dtype == object:
            input_ids = list(arr)
        else:
            raise ValueError(f"{name} must be 2-D, got shape {arr.shape}")
    if lengths is not None or attention_mask is not None:
        raise ValueError("lengths and attention_mask describe a padded 2-D input_ids array; "
                         "a list of sequences carries its own lengths")
    if isinstance(input_ids, (str, bytes, dict)) or not hasattr(input_ids, "__len__"):
        raise TypeError(f"{name} must be a list of sequences, a 2-D integer array or flat values "
                        f"with offsets, got {type(input_ids).__name__}")
    rows, ln = _core.normalize_rows(list(input_ids), name)
    return Rows(rows=rows, lengths=ln), None


def checked_cast(values: np.ndarray, name: str) -> np.ndarray:
    """Casts other integer dtypes to int64, refusing values that do not fit."""
    if values.dtype.kind == "u" and values.dtype.itemsize == 8 and values.shape[0]:
        big = np.flatnonzero(values > np.uint64(np.iinfo(np.int64).max))
        if big.shape[0]:
            raise ValueError(f"{name}: value {values[big[0]]} at flat position {int(big[0])} "
                             "is out of range")
    return values.astype(np.int64)


def side_rows(name: str, value: Any, ids: Rows, keep: Optional[Padded],
               flag: bool, cut: Optional[int] = None) -> Optional[Rows]:
    """Normalises a per-token side input (special_tokens_mask, token_type_ids, word_starts).

    With ``cut`` (``max_length`` under truncation) only each row's first ``cut`` entries are
    checked, as for the ids: the rest is never read."""
    first = None if cut is None else slice(0, cut)
    if value is None:
        return None
    from . import _core

    if ids.rows is None and is_per_sequence(value, ids.lengths):
        # one list per sequence, with flat or 2-D input_ids: joined into flat values
        parts = [side_dtype(f"{name}[{i}]", _as_int_array(f"{name}[{i}]", v), flag, first)
                 for i, v in enumerate(value)]
        arr: np.ndarray = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint8 if flag else
                                                           np.int64)
        return Rows(values=arr.astype(np.uint8 if flag else np.int64, copy=False),
                    offsets=ids.offsets, lengths=ids.lengths)
    if ids.rows is None:
        # flat form: accept flat values aligned with input_ids, or a padded 2-D array
        arr = np.asarray(value)
        if arr.ndim == 2 and keep is not None:
            if arr.shape != keep.shape:
                raise ValueError(f"{name} must have the shape of input_ids {keep.shape}, got "
                                 f"{arr.shape}")
            arr = keep.compact(arr)
        elif arr.ndim == 2 and ids.offsets is not None and arr.shape[0] == len(ids) and \
                bool((ids.lengths == arr.shape[1]).all()):
            arr = arr.reshape(-1)
        if arr.ndim != 1 or arr.shape[0] != ids.values.shape[0]:
            raise ValueError(f"{name} must be aligned with input_ids: expected "
                             f"{ids.values.shape[0]} values, got shape {arr.shape}")
        check = None
        if cut is not None:
            check = (np.arange(arr.shape[0], dtype=np.int64)
                     - np.repeat(ids.offsets[:-1], ids.lengths)) < cut
        arr = side_dtype(name, arr, flag, check)
        return Rows(values=arr, offsets=ids.offsets, lengths=ids.lengths)
    if isinstance(value, np.ndarray) and value.ndim == 2:
        value = list(value)
    if not hasattr(value, "__len__") or isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a list of per-sequence lists or arrays")
    if len(value) != len(ids):
        raise ValueError(f"{name} has {len(value)} sequences but input_ids has {len(ids)}")
    value = [side_dtype(f"{name}[{i}]", np.asarray(v), flag, first) if
             (isinstance(v, np.ndarray) or hasattr(v, "__array__")) and
             not isinstance(v, (list, tuple)) else v for i, v in enumerate(value)]
    rows, ln = _core.normalize_rows(value, name)
    bad = np.flatnonzero(ln != ids.lengths)
    if bad.shape[0]:
        i = int(bad[0])
        raise ValueError(f"{name}[{i}] has {int(ln[i])} entries but input_ids[{i}] has "
                         f"{int(ids.lengths[i])} tokens")
    return Rows(rows=rows, lengths=ln)


def is_per_sequence(value: Any, lengths: np.ndarray) -> bool:
    """True for a list (not an array) of one sequence per row, each of its row's length: the
    per-sequence form of a side input, accepted whatever form input_ids has."""
    if not isinstance(value, (list, tuple)) or len(value) != lengths.shape[0] or not value:
        return False
    for v, n in zip(value, lengths.tolist()):
        if not (isinstance(v, (list, tuple)) or isinstance(v, np.ndarray)) or len(v) != n:
            return False
    return True


def _as_int_array(name: str, v: Any) -> np.ndarray:
    arr = np.asarray(v) if len(v) else np.zeros(0, dtype=np.int64)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D sequence, got shape {arr.shape}")
    if arr.dtype == object or arr.dtype.kind not in "iub":
        raise TypeError(f"{name} must hold integers, got dtype {arr.dtype}")
    return arr


def side_dtype(name: str, arr: np.ndarray, flag: bool, check: Any = None) -> np.ndarray:
    """``arr`` as uint8 flags (``flag``) or int64 values in ``[0, MAX_VOCAB)``. Only the
    entries ``arr[check]`` are checked (all when ``None``): truncation never reads the rest."""
    if arr.dtype.kind == "b" and flag:
        return arr.astype(np.uint8)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integers, got dtype {arr.dtype}")
    idx = None if check is None else np.arange(arr.shape[0])[check]
    chk = arr if idx is None else arr[idx]
    if flag:
        bad = np.flatnonzero((chk != 0) & (chk != 1))
    else:
        bad = np.flatnonzero((chk < 0) | (chk >= C.MAX_VOCAB))
    if bad.shape[0]:
        j = int(bad[0]) if idx is None else int(idx[bad[0]])
        what = "is not 0 or 1" if flag else f"is out of range [0, {C.MAX_VOCAB})"
        raise ValueError(f"{name}: value {arr[j]} at position {j} {what}")
    if flag:
        return arr.astype(np.uint8)
    return arr.astype(np.int64)


def check_lengths(name: str, lists: Sequence[Any], ids: Rows) -> np.ndarray:
    """Lengths of per-example lists; an error names the first that differs from input_ids."""
    lens = np.fromiter((len(r) for r in lists), dtype=np.int64, count=len(lists))
    bad = np.flatnonzero(lens != ids.lengths)
    if bad.shape[0]:
        i = int(bad[0])
        raise ValueError(f"{name}[{i}] has {int(lens[i])} entries but input_ids[{i}] has "
                         f"{int(ids.lengths[i])} tokens")
    return lens


def rows_from_lists(name: str, lists: Sequence[Any], ids: Rows) -> Rows:
    lens = check_lengths(name, lists, ids)
    return Rows(rows=[np.asarray(r, dtype=np.uint8) for r in lists], lengths=lens)


def per_example(name: str, value: Any, n: int) -> list:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        raise TypeError(f"{name} must be a list with one entry per sequence")
    value = list(value)
    if len(value) != n:
        raise ValueError(f"{name} has {len(value)} entries but input_ids has {n} sequences")
    return value


def flags_of_word_ids(example, i: int) -> np.ndarray:
    """Word-start flags of example i's word ids (errors name ``word_ids[i][j]``)."""
    return example_word_id_flags(example, f"word_ids[{i}]")


class WordIds:
    """Per-example word ids (lists of ints / None), turned into flags while padding."""

    __slots__ = ("rows",)

    #: the keyword these boundaries are passed as, and the rule giving one example's flags
    name = "word_ids"
    flags = staticmethod(flags_of_word_ids)

    def __init__(self, rows: list):
        self.rows = rows

    def as_flag_rows(self) -> Rows:
        flags = [self.flags(w, i) for i, w in enumerate(self.rows)]
        lens = np.fromiter((len(f) for f in flags), dtype=np.int64, count=len(flags))
        return Rows(rows=flags, lengths=lens)


def flags_of_offsets(example, i: int) -> np.ndarray:
    """Word-start flags of example i's offsets (errors name ``offset_mapping[i][j]``)."""
    return example_offset_flags(example, f"offset_mapping[{i}]")


class Offsets(WordIds):
    """Per-example offset mappings (lists of pairs), turned into flags while padding."""

    __slots__ = ()

    name = "offset_mapping"
    flags = staticmethod(flags_of_offsets)


def _first_flags(rule, example, i: int, cut: Optional[int]) -> np.ndarray:
    """``rule`` on the first ``cut`` entries of one example (all when ``None``), padded with
    zeros to the example's length: truncation never reads the rest."""
    if cut is None or not hasattr(example, "__len__") or len(example) <= cut:
        return rule(example, i)
    f = rule(example[:cut], i)
    return np.concatenate([f, np.zeros(len(example) - cut, dtype=np.uint8)])


def _each_sized(name: str, examples: List[Any]) -> List[Any]:
    """Per-example boundary lists, each a sequence (or array): a TypeError names the first
    example that is a scalar or a string."""
    for i, e in enumerate(examples):
        if isinstance(e, (str, bytes)) or not hasattr(e, "__len__") or (
                isinstance(e, np.ndarray) and e.ndim == 0):
            raise TypeError(f"{name}[{i}] must be a list, got {type(e).__name__}")
    return examples


def _table_flags(ids: Rows, table: bytes) -> List[np.ndarray]:
    """Each row's word-start flags by the word table (docs/semantics.md, section 6). The ids
    are not checked here: a row the table cannot read (an id out of range, not an integer) gets
    all ones, and the call fails on that id when the kernel reads it."""
    from .words import starts_from_table

    out = []
    for n, row in zip(ids.lengths.tolist(), ids.as_lists()):
        try:
            out.append(starts_from_table(np.asarray(row, dtype=np.int64), table))
        except (TypeError, ValueError, OverflowError):
            out.append(np.ones(n, dtype=np.uint8))
    return out


def word_start_rows(ids: Rows, word_starts, word_ids, offset_mapping, chinese_ref,
                    keep, cut: Optional[int] = None,
                    table: Optional[bytes] = None) -> Union[Rows, WordIds, None]:
    """The word starts of a call, from at most one of ``word_starts`` / ``word_ids`` /
    ``offset_mapping``, with ``chinese_ref`` positions marked as continuing a word on top of
    them. ``chinese_ref`` alone adds to the boundaries of ``table`` (the Masker's word table)
    when there is one, else to all ones (every token starts a word)."""
    given = check_exclusive((("word_starts", word_starts), ("word_ids", word_ids),
                             ("offset_mapping", offset_mapping)))
    if not given and chinese_ref is None:
        return None
    base: Optional[Sequence[Any]]  # one flag row (list or array) per sequence
    if word_starts is not None:
        starts = side_rows("word_starts", word_starts, ids, keep, True, cut)
        if chinese_ref is None:
            return starts
        assert starts is not None  # word_starts was given
        base = starts.as_lists()
    else:
        base = None

    B = len(ids)
    if word_ids is not None or offset_mapping is not None:
        kind, value = (WordIds, word_ids) if word_ids is not None else (Offsets, offset_mapping)
        examples = _each_sized(kind.name, per_example(kind.name, value, B))
        if chinese_ref is None and all(type(e) is list for e in examples):
            check_lengths(kind.name, examples, ids)
            return kind(examples)
        base = [_first_flags(kind.flags, e, i, cut) for i, e in enumerate(examples)]
    elif chinese_ref is not None and base is None and table is not None:
        base = _table_flags(ids, table)
    if chinese_ref is None:
        return None if base is None else rows_from_lists("word_ids" if word_ids is not None
                                                          else "offset_mapping", base, ids)
    refs = per_example("chinese_ref", chinese_ref, B)
    lens = ids.lengths.tolist()
    out = []
    for i, r in enumerate(refs):
        b = None if base is None else base[i]
        if b is not None and len(b) != lens[i]:
            raise ValueError(f"word boundaries of sequence {i} have {len(b)} entries but "
                             f"input_ids[{i}] has {lens[i]} tokens")
        try:
            out.append(starts_from_chinese_ref(lens[i], r if r is not None else [],
                                                     base=b))
        except (ValueError, TypeError) as e:
            raise type(e)(f"chinese_ref[{i}]: {e}") from None
    return rows_from_lists("chinese_ref", out, ids)


def truncate(rows, n: int):
    """The first ``n`` entries of every row of a normalised input (``None`` passes through).

    Truncation is applied to the rows themselves, before the padded width is chosen, so a row
    keeps at most ``max_length`` tokens whatever ``pad_to_multiple_of`` rounds the width to.
    """
    if rows is None:
        return None
    if isinstance(rows, WordIds):
        return type(rows)([r[:n] if len(r) > n else r for r in rows.rows])
    lengths = rows.lengths
    if not lengths.shape[0] or int(lengths.max()) <= n:
        return rows
    kept = np.minimum(lengths, n)
    if rows.rows is not None:
        return Rows(rows=[r[:n] if k < m else r for r, k, m in
                           zip(rows.rows, kept.tolist(), lengths.tolist())], lengths=kept)
    pos = np.arange(rows.values.shape[0], dtype=np.int64) - np.repeat(rows.offsets[:-1], lengths)
    off = np.zeros(lengths.shape[0] + 1, dtype=np.int64)
    np.cumsum(kept, out=off[1:])
    return Rows(values=np.ascontiguousarray(rows.values[pos < n]), offsets=off, lengths=kept)
