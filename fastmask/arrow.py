"""Masking Arrow batches: pyarrow tables, record batches and ``datasets.Dataset.map`` batches.

:func:`mask_batch` is a pure function of a batch, a configured :class:`fastmask.Masker`, the
epoch and the sample ids of the batch's rows. It reads an Arrow ``list<int>`` column through its
offsets and values buffers (no Python objects are made for the tokens), runs the C core on them
and returns the masked columns as Arrow arrays built on the NumPy outputs. Because a row's mask
depends only on ``(seed, epoch, sample id)`` and its own tokens, the result does not depend on
how a corpus is cut into batches or spread over processes, so the same function serves
``datasets.Dataset.map(batched=True, with_indices=True, num_proc=N)``, Ray Data's
``map_batches`` and Spark's ``mapInArrow`` (see docs/prep.md).

pyarrow is imported when this module is imported; the rest of fastmask does not need it.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from ._deps import need

pa = need("pyarrow", "arrow", "fastmask.arrow")
import pyarrow.compute as pc  # noqa: E402

from ._rows import real_mask  # noqa: E402  (after the dependency check)
from .words.flags import flags_from_flat_word_ids  # noqa: E402

__all__ = ["mask_batch", "list_column", "nested_lists", "word_starts_from_word_ids",
           "list_array", "LAYOUTS", "SPARSE_COLUMNS"]

#: Output layouts: ``input_ids`` + ``labels``, or BERT's fixed-width prediction lists.
LAYOUTS = ("dense", "sparse")

#: Columns of the sparse layout (BERT's ``create_pretraining_data`` feature names).
SPARSE_COLUMNS = ("masked_lm_positions", "masked_lm_ids", "masked_lm_weights")

_INT32_MAX = np.iinfo(np.int32).max


# ---------------------------------------------------------------------------------------------
# reading Arrow list columns


def _as_array(col: Any, name: str) -> pa.Array:
    """A single pyarrow Array from an Array, a ChunkedArray or Python / NumPy data."""
    if isinstance(col, pa.ChunkedArray):
        if col.num_chunks == 1:
            return col.chunk(0)
        if col.num_chunks == 0:
            return pa.array([], type=col.type)
        return col.combine_chunks()
    if isinstance(col, pa.Array):
        return col
    if isinstance(col, np.ndarray) and col.ndim == 2 and col.dtype != object:
        # a padded-free rectangular batch (every row the same length)
        B, W = col.shape
        values = pa.array(np.ascontiguousarray(col).reshape(-1))
        return pa.ListArray.from_arrays(pa.array(np.arange(B + 1, dtype=np.int64) * W
                                                 if B * W > _INT32_MAX else
                                                 np.arange(B + 1, dtype=np.int32) * W), values)
    if isinstance(col, (str, bytes)) or not hasattr(col, "__len__"):
        raise TypeError(f"{name} must be a list column (an Arrow list array or a list of "
                        f"lists), got {type(col).__name__}")
    try:
        return pa.array(list(col) if isinstance(col, np.ndarray) else col)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError) as e:
        raise TypeError(f"{name} must be a list of lists of integers ({e})") from None


def _first_null(arr: pa.Array) -> int:
    return int(np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False))[0])


def _list_parts(arr: pa.Array, name: str) -> Tuple[np.ndarray, pa.Array]:
    """(offsets starting at 0 as int64, the child values covering exactly those rows)."""
    t = arr.type
    if arr.null_count:
        raise ValueError(f"{name}[{_first_null(arr)}] is null")
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        off = np.asarray(arr.offsets)  # absolute positions into arr.values, also when sliced
        o0 = int(off[0]) if off.shape[0] else 0
        o1 = int(off[-1]) if off.shape[0] else 0
        child = arr.values.slice(o0, o1 - o0)
        off = off.astype(np.int64) - o0 if o0 else off.astype(np.int64)
        return off, child
    if pa.types.is_fixed_size_list(t):
        n = t.list_size
        off = np.arange(len(arr) + 1, dtype=np.int64) * n
        return off, arr.flatten()
    if pa.types.is_list_view(t) or pa.types.is_large_list_view(t):
        return _list_parts(arr.cast(pa.large_list(t.value_type)), name)
    raise TypeError(f"{name} must be a list<int> column, got type {t}")


def _int_values(child: pa.Array, off: np.ndarray, name: str, *, nulls_as: Optional[int] = None,
                flag: bool = False) -> np.ndarray:
    """The child values as a NumPy array, without copying when they are plain integers."""
    t = child.type
    if child.null_count:
        if nulls_as is None:
            pos = _first_null(child)
            row = int(np.searchsorted(off, pos, side="right")) - 1
            raise ValueError(f"{name}[{row}][{pos - int(off[row])}] is null")
        child = pc.fill_null(child, nulls_as)
    if pa.types.is_boolean(t):
        if not flag:
            raise TypeError(f"{name} must hold integers, got {t}")
        return child.to_numpy(zero_copy_only=False).view(np.uint8)
    if pa.types.is_dictionary(t):
        child = child.dictionary_decode()
        t = child.type
    if not pa.types.is_integer(t):
        raise TypeError(f"{name} must hold integers, got {t}")
    return child.to_numpy(zero_copy_only=True)


def list_column(col: Any, name: str = "input_ids", *, nulls_as: Optional[int] = None,
                flag: bool = False) -> Tuple[np.ndarray, np.ndarray]:
    """``(values, offsets)`` of a list-of-integers column, as the Arrow buffers hold them.

    ``col`` is a pyarrow ``list``/``large_list``/``fixed_size_list`` array or chunked array
    (sliced ones too), or a Python list of lists (converted by pyarrow). ``values`` is a
    zero-copy NumPy view of the integer values of exactly these rows; ``offsets`` (int64) starts
    at 0. A null row or value is a ``ValueError`` naming it, unless ``nulls_as`` gives a value
    for null values.
    """
    arr = _as_array(col, name)
    off, child = _list_parts(arr, name)
    return _int_values(child, off, name, nulls_as=nulls_as, flag=flag), off


def nested_lists(col: Any, name: str, levels: int = 2) -> Tuple[np.ndarray, ...]:
    """Offsets of every level and the values of a ``list<list<...<int>>>`` column.

    Returns ``(outer offsets, ..., inner offsets, values)``, each offsets array starting at 0
    and indexing the next level. Used for documents (lists of sentences).
    """
    if isinstance(col, (pa.Table, pa.RecordBatch)):
        if col.num_columns != 1:
            raise TypeError(f"{name}: pass a column or a one-column table, got a table with "
                            f"columns {', '.join(col.column_names)}")
        col = col.column(0)
    arr = _as_array(col, name)
    out: List[np.ndarray] = []
    for level in range(levels):
        off, child = _list_parts(arr, name if level == 0 else f"{name} (level {level + 1})")
        out.append(off)
        arr = child
    out.append(_int_values(arr, out[-1], name))
    return tuple(out)


def word_starts_from_word_ids(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Word-start flags from flat word ids (negative = no word, e.g. a special token).

    The rule of :func:`fastmask.words.starts_from_word_ids`, applied to every row at once:
    ``f[j] = 1`` at a row's first token, at a token without a word and where the word id
    changes.
    """
    return flags_from_flat_word_ids(values, offsets)


