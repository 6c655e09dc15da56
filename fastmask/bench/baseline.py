"""A NumPy-vectorized pad-and-mask implementation, used as a peer in the benchmarks.

This is what a careful engineer writes without a compiled extension: every step is one
vectorized NumPy operation over the whole batch, random numbers are drawn only where they are
needed (one per candidate token, one decision and one id per picked token), the three outputs
live in a single ``np.empty`` block and every element of it is written exactly once or twice.

It follows the same rules as :class:`fastmask.Masker` with ``selection="bernoulli"``: special
ids and padding are never picked, 80/10/10 replacement is decided per token, random ids are
drawn from the non-special part of the vocabulary, labels are the original id where picked and
``ignore_index`` elsewhere. Whole-word masking uses the same 0/1/2 word table. The random
numbers come from NumPy's PCG64, so the masks follow the same distribution as fastmask's but
are not the same bits.
"""

from __future__ import annotations

from itertools import chain
from typing import Any, Dict, Optional, Sequence

import numpy as np

__all__ = ["NumpyMasker"]


class NumpyMasker:
    """Pads and masks a batch with NumPy only (see the module docstring).

    Args mirror :class:`fastmask.Masker` (a subset of them). Call it with a list of sequences,
    a padded 2-D array (with ``lengths``) or flat values with ``offsets``.
    """

    def __init__(self, vocab_size: int, mask_token_id: int, *, pad_token_id: int = 0,
                 special_ids: Sequence[int] = (), mlm_probability: float = 0.15,
                 mask_replace_prob: float = 0.8, random_replace_prob: float = 0.1,
                 whole_word: bool = False, word_table: Any = None, ignore_index: int = -100,
                 seed: Optional[int] = None, dtype: Any = "int64",
                 padding_side: str = "right", pad_to_multiple_of: Optional[int] = None):
        if vocab_size < 1:
            raise ValueError(f"vocab_size must be >= 1, got {vocab_size}")
        for name, value in (("mask_token_id", mask_token_id), ("pad_token_id", pad_token_id)):
            if not 0 <= value < vocab_size:
                raise ValueError(f"{name}={value} is outside [0, {vocab_size})")
        if mask_replace_prob + random_replace_prob > 1.0 + 1e-12:
            raise ValueError("mask_replace_prob + random_replace_prob must be <= 1")
        if padding_side not in ("right", "left"):
            raise ValueError(f"padding_side must be 'right' or 'left', got {padding_side!r}")
        self.vocab_size = int(vocab_size)
        self.mask_token_id = int(mask_token_id)
        self.pad_token_id = int(pad_token_id)
        self.mlm_probability = float(mlm_probability)
        self.mask_replace_prob = float(mask_replace_prob)
        self.random_replace_prob = float(random_replace_prob)
        self.ignore_index = int(ignore_index)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.dtype(np.int64), np.dtype(np.int32)):
            raise ValueError(f"dtype must be int64 or int32, got {dtype!r}")
        self.left = padding_side == "left"
        self.pad_to_multiple_of = pad_to_multiple_of
        special = np.zeros(vocab_size, dtype=bool)
        special[np.asarray(list(special_ids), dtype=np.int64)] = True
        special[[self.mask_token_id, self.pad_token_id]] = True
        self._special = special
        self._allowed = np.flatnonzero(~special).astype(self.dtype)
        if self._allowed.shape[0] == 0:
            raise ValueError("every id is special: nothing is left for random replacement")
        self.whole_word = bool(whole_word)
        self._table = None
        if word_table is not None:
            table = np.frombuffer(bytes(word_table), dtype=np.uint8) if not isinstance(
                word_table, np.ndarray) else np.asarray(word_table, dtype=np.uint8)
            if table.shape != (vocab_size,):
                raise ValueError(f"word_table must have {vocab_size} entries, got {table.shape}")
            self._table = table
        self._rng = np.random.default_rng(seed)

    # -- input forms --------------------------------------------------------------------------
    def _padded_ids(self, input_ids: Any, lengths: Any, offsets: Any):
        """Returns ``(block, ids_view, valid, lengths)`` with the ids written into the block."""
        if offsets is not None:
            values = np.asarray(input_ids)
            off = np.asarray(offsets, dtype=np.int64)
            lens = np.diff(off)
        elif isinstance(input_ids, np.ndarray) and input_ids.ndim == 2:
            values = None
            arr = input_ids
            lens = (np.full(arr.shape[0], arr.shape[1], dtype=np.int64) if lengths is None
                    else np.asarray(lengths, dtype=np.int64))
        else:
            seqs = input_ids
            lens = np.fromiter(map(len, seqs), dtype=np.int64, count=len(seqs))
            if len(seqs) and isinstance(seqs[0], np.ndarray):
                values = np.concatenate(seqs).astype(np.int64, copy=False)
            else:
                values = np.fromiter(chain.from_iterable(seqs), dtype=np.int64,
                                     count=int(lens.sum()))
        B = lens.shape[0]
        W = int(lens.max()) if B else 0
        m = self.pad_to_multiple_of
        if m and W % m:
            W += m - W % m
        cols = np.arange(W)
        valid = cols >= (W - lens)[:, None] if self.left else cols < lens[:, None]
        block = np.empty((3, B, W), dtype=self.dtype)
        ids = block[0]
        if values is None:
            # a padded input follows the same padding side as the output
            src = arr[:, arr.shape[1] - W:] if self.left else arr[:, :W]
            np.copyto(ids, src, casting="unsafe")
            np.copyto(ids, self.pad_token_id, where=~valid)
            checked = ids
        else:
            ids.fill(self.pad_token_id)
            ids[valid] = values
            checked = values
        if checked.size and (int(checked.min()) < 0 or int(checked.max()) >= self.vocab_size):
            bad = np.argwhere((ids < 0) | (ids >= self.vocab_size))[0]
            i, j = int(bad[0]), int(bad[1])
            raise ValueError(f"input_ids[{i}]: id {int(ids[i, j])} is out of range "
                             f"[0, {self.vocab_size})")
        return block, ids, valid, lens

    # -- the call -----------------------------------------------------------------------------
    def __call__(self, input_ids: Any, *, lengths: Any = None, offsets: Any = None,
                 word_starts: Any = None) -> Dict[str, np.ndarray]:
        block, ids, valid, lens = self._padded_ids(input_ids, lengths, offsets)
        labels, attention = block[1], block[2]
        B, W = ids.shape
        rng = self._rng
        flat_ids = ids.reshape(-1)
        cand = valid & ~self._special[ids]
        if self.whole_word:
            starts = self._word_starts(ids, cand, valid, lens, word_starts)
            flat_cand = cand.reshape(-1)
            unit_of = np.cumsum(starts.reshape(-1))  # 1-based unit number of every position
            n_units = int(unit_of[-1]) if unit_of.shape[0] else 0
            unit_picked = rng.random(n_units + 1, dtype=np.float32) < self.mlm_probability
            unit_picked[0] = False
            picked = np.flatnonzero(flat_cand & unit_picked[unit_of])
        else:
            idx = np.flatnonzero(cand)
            picked = idx[rng.random(idx.shape[0], dtype=np.float32) < self.mlm_probability]
        labels.fill(self.ignore_index)
        labels.reshape(-1)[picked] = flat_ids[picked]
        d = rng.random(picked.shape[0], dtype=np.float32)
        to_mask = picked[d < self.mask_replace_prob]
        to_random = picked[(d >= self.mask_replace_prob)
                           & (d < self.mask_replace_prob + self.random_replace_prob)]
        flat_ids[to_mask] = self.mask_token_id
        if to_random.shape[0]:
            flat_ids[to_random] = self._allowed[rng.integers(0, self._allowed.shape[0],
                                                             to_random.shape[0])]
        np.copyto(attention, valid, casting="unsafe")
        return {"input_ids": ids, "attention_mask": attention, "labels": labels}

    def _word_starts(self, ids, cand, valid, lens, word_starts) -> np.ndarray:
        """Word-start flags of the candidate positions (docs/semantics.md, section 6)."""
        B, W = ids.shape
        if word_starts is not None:
            flags = np.zeros((B, W), dtype=bool)
            src = np.fromiter(chain.from_iterable(word_starts), dtype=np.uint8,
                              count=int(lens.sum()))
            flags[valid] = src.astype(bool)
        elif self._table is not None:
            t = self._table[ids]
            flags = t >= 1
            flags[:, 1:] |= t[:, :-1] == 2
        else:
            raise ValueError("whole_word=True needs word_starts or a word_table")
        # a unit also starts at the first candidate after a special token or the row start
        prev_cand = np.zeros((B, W), dtype=bool)
        prev_cand[:, 1:] = cand[:, :-1]
        return cand & (flags | ~prev_cand)
