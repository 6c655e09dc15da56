"""Reading a batch of examples into the columns the collator works on.

A batch is a list of dicts (or other mappings, such as ``BatchEncoding``), a list of id
sequences (lists, tuples, 1-D tensors or arrays), or one already-batched dict of columns.
:func:`gather` pulls out the fields the collator reads itself and leaves every other field as an
"extra" to be stacked like Hugging Face does. Errors name the example and the field.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from .. import _config as C

__all__ = ["Gathered", "gather", "padding_from_attention", "apply_attention"]

#: Keys of a dict example that carry word boundaries (read only with ``whole_word``).
BOUNDARY_KEYS = ("word_ids", "offset_mapping", "chinese_ref")


class Gathered:
    """The columns of one batch, pulled out of the examples."""

    __slots__ = ("ids", "attention", "types", "special", "boundaries", "sids", "epochs",
                 "extras")

    def __init__(self) -> None:
        self.ids: list = []
        self.attention: Optional[list] = None
        self.types: Optional[list] = None
        self.special: Optional[list] = None
        self.boundaries: Dict[str, list] = {}
        self.sids: Optional[np.ndarray] = None
        self.epochs: Optional[np.ndarray] = None
        self.extras: Dict[str, list] = {}


def _row(value: Any) -> Any:
    """One example's field as the NumPy API reads it: lists, tuples and arrays pass; a tensor
    (any device) or another array-like (``__array__``) becomes an ndarray."""
    t = type(value)
    if t is list or t is tuple or t is np.ndarray:
        return value
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if hasattr(value, "__array__") and not isinstance(value, (str, bytes)):
        return np.asarray(value)
    return value


def _rows(values: list) -> list:
    return [v if type(v) is list else _row(v) for v in values]


def _side(values: Optional[list]) -> Optional[list]:
    return None if values is None else _rows(values)


def _column(examples: Sequence[Mapping], key: str) -> list:
    try:
        return [ex[key] for ex in examples]
    except KeyError:
        i = next(i for i, ex in enumerate(examples) if key not in ex)
        raise ValueError(f"examples[{i}] has no {key!r} but examples[0] has; every example of a "
                         "batch needs the same keys") from None
    except TypeError:
        i = next(i for i, ex in enumerate(examples) if not isinstance(ex, Mapping))
        raise TypeError(f"examples[{i}] is a {type(examples[i]).__name__} but examples[0] is a "
                        "mapping; a batch must be all dicts or all sequences") from None


def _index_column(values: list, key: str, limit: int) -> np.ndarray:
    """Sample ids or epochs read from a per-example field, checked and named on error."""
    out = np.empty(len(values), dtype=np.uint64)
    for i, v in enumerate(values):
        if isinstance(v, (bool, np.bool_)):
            raise TypeError(f"examples[{i}][{key!r}] must be an integer, got {v!r}")
        try:
            x = operator.index(v)
        except TypeError:
            raise TypeError(f"examples[{i}][{key!r}] must be an integer, got "
                            f"{type(v).__name__} {v!r}") from None
        if x < 0 or x >= limit:
            raise ValueError(f"examples[{i}][{key!r}] = {x} is outside [0, {limit})")
        out[i] = x
    return out


def _columns(examples: Any) -> Optional[Dict[str, list]]:
    """The fields of a batch of mappings as lists (``None`` for a batch of sequences)."""
    if isinstance(examples, Mapping):  # an already batched dict of columns
        if "input_ids" not in examples:
            raise ValueError("examples is a mapping without 'input_ids'")
        columns = dict(examples)
        n = len(columns["input_ids"])
        for k, v in columns.items():
            size = len(v) if hasattr(v, "__len__") else "no"
            if size != n:
                raise ValueError(f"examples[{k!r}] has {size} entries but "
                                 f"examples['input_ids'] has {n}")
        return {k: list(v) for k, v in columns.items()}
    if isinstance(examples, (str, bytes)) or not hasattr(examples, "__len__"):
        raise TypeError("examples must be a list of dicts, of id lists or of 1-D "
                        f"tensors/arrays, got {type(examples).__name__}")
    if len(examples) == 0:
        return {"input_ids": []}  # an empty batch: (0, L) arrays, as for the NumPy API
    first = examples[0]
    if not isinstance(first, Mapping):
        return None
    if "input_ids" not in first:
        raise ValueError("examples[0] has no 'input_ids'")
    columns = {k: _column(examples, k) for k in first.keys()}
    n_keys = len(first)
    for i, ex in enumerate(examples):
        if len(ex) != n_keys:
            extra = sorted(set(ex) - set(first))
            raise ValueError(f"examples[{i}] has the fields {extra} that examples[0] has "
                             "not; every example of a batch needs the same fields")
    return columns


def gather(examples: Any, whole_word: bool, sample_id_key: str, epoch_key: str) -> Gathered:
    """The columns of ``examples``; word-boundary fields are kept only with ``whole_word``."""
    g = Gathered()
    columns = _columns(examples)
    if columns is None:
        first = examples[0]
        ids = []
        for i, ex in enumerate(examples):
            if isinstance(ex, Mapping):
                raise TypeError(f"examples[{i}] is a mapping but examples[0] is a "
                                f"{type(first).__name__}; a batch must be all dicts or all "
                                "sequences")
            ids.append(_row(ex))
        g.ids = ids
        return g
    g.ids = _rows(columns.pop("input_ids"))
    g.types = _side(columns.pop("token_type_ids", None))
    g.special = _side(columns.pop("special_tokens_mask", None))
    g.attention = _side(columns.pop("attention_mask", None))
    columns.pop("labels", None)
    for k in BOUNDARY_KEYS:
        if k in columns:
            value = columns.pop(k)
            if whole_word:
                g.boundaries[k] = _rows(value)
    if sample_id_key in columns:
        g.sids = _index_column(columns.pop(sample_id_key), sample_id_key, C.MAX_SAMPLE_ID)
    if epoch_key in columns:
        g.epochs = _index_column(columns.pop(epoch_key), epoch_key, C.MAX_EPOCH)
    g.extras = columns
    return g


# -------------------------------------------------------------------------------------------------
# examples that arrive padded


def attention_pads(masks: list, ids: list) -> bool:
    """True when some example's own attention_mask marks padding (a 0 at either end). Each mask
    must be a sequence with one entry per token of the example's ``input_ids``."""
    pads = False
    for i, am in enumerate(masks):
        if type(am) is not list:
            am = np.asarray(am)
            if am.ndim != 1:
                raise ValueError(f"attention_mask[{i}] must be a sequence of 0/1 (one per "
                                 f"token), got shape {am.shape}")
        try:
            n = len(ids[i])
        except TypeError:
            continue  # the masker names the bad input_ids
        if len(am) != n:
            raise ValueError(f"attention_mask[{i}] has {len(am)} entries but input_ids[{i}] "
                             f"has {n} tokens")
        if n and (not am[0] or not am[-1]):
            pads = True
    return pads