# ---------------------------------------------------------------------------------------------
# building Arrow outputs


def list_array(values: np.ndarray, offsets: np.ndarray, large: bool = False) -> pa.Array:
    """An Arrow list array of rows ``values[offsets[i]:offsets[i + 1]]`` on these NumPy buffers
    (values are not copied); a ``LargeListArray`` when ``large`` or when the values do not fit
    32-bit offsets."""
    total = int(offsets[-1]) if offsets.shape[0] else 0
    if large or total > _INT32_MAX:
        return pa.LargeListArray.from_arrays(pa.array(offsets.astype(np.int64, copy=False)),
                                             pa.array(values))
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), pa.array(values))


_list_array = list_array  # the old private name, still used by fastmask.prep


def _fixed_list(values2d: np.ndarray) -> pa.Array:
    B, W = values2d.shape
    return pa.FixedSizeListArray.from_arrays(pa.array(np.ascontiguousarray(values2d).reshape(-1)),
                                             W)


def _unpad(arr: np.ndarray, lens: np.ndarray, keep: Optional[np.ndarray]) -> np.ndarray:
    """Row-major real values of a padded (B, W) array."""
    if keep is None:  # every row is full
        return arr.reshape(-1)
    return arr[keep]


def _sparse(labels: np.ndarray, ignore_index: int, shift: Optional[np.ndarray], P: int,
            dtype) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BERT's (positions, ids, weights), each (B, P), from padded labels."""
    B = labels.shape[0]
    picked = labels != ignore_index
    counts = picked.sum(axis=1)
    over = np.flatnonzero(counts > P)
    if over.shape[0]:
        i = int(over[0])
        raise ValueError(f"row {i} has {int(counts[i])} masked tokens, more than "
                         f"max_predictions_per_seq={P}; build the Masker with "
                         f"max_predictions <= {P}")
    r, c = np.nonzero(picked)
    first = np.cumsum(counts) - counts
    rank = np.arange(r.shape[0]) - np.repeat(first, counts)
    pos = np.zeros((B, P), dtype=dtype)
    ids = np.zeros((B, P), dtype=dtype)
    w = np.zeros((B, P), dtype=np.float32)
    pos[r, rank] = c if shift is None else c - shift[r]
    ids[r, rank] = labels[r, c]
    w[r, rank] = 1.0
    return pos, ids, w


