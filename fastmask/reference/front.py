"""The pure-Python :class:`Masker` / :func:`pad` / :func:`mask` front end over the kernel."""

from __future__ import annotations

import numbers as _numbers
from typing import List

from .. import _api
from .. import _rows
from .kernel import pad_and_mask

# =============================================================================================
# Front-end: the same Masker / pad / mask API as fastmask, with the pure-Python kernel above.
# Option checks and input normalisation are shared with fastmask._api, so both implementations
# accept and refuse exactly the same inputs; only the per-token work differs.



def _ref_read_row(seq, name: str, i: int, lo: int, hi: int, width: int) -> List[int]:
    """Reads one row as a list of ints, checking every id (same messages as the C path)."""
    out = []
    n = len(seq)
    for k in range(min(n, width)):
        item = seq[k]
        if isinstance(item, bool) or type(item).__name__ == "bool_" or not isinstance(
                item, _numbers.Integral):
            raise TypeError(f"{name}[{i}][{k}]: expected an integer id, got "
                            f"{type(item).__name__} {item!r}")
        v = int(item)
        if v < lo or v >= hi:
            raise ValueError(f"{name}[{i}][{k}]: id {item!r} is out of range [{lo}, {hi})")
        out.append(v)
    return out


def _ref_rows(rows, name: str, lo: int, hi: int, width: int) -> List[List[int]]:
    if rows.rows is not None:
        lists = [r.tolist() if hasattr(r, "tolist") else r for r in rows.rows]
    else:
        lists = rows.as_lists()
    return [_ref_read_row(r, name, i, lo, hi, width) for i, r in enumerate(lists)]


def _ref_pad(rows: List[List[int]], width: int, left: bool, fill: int) -> List[List[int]]:
    out = []
    for r in rows:
        pad_n = width - len(r)
        out.append([fill] * pad_n + r if left else r + [fill] * pad_n)
    return out


class Masker(_api.Masker):
    """:class:`fastmask.Masker` with every token processed by the pure-Python kernel."""

    _impl = "reference"

    def _make_core(self):
        return None

    def _run(self, ids, special, types, starts, sids, epoch, width, left, return_special=True):
        import numpy as np

        lay = self.layout
        seqs = _ref_rows(ids, "input_ids", 0, self.vocab_size, width)
        sp = None if special is None else _ref_rows(special, "special_tokens_mask", 0, 2, width)
        if isinstance(starts, _rows.WordIds):
            starts = starts.as_flag_rows()
        ws = None if starts is None else _ref_rows(starts, "word_starts", 0, 2, width)
        out_ids, labels, attention = pad_and_mask(self._kc, epoch, seqs,
                                                  [int(s) for s in sids], width, left,
                                                  special_masks=sp, word_starts=ws)
        B = len(seqs)
        dt = lay.dtype

        def arr(rows):
            return np.array(rows, dtype=dt).reshape(B, width)

        out = {"input_ids": arr(out_ids), "attention_mask": arr(attention),
               "labels": arr(labels)}
        if types is not None:
            tt = _ref_rows(types, "token_type_ids", 0, (1 << 31), width)
            out["token_type_ids"] = arr(_ref_pad(tt, width, left, 0))
        if sp is not None and return_special:
            out["special_tokens_mask"] = arr(_ref_pad(sp, width, left, 1))
        return out


def pad(input_ids, **kwargs):
    """Same as :func:`fastmask.pad` (padding has no randomness to reproduce)."""
    return _api.pad(input_ids, **kwargs)


def mask(input_ids, *, vocab_size: int, mask_token_id: int, sample_ids=None, epoch: int = 0,
         **kwargs):
    """Same as :func:`fastmask.mask`, computed by the pure-Python kernel."""
    call_keys = ("lengths", "attention_mask", "offsets", "special_tokens_mask",
                 "token_type_ids", "word_starts", "word_ids", "offset_mapping", "chinese_ref")
    call = {k: kwargs.pop(k) for k in call_keys if k in kwargs}
    m = Masker(vocab_size, mask_token_id, **kwargs)
    return m(input_ids, sample_ids=sample_ids, epoch=epoch, **call)
