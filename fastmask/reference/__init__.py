"""Pure-Python twin of the fastmask C core.

The oracle of the test suite: for the same configuration, seed, epoch, sample id and input it
produces bit for bit what ``csrc/`` produces, following docs/semantics.md line by line.

* :mod:`fastmask.reference.kernel`: the kernel, on lists and ints only (random stream, units,
  selection, replacement, padding, and the word-start rules);
* :mod:`fastmask.reference.front`: :class:`Masker`, :func:`pad` and :func:`mask` with the
  interface of :mod:`fastmask`, reading and laying out their inputs in pure Python.
"""

from fastmask._config import (  # noqa: F401  (importable from here as before)
    MAX_EPOCH,
    MAX_SAMPLE_ID,
    MAX_SEED,
    MAX_VOCAB,
    SELECT_BERNOULLI,
    SELECT_EXACT,
    SELECT_SPAN,
    TWO32,
    UNITS_TOKENS,
    UNITS_WORDS,
    KernelConfig,
)

from .front import Masker, mask, pad
from .kernel import (
    DOMAIN_ACTION,
    DOMAIN_RETRY,
    DOMAIN_SELECT,
    DOMAIN_SHUFFLE,
    DOMAIN_SPAN,
    MASK32,
    PHILOX_M0,
    PHILOX_M1,
    PHILOX_ROUNDS,
    PHILOX_W0,
    PHILOX_W1,
    RETRY_ROUNDS,
    SequenceDraws,
    Unit,
    adjacent,
    allowed_id,
    bounded,
    build_units,
    check_config,
    fill,
    mask_sequence,
    pad_and_mask,
    philox4x32_10,
    replace_and_label,
    retry_domain,
    select_bernoulli,
    select_exact,
    select_span,
    select_units,
    selection_budget,
    span_length,
    special_flags,
    stream_block,
    word_starts_from_offsets,
    word_starts_from_table,
    word_starts_from_word_ids,
)

__all__ = [
    "Masker", "pad", "mask", "KernelConfig",
    "DOMAIN_ACTION", "DOMAIN_RETRY", "DOMAIN_SELECT", "DOMAIN_SHUFFLE", "DOMAIN_SPAN",
    "MASK32", "PHILOX_M0", "PHILOX_M1", "PHILOX_ROUNDS", "PHILOX_W0", "PHILOX_W1",
    "RETRY_ROUNDS", "SequenceDraws", "Unit", "adjacent", "allowed_id", "bounded",
    "build_units", "check_config", "fill", "mask_sequence", "pad_and_mask", "philox4x32_10",
    "replace_and_label", "retry_domain", "select_bernoulli", "select_exact", "select_span",
    "select_units", "selection_budget", "span_length", "special_flags", "stream_block",
    "word_starts_from_table", "word_starts_from_word_ids", "word_starts_from_offsets",
]