# ---------------------------------------------------------------------------------------------
# the batch function


def _column(batch: Any, name: str) -> Any:
    if isinstance(batch, (pa.Table, pa.RecordBatch)):
        return batch.column(name) if name in batch.column_names else None
    return batch[name] if name in batch else None


def _row_count(batch: Any, column: str) -> int:
    if isinstance(batch, (pa.Table, pa.RecordBatch)):
        return batch.num_rows
    return len(batch[column])


def _sample_ids(batch: Any, sample_ids: Any, n: int) -> np.ndarray:
    if sample_ids is None:
        raise ValueError(
            "mask_batch needs the sample ids of the rows, so that masks do not depend on "
            "batching: pass sample_ids= (a list, the first id as an int, or the name of a "
            "column); with datasets.Dataset.map use with_indices=True")
    if isinstance(sample_ids, str):
        col = _column(batch, sample_ids)
        if col is None:
            raise ValueError(f"sample_ids: the batch has no column {sample_ids!r}")
        if isinstance(col, (pa.Array, pa.ChunkedArray)) and col.null_count:
            raise ValueError(f"{sample_ids}[{_first_null(_as_array(col, sample_ids))}] is null")
        return np.asarray(col)
    if isinstance(sample_ids, numbers.Integral) and not isinstance(sample_ids, bool):
        first = int(sample_ids)
        if first < 0:
            raise ValueError(f"sample_ids: the first id must be >= 0, got {first}")
        return np.arange(first, first + n, dtype=np.uint64)
    return np.asarray(sample_ids)