def padding_from_attention(g: Gathered) -> Tuple[List[np.ndarray], List[np.ndarray]]:
    """The examples' attention masks, and special-token rows that also mark the positions those
    masks pad (so that padding inside an example is never picked)."""
    masks = [np.asarray(a, dtype=np.int64) for a in g.attention or ()]
    special = g.special
    rows = []
    for i, am in enumerate(masks):
        n = len(g.ids[i])
        if am.ndim != 1 or am.shape[0] != n:
            size = am.shape[0] if am.ndim == 1 else am.shape
            raise ValueError(f"attention_mask[{i}] has {size} entries but input_ids[{i}] "
                             f"has {n} tokens")
        bad = np.flatnonzero((am != 0) & (am != 1))
        if bad.shape[0]:
            raise ValueError(f"attention_mask[{i}][{int(bad[0])}] = {int(am[bad[0]])} is not "
                             "0 or 1")
        flag = (am == 0).astype(np.uint8)
        if special is not None:
            s = np.asarray(special[i])
            if s.shape != flag.shape:
                size = s.shape[0] if s.ndim else "no"
                raise ValueError(f"special_tokens_mask[{i}] has {size} entries but "
                                 f"input_ids[{i}] has {n} tokens")
            flag |= (s != 0).astype(np.uint8)
        rows.append(flag)
    return masks, rows


def apply_attention(attention: np.ndarray, masks: List[np.ndarray], left: bool) -> None:
    """Writes the examples' own attention masks into the padded output mask."""
    width = attention.shape[1]
    for i, am in enumerate(masks):
        m = min(am.shape[0], width)
        if left:
            attention[i, width - m:] = am[:m]
        else:
            attention[i, :m] = am[:m]
