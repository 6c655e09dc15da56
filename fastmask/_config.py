"""The integer form of a masking configuration, shared by the C core and the reference.

Users never build this directly: :class:`fastmask.Masker` validates its options and turns them
into a :class:`KernelConfig` once. Every field is an int, a float used only for the exact/span
budget, or an immutable container, so both implementations read exactly the same numbers
(docs/semantics.md, section 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

SELECT_BERNOULLI = 0
SELECT_EXACT = 1
SELECT_SPAN = 2
SELECTIONS = {"bernoulli": SELECT_BERNOULLI, "exact": SELECT_EXACT, "span": SELECT_SPAN}

UNITS_TOKENS = 0
UNITS_WORDS = 1

TWO32 = 1 << 32
MAX_SAMPLE_ID = 1 << 48
MAX_EPOCH = 1 << 32
MAX_SEED = 1 << 64
MAX_VOCAB = (1 << 31) - 1
MAX_WIDTH = 1 << 30  # longest padded row the C core accepts (fm_workspace_bytes)


def threshold(p: float) -> int:
    """``round_half_even(p * 2**32)``: the integer a 32-bit draw is compared with."""
    return int(round(float(p) * TWO32))


def cdf_thresholds(probs) -> Tuple[int, ...]:
    """Cumulative integer thresholds of a length distribution; the last one is ``2**32``."""
    total = float(sum(probs))
    out = []
    acc = 0.0
    for p in probs[:-1]:
        acc += float(p) / total
        out.append(min(TWO32, int(round(acc * TWO32))))
    out.append(TWO32)
    return tuple(out)


MAX_UNIGRAM_TOTAL = TWO32 - 1  # largest range of a bounded draw (section 4)


def unigram_cumulative(counts, excluded) -> Tuple[int, ...]:
    """The cumulative weight table of ``random_ids="unigram"`` (docs/semantics.md, section 8).

    ``counts`` is a 1-D NumPy array of non-negative integers, one per id; ids in ``excluded``
    weigh 0. When the weights sum to more than ``MAX_UNIGRAM_TOTAL``, each weight ``w`` becomes
    ``ceil(w / 2**s)`` for the smallest ``s >= 1`` that brings the sum within it (a non-zero
    count stays non-zero). Returns ``cum`` with ``cum[i]`` = weight of ids ``0..i``; raises
    ValueError when every weight is 0.
    """
    w = np.array(counts, dtype=np.uint64)  # a copy: the caller's array is never touched
    if len(excluded):
        w[np.asarray(sorted(excluded), dtype=np.int64)] = 0
    # the exact total, summed in two halves that cannot overflow 64 bits (< 2**31 entries)
    total = (int(np.sum(w >> np.uint64(32))) << 32) + int(np.sum(w & np.uint64(TWO32 - 1)))
    if total == 0:
        raise ValueError("unigram_counts: every id that may be drawn has count 0")
    if total > MAX_UNIGRAM_TOTAL:
        s = total.bit_length() - 32  # every smaller shift leaves the sum at 2**32 or more
        while True:
            mask = np.uint64((1 << s) - 1)
            scaled = (w >> np.uint64(s)) + ((w & mask) != 0).astype(np.uint64)
            if int(np.sum(scaled)) <= MAX_UNIGRAM_TOTAL:
                w = scaled
                break
            s += 1
    return tuple(np.cumsum(w, dtype=np.uint64).tolist())


@dataclass(frozen=True)
class KernelConfig:
    """Integer configuration read by the kernels (field for field the C ``fm_config``)."""

    seed: int
    selection: int
    units: int
    action_per_unit: bool
    t_select: int
    t_mask: int
    t_random: int
    probability: float
    max_predictions: int  # -1: no cap
    vocab_size: int
    mask_id: int
    pad_id: int
    ignore_index: int
    special_set: frozenset  # S: ids never picked
    random_skip: Tuple[int, ...]  # sorted ids excluded from random replacement
    random_range: int  # R
    span_cdf: Tuple[int, ...] = ()
    word_table: Optional[bytes] = None  # per-id 0/1/2 word table, length vocab_size
    # unigram random ids: cumulative weights, length vocab_size, last = random_range (section 8)
    random_cum: Optional[Tuple[int, ...]] = None