def mask_batch(batch: Any, sample_ids: Any = None, *, masker: Any, epoch: int = 0,
               column: str = "input_ids", labels_column: str = "labels",
               special_tokens_mask_column: Optional[str] = "special_tokens_mask",
               token_type_ids_column: Optional[str] = "token_type_ids",
               word_ids_column: Optional[str] = "word_ids",
               word_starts_column: Optional[str] = "word_starts",
               layout: str = "dense", max_predictions_per_seq: Optional[int] = None,
               keep_columns: Optional[bool] = None) -> Any:
    """Masks the token-id column of a batch; returns the masked columns.

    Args:
        batch: a ``pyarrow.Table`` or ``RecordBatch`` with a ``list<int>`` column (``list``,
            ``large_list`` or ``fixed_size_list``, sliced or not), or a mapping of column
            name to values as ``datasets.Dataset.map(batched=True)`` passes it (lists of
            lists, or Arrow arrays with ``.with_format("arrow")``).
        sample_ids: the sample id of every row: a sequence (the ``indices`` that
            ``Dataset.map(..., with_indices=True)`` passes as the second argument), an int
            (the first id; rows get consecutive ids) or the name of an integer column.
            Required: the masks are a function of ``(seed, epoch, sample id)``.
        masker: a configured :class:`fastmask.Masker` (it sets the vocabulary, probabilities,
            whole-word/span options, padding, ``dtype`` and ``num_threads``).
        epoch: the mask epoch; static copy ``j`` of a corpus is epoch ``j``.
        column: the token-id column; its masked version replaces it.
        labels_column: name of the labels column of the dense layout.
        special_tokens_mask_column, token_type_ids_column: per-token columns used when the
            batch has them (``None`` to ignore). When the masker pads or truncates the rows,
            these two are returned padded or truncated the same way; other per-token columns
            are returned as they are.
        word_ids_column, word_starts_column: word boundaries for a whole-word masker, used
            when the batch has them: word ids as a fast tokenizer's ``word_ids()`` gives them
            (nulls or negative numbers for special tokens) or 0/1 word-start flags. A masker
            built with a ``word_table`` needs neither.
        layout: ``"dense"``: ``input_ids`` and ``labels`` (the original id where a token is
            predicted, the masker's ``ignore_index`` elsewhere). ``"sparse"``: ``input_ids``
            and BERT's ``masked_lm_positions``, ``masked_lm_ids`` and ``masked_lm_weights``,
            each a fixed-size list of ``max_predictions_per_seq`` entries padded with
            0 / 0 / 0.0.
        max_predictions_per_seq: width of the sparse columns (defaults to the masker's
            ``max_predictions``); a row with more picked tokens is an error.
        keep_columns: also return the batch's other columns. Defaults to True for Arrow
            tables and record batches and to False for mappings (``Dataset.map`` merges the
            returned columns into the dataset itself).

    Returns:
        The same kind of container as ``batch``: a ``Table`` or ``RecordBatch`` (the new
        columns are Arrow arrays on the NumPy outputs, nothing is copied), or for a mapping a
        dict of NumPy values as ``Dataset.map`` accepts them (a 2-D array when all rows have
        one length, else a list of per-row 1-D arrays). Rows keep their own length (padding
        removed) unless the masker pads to a fixed ``max_length`` (``padding="max_length"``),
        in which case the id columns are padded and an ``attention_mask`` column is added.
        Truncation follows the masker.

    With ``datasets``, ``dataset.with_format("arrow").map(mask_batch, batched=True,
    with_indices=True, fn_kwargs={"masker": masker})`` hands the function Arrow tables: the
    zero-copy path. With the default format ``datasets`` itself turns the batch into Python
    lists before the call.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(map(repr, LAYOUTS))}, got {layout!r}")
    arrow_in = isinstance(batch, (pa.Table, pa.RecordBatch))
    if not arrow_in and not isinstance(batch, Mapping):
        raise TypeError("batch must be a pyarrow Table/RecordBatch or a mapping of columns, got "
                        f"{type(batch).__name__}")
    if keep_columns is None:
        keep_columns = arrow_in
    ids_col = _column(batch, column)
    if ids_col is None:
        raise ValueError(f"the batch has no column {column!r}")
    P = None
    if layout == "sparse":
        P = max_predictions_per_seq if max_predictions_per_seq is not None else \
            masker.max_predictions
        if P is None:
            raise ValueError("layout='sparse' needs max_predictions_per_seq (or a Masker with "
                             "max_predictions)")
        if isinstance(P, bool) or not isinstance(P, numbers.Integral) or P < 1:
            raise ValueError(f"max_predictions_per_seq must be a positive integer, got {P!r}")
        P = int(P)

    large = isinstance(ids_col, (pa.Array, pa.ChunkedArray)) and \
        pa.types.is_large_list(ids_col.type)
    values, offsets = list_column(ids_col, column)
    B = offsets.shape[0] - 1
    lens = np.diff(offsets)
    sids = _sample_ids(batch, sample_ids, B)

    def side(col_name: Optional[str], flag: bool, nulls_as: Optional[int] = None):
        if col_name is None:
            return None
        col = _column(batch, col_name)
        if col is None:
            return None
        v, o = list_column(col, col_name, nulls_as=nulls_as, flag=flag)
        if o.shape != offsets.shape or not np.array_equal(o, offsets):
            if o.shape != offsets.shape:
                raise ValueError(f"{col_name} has {o.shape[0] - 1} rows but {column} has {B}")
            i = int(np.flatnonzero(o != offsets)[0]) - 1
            i = max(i, 0)
            raise ValueError(f"{col_name}[{i}] has {int(o[i + 1] - o[i])} entries but "
                             f"{column}[{i}] has {int(lens[i])} tokens")
        return v

    special = side(special_tokens_mask_column, True)
    types = side(token_type_ids_column, False)
    starts = None
    if masker.whole_word:
        ws = side(word_starts_column, True)
        if ws is not None:
            starts = ws
        else:
            wi = side(word_ids_column, False, nulls_as=-1)
            if wi is not None:
                starts = word_starts_from_word_ids(wi, offsets)

    lay = masker.layout
    left = lay.padding_side == "left"
    padded = lay.padding == "max_length"
    # the padded special_tokens_mask is only needed when rows are padded or may be cut
    out = masker(values, offsets=offsets, sample_ids=sids, epoch=epoch,
                 special_tokens_mask=special, token_type_ids=types, word_starts=starts,
                 return_special_tokens_mask=padded or lay.truncation)

    out_ids = out["input_ids"]
    W = out_ids.shape[1]
    # truncation keeps the first max_length tokens of a row, whatever the padded width
    real = np.minimum(lens, lay.max_length) if lay.truncation else lens
    relaid = padded or bool((real != lens).any())  # rows padded or truncated
    result: Dict[str, pa.Array] = {}
    if padded:
        keep = None
        shift = None
        result[column] = _fixed_or_list(out_ids)
    else:
        full = bool((real == W).all())
        keep = None if full else real_mask(W, real, left)
        shift = (W - real) if (left and not full) else None
        new_off = np.zeros(B + 1, dtype=np.int64)
        np.cumsum(real, out=new_off[1:])
        result[column] = list_array(_unpad(out_ids, real, keep), new_off, large)
    if layout == "dense":
        labels = out["labels"]
        result[labels_column] = _fixed_or_list(labels) if padded else \
            list_array(_unpad(labels, real, keep), new_off, large)
    else:
        pos, mids, w = _sparse(out["labels"], masker.ignore_index, shift, P, lay.dtype)
        result["masked_lm_positions"] = _fixed_list(pos)
        result["masked_lm_ids"] = _fixed_list(mids)
        result["masked_lm_weights"] = _fixed_list(w)
    if padded:
        result["attention_mask"] = _fixed_or_list(out["attention_mask"])
    if relaid:
        # per-token columns must follow the new row layout
        if types is not None:
            t = out["token_type_ids"]
            result[token_type_ids_column] = _fixed_or_list(t) if padded else \
                list_array(_unpad(t, real, keep), new_off, large)
        if special is not None:
            s = out["special_tokens_mask"]
            result[special_tokens_mask_column] = _fixed_or_list(s) if padded else \
                list_array(_unpad(s, real, keep), new_off, large)

    return _assemble(batch, result, keep_columns, arrow_in)


def _fixed_or_list(arr2d: np.ndarray) -> pa.Array:
    """A padded (B, W) array as a list column (every row W long)."""
    B, W = arr2d.shape
    off = np.arange(B + 1, dtype=np.int64) * W
    return list_array(np.ascontiguousarray(arr2d).reshape(-1), off)


def _as_numpy_rows(arr: pa.Array) -> Any:
    """A list column as ``Dataset.map`` accepts it: a 2-D array when every row has the same
    length, else a list of 1-D arrays (views of the flat values, one per row)."""
    n = len(arr)
    if pa.types.is_fixed_size_list(arr.type):
        return arr.flatten().to_numpy(zero_copy_only=False).reshape(n, arr.type.list_size)
    values, off = list_column(arr, "output")
    lens = np.diff(off)
    if n and bool((lens == lens[0]).all()):
        return values.reshape(n, int(lens[0]))
    bounds = off.tolist()
    return [values[bounds[i]:bounds[i + 1]] for i in range(n)]


def _assemble(batch: Any, result: Dict[str, pa.Array], keep_columns: bool, arrow_in: bool):
    if not arrow_in:
        out = {name: _as_numpy_rows(arr) for name, arr in result.items()}
        if not keep_columns:
            return out
        merged = dict(batch)
        merged.update(out)
        return merged
    names: List[str] = []
    arrays: List[Any] = []
    if keep_columns:
        for name in batch.column_names:
            names.append(name)
            arrays.append(result[name] if name in result else batch.column(name))
        for name, arr in result.items():
            if name not in batch.column_names:
                names.append(name)
                arrays.append(arr)
    else:
        names = list(result)
        arrays = list(result.values())
    if isinstance(batch, pa.RecordBatch):
        arrays = [a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a for a in arrays]
        return pa.RecordBatch.from_arrays(arrays, names=names)
    return pa.Table.from_arrays(arrays, names=names)
