"""What the collator returns: :class:`Batch`, zero-copy tensors, stacked extra fields, and the
padding-free (flattened) layout."""

from __future__ import annotations

from typing import Any, Dict, Optional

import numpy as np
import torch

__all__ = ["Batch", "as_tensors", "collate_extra", "flatten"]


class Batch(dict):
    """The collator's output: a ``dict`` of tensors with a ``to()`` method.

    ``batch.to(device)`` (or any arguments of :meth:`torch.Tensor.to`) returns a new
    :class:`Batch` with every tensor moved, like Hugging Face's ``BatchEncoding.to``.
    """

    def to(self, *args: Any, **kwargs: Any) -> "Batch":
        return Batch({k: v.to(*args, **kwargs) if isinstance(v, torch.Tensor) else v
                      for k, v in self.items()})


def as_tensors(arrays: Dict[str, Any]) -> Dict[str, Any]:
    """Zero-copy tensors of NumPy arrays; views of one block share one torch storage.

    The core writes a batch's outputs into one block; keeping them in one storage means a
    ``DataLoader`` worker moves one buffer to shared memory instead of one per tensor.
    """
    bases: Dict[int, torch.Tensor] = {}
    out: Dict[str, Any] = {}
    for k, v in arrays.items():
        if not isinstance(v, np.ndarray):
            out[k] = v
            continue
        b = v.base
        size = v.itemsize
        if (isinstance(b, np.ndarray) and b.base is None and b.dtype == v.dtype
                and b.flags.c_contiguous and all(st % size == 0 and st >= 0
                                                 for st in v.strides)):
            tb = bases.get(id(b))
            if tb is None:
                tb = bases[id(b)] = torch.from_numpy(b)
            offset = (v.__array_interface__["data"][0] - b.__array_interface__["data"][0]) // size
            out[k] = tb.as_strided(v.shape, [st // size for st in v.strides], offset)
        else:
            out[k] = torch.from_numpy(v)
    return out


def collate_extra(key: str, values: list, rt: str) -> Any:
    """Stacks one extra column into a tensor/array, as Hugging Face's collator would."""
    v0 = values[0]
    where = f"cannot collate the {key!r} field"
    hint = ("remove the column from the dataset (or pass IndexedDataset(..., columns=[...])) "
            "if the model does not take it")
    if isinstance(v0, torch.Tensor):
        for i, v in enumerate(values):
            if not isinstance(v, torch.Tensor) or v.shape != v0.shape:
                raise ValueError(f"{where}: examples[{i}][{key!r}] has shape "
                                 f"{tuple(getattr(v, 'shape', ()))}, examples[0] has "
                                 f"{tuple(v0.shape)}; {hint}")
        t = torch.stack(values)
        return t.numpy() if rt == "np" else t
    if isinstance(v0, (str, bytes)) or v0 is None:
        raise ValueError(f"{where}: examples[0][{key!r}] is {type(v0).__name__}, not a number; "
                         f"{hint}")
    try:
        arr = np.asarray(values)
    except ValueError:
        arr = None
    if arr is None or arr.dtype == object or arr.dtype.kind not in "biuf":
        shapes = [np.shape(v) if not isinstance(v, (str, bytes)) else "text" for v in values]
        i = next((i for i, s in enumerate(shapes) if s != shapes[0]), 0)
        raise ValueError(f"{where}: examples[{i}][{key!r}] ({type(values[i]).__name__}) does not "
                         f"stack with examples[0][{key!r}] into a numeric array; {hint}")
    if rt == "np":
        return arr
    if isinstance(v0, np.ndarray) or isinstance(v0, np.generic):
        return torch.from_numpy(np.ascontiguousarray(arr))
    return torch.tensor(values)


def flatten(out: Dict[str, np.ndarray], position_ids_start: int,
            first_label: Optional[int] = None) -> Dict[str, Any]:
    """The padded batch ``out`` as one row of real tokens with ``position_ids`` and the
    ``cu_seq_lens`` / ``max_length`` of Hugging Face's ``DataCollatorWithFlattening``.

    ``first_label``, when given, replaces the label of every sequence's first token (causal-LM
    labels must not predict across a sequence boundary).
    """
    attention = out["attention_mask"]
    keep = attention.astype(bool)
    lens = keep.sum(axis=1)
    ids = out["input_ids"][keep]
    total = ids.shape[0]
    cu = np.zeros(lens.shape[0] + 1, dtype=np.int32)
    np.cumsum(lens, out=cu[1:])
    lens_nz = lens[lens > 0]
    starts = cu[:-1][lens > 0].astype(np.int64)
    positions = np.arange(total, dtype=np.int64) - np.repeat(starts, lens_nz)
    if position_ids_start:
        positions += position_ids_start
    labels = out["labels"][keep]
    if first_label is not None and total:
        labels[starts] = first_label
    dt = ids.dtype
    res: Dict[str, Any] = {
        "input_ids": ids.reshape(1, total),
        "labels": labels.reshape(1, total),
        "position_ids": positions.astype(dt, copy=False).reshape(1, total),
    }
    if "token_type_ids" in out:
        res["token_type_ids"] = out["token_type_ids"][keep].reshape(1, total)
    max_len = int(lens.max()) if lens.shape[0] else 0
    res["cu_seq_lens_q"] = cu
    res["cu_seq_lens_k"] = cu.copy()
    res["max_length_q"] = max_len
    res["max_length_k"] = max_len
    return res
