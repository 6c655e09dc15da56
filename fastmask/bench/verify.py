"""Checks that a peer's output is right for its batch, so that a benchmark never times a peer
that does the wrong thing (``fastmask bench`` checks each peer's first output; ``benches/``
checks them in their quick mode).

The checks do not come from any implementation: for the original, right-padded batch they
require the attention mask to mark exactly the real tokens, padding to hold the pad id, labels
to equal the original id exactly where a token was picked (``ignore_index`` elsewhere), specials
and padding never to be picked, unpicked tokens to be unchanged, and (optionally) random
replacements to avoid special ids. With whole-word masking every word is picked whole.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

import numpy as np

from .corpus import RawBatch


class WrongOutput(AssertionError):
    """A peer's output breaks the masking contract for its batch."""


def _np(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):  # a torch tensor
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _expect(ok: bool, what: str) -> None:
    if not ok:
        raise WrongOutput(what)


def padded_original(raw: RawBatch, pad_id: int, width: Optional[int] = None):
    """``(ids, valid)``: the batch right-padded to ``width`` (default: its longest row) and the
    mask of its real tokens."""
    lens = raw.lengths
    W = int(lens.max()) if width is None else int(width)
    valid = np.arange(W)[None, :] < lens[:, None]
    ids = np.full(valid.shape, pad_id, dtype=np.int64)
    ids[valid] = raw.values
    return ids, valid


def word_units(ids: np.ndarray, candidate: np.ndarray, table: bytes) -> np.ndarray:
    """Unit number of every candidate position (0 elsewhere) under the 0/1/2 word-table rule: a
    word starts at a start piece (1), after punctuation (2), or at the first candidate after a
    non-candidate (a special token or the row start)."""
    t = np.frombuffer(table, dtype=np.uint8)[ids]
    starts = t >= 1
    starts[:, 1:] |= t[:, :-1] == 2
    prev = np.zeros_like(candidate)
    prev[:, 1:] = candidate[:, :-1]
    starts = candidate & (starts | ~prev)
    units = np.cumsum(starts.reshape(-1)).reshape(ids.shape)
    return np.where(candidate, units, 0)


def check_padded(out: Mapping[str, Any], raw: RawBatch, pad_id: int) -> None:
    """``out`` (``input_ids``, ``attention_mask``) is ``raw`` padded, unmasked."""
    orig, valid = padded_original(raw, pad_id)
    ids, att = _np(out["input_ids"]), _np(out["attention_mask"])
    _expect(ids.shape == orig.shape, f"input_ids has shape {ids.shape}, expected {orig.shape}")
    _expect(np.array_equal(ids, orig), "input_ids differ from the padded batch")
    _expect(np.array_equal(att, valid), "attention_mask does not mark exactly the real tokens")


def check_masked(out: Mapping[str, Any], raw: RawBatch, *, vocab_size: int, mask_id: int,
                 pad_id: int, special_ids: Sequence[int], ignore_index: int = -100,
                 word_table: Optional[bytes] = None, random_avoids_specials: bool = True,
                 min_candidates_for_picks: int = 100) -> None:
    """``out`` (``input_ids``, ``labels``, ``attention_mask``) is a correct masking of ``raw``
    (see the module docstring). ``word_table`` given: whole-word masking is checked too. A batch
    with at least ``min_candidates_for_picks`` candidates must have something picked (at a 15 %
    rate, missing all of 100 candidates has a chance below 1e-7)."""
    orig, valid = padded_original(raw, pad_id)
    ids, labels, att = (_np(out[k]) for k in ("input_ids", "labels", "attention_mask"))
    for name, a in (("input_ids", ids), ("labels", labels), ("attention_mask", att)):
        _expect(a.shape == orig.shape, f"{name} has shape {a.shape}, expected {orig.shape}")
    _expect(np.array_equal(att, valid), "attention_mask does not mark exactly the real tokens")
    special = np.isin(orig, np.asarray(list(special_ids) + [mask_id, pad_id], dtype=np.int64))
    candidate = valid & ~special
    picked = labels != ignore_index
    _expect(not (picked & ~candidate).any(), "a special token or padding was picked")
    _expect(np.array_equal(labels[picked], orig[picked]),
            "labels differ from the original ids where tokens were picked")
    _expect(np.array_equal(ids[~picked], orig[~picked]), "an unpicked token was changed")
    _expect(bool(((ids >= 0) & (ids < vocab_size)).all()), "an id is outside the vocabulary")
    if random_avoids_specials:
        new = ids[picked]
        new = new[new != mask_id]
        _expect(not np.isin(new, np.asarray(list(special_ids) + [pad_id])).any(),
                "a random replacement is a special id")
    if candidate.sum() >= min_candidates_for_picks:
        _expect(bool(picked.any()), f"nothing was picked among {int(candidate.sum())} candidates")
    if word_table is not None:
        units = word_units(orig, candidate, word_table)
        n = int(units.max()) + 1
        total = np.bincount(units[candidate], minlength=n)
        hit = np.bincount(units[picked], minlength=n)
        partial = (hit > 0) & (hit < total)
        _expect(not partial.any(), f"{int(partial.sum())} words were picked in part")


def check_same(a: Mapping[str, Any], b: Mapping[str, Any], what: str,
               keys: Sequence[str] = ("input_ids", "labels", "attention_mask")) -> None:
    """``a`` and ``b`` hold the same arrays under ``keys`` (bit for bit)."""
    for k in keys:
        x, y = _np(a[k]), _np(b[k])
        _expect(x.shape == y.shape and np.array_equal(x, y), f"{k} differs from {what}")
