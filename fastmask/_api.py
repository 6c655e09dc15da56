"""The NumPy API: :class:`Masker`, :func:`pad` and :func:`mask`.

This module validates options and lays out output buffers; input normalisation lives in
:mod:`fastmask._rows` and the per-token work in the C core (``fastmask._core``). The
pure-Python twin (:mod:`fastmask.reference`) shares the option checks of :class:`Masker` and
nothing else: it reads, lays out and masks the inputs on its own.
"""

from __future__ import annotations

import inspect
import math
import os
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

from . import _config as C
from ._checks import check_bool as _check_bool
from ._checks import check_choice as _check_choice
from ._checks import check_int as _check_int
from ._checks import check_prob as _check_prob
from ._checks import int_array as _int_array
from ._checks import sample_ids_array as _sample_ids_array
from ._rows import (
    Offsets,
    Rows,
    WordIds,
    normalize_ids,
    side_rows,
    truncate,
    word_start_rows,
)

__all__ = ["Masker", "pad", "mask", "SPAN_LENGTHS"]

# Names these helpers had before they moved to fastmask._rows (kept for code not yet updated).
_Rows, _WordIds, _Offsets, _normalize_ids, _side_rows, _word_start_rows, _truncate = (
    Rows, WordIds, Offsets, normalize_ids, side_rows, word_start_rows, truncate)

_DTYPES = {"int64": np.int64, "int32": np.int32}

#: Below this many tokens per thread, splitting a batch over threads costs more than it saves.
_TOKENS_PER_THREAD = 1 << 17

#: Built-in span-length distributions (probabilities of lengths 1, 2, ...).
SPAN_LENGTHS = {
    # SpanBERT: geometric p = 0.2, truncated to 1..10 words and renormalised
    "spanbert": tuple(0.2 * 0.8 ** (n - 1) for n in range(1, 11)),
    # ALBERT n-gram masking: P(n) proportional to 1/n for n = 1..3
    "albert": tuple(1.0 / n for n in range(1, 4)),
}


#: Every live Masker, so that a forked child can drop the thread pools it inherited.
_LIVE: "weakref.WeakSet[Masker]" = weakref.WeakSet()


def _reset_after_fork() -> None:
    for m in list(_LIVE):
        m._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


# ---------------------------------------------------------------------------------------------
# option checks


class Layout:
    """Padding options shared by :class:`Masker` and :func:`pad`."""

    def __init__(self, pad_token_id, padding, max_length, truncation, pad_to_multiple_of,
                 padding_side, dtype):
        self.pad_token_id = _check_int("pad_token_id", pad_token_id, 0, C.MAX_VOCAB)
        self.padding = _check_choice("padding", padding, ("longest", "max_length"))
        self.max_length = _check_int("max_length", max_length, 0, C.MAX_WIDTH, none_ok=True)
        self.truncation = _check_bool("truncation", truncation)
        self.pad_to_multiple_of = _check_int("pad_to_multiple_of", pad_to_multiple_of, 1,
                                             C.MAX_WIDTH, none_ok=True)
        self.padding_side = _check_choice("padding_side", padding_side, ("right", "left"))
        if isinstance(dtype, str) and dtype in _DTYPES:
            self.dtype = np.dtype(_DTYPES[dtype])
        else:
            try:
                dt = np.dtype(dtype)
            except TypeError:
                dt = None
            if dt not in (np.dtype(np.int64), np.dtype(np.int32)):
                raise ValueError(f"dtype must be 'int64' or 'int32', got {dtype!r}")
            self.dtype = dt
        if self.padding == "max_length" and self.max_length is None:
            raise ValueError("padding='max_length' needs max_length")
        if self.truncation and self.max_length is None:
            raise ValueError("truncation=True needs max_length")

    def width(self, lengths: np.ndarray, name: str = "input_ids") -> int:
        """Padded width for sequences of the given (untruncated) lengths."""
        longest = int(lengths.max()) if lengths.shape[0] else 0
        if self.max_length is not None:
            if longest > self.max_length and not self.truncation:
                i = int(np.argmax(lengths))
                raise ValueError(f"{name}[{i}] has {longest} tokens, more than max_length="
                                 f"{self.max_length}; pass truncation=True to cut it")
            width = self.max_length if self.padding == "max_length" else min(longest,
                                                                               self.max_length)
        else:
            width = longest
        m = self.pad_to_multiple_of
        if m is not None and width % m:
            width += m - width % m
        if width > C.MAX_WIDTH:
            raise ValueError(f"the padded width {width} is above the limit of {C.MAX_WIDTH} "
                             "tokens (max_length / pad_to_multiple_of)")
        return width


def _pad_side(name: str, side: Rows, width: int, left: bool, fill: int, dtype,
              hi: int, out: Optional[np.ndarray] = None) -> np.ndarray:
    """Pads a side input into `out` (or a fresh (B, width) array of `dtype`)."""
    from . import _core

    if out is None:
        out = np.empty((len(side), width), dtype=dtype)
    if side.rows is not None:
        _core.fill_rows(side.rows, out, left, 0, hi, fill, name)
        return out
    vals = side.values
    if out.dtype == np.uint8:
        rc, row = _core.pad_u8(np.ascontiguousarray(vals, dtype=np.uint8), side.offsets, out,
                               left, True, fill)
        if rc != 0:
            raise ValueError(f"{name}: could not pad row {row}")
        return out
    lens = np.empty(len(side), dtype=np.int64)
    rc, row, pos = _core.pad_ragged(np.ascontiguousarray(vals, dtype=out.dtype), side.offsets,
                                    out, left, True, fill, 0, lens)
    if rc != 0:
        raise ValueError(f"{name}[{row}][{pos}]: bad value")
    return out


# ---------------------------------------------------------------------------------------------
# the configured object


class Masker:
    """Pads and masks batches of token ids for masked-language-model training.

    Build it once with the vocabulary facts and options, then call it on each batch. The masks
    are a pure function of ``(seed, epoch, sample id)`` and each sequence's own tokens (see
    docs/semantics.md): the same sequence gets the same mask in any batch, row, padding or
    thread. Without ``sample_ids``, calls continue a running counter (0..B-1, then B..2B-1, ...).

    Args:
        vocab_size: number of ids; every input id must be in ``[0, vocab_size)``.
        mask_token_id: id written at 80 % (``mask_replace_prob``) of picked tokens.
        pad_token_id: id written at padding (default 0). Never picked.
        special_ids: ids never picked and, by default, never drawn as random replacements
            (e.g. ``tokenizer.all_special_ids``). ``mask_token_id`` and ``pad_token_id`` are
            always added.
        mlm_probability: per-candidate pick probability (0.15), or the budget fraction for
            ``selection="exact"`` / ``"span"``.
        mask_replace_prob / random_replace_prob: fractions of picked tokens replaced by the mask
            id (0.8) or a random id (0.1); the rest stay unchanged. They must sum to at most 1.
        selection: ``"bernoulli"`` (each unit picked independently, as Hugging Face does),
            ``"exact"`` (BERT's ``create_pretraining_data`` rule) or ``"span"``.
        max_predictions: cap on picked tokens per sequence (BERT's ``max_predictions_per_seq``).
        random_ids: ``"non_special"`` (default) or ``"all"`` (any id in ``[0, vocab_size)``,
            as Hugging Face does), or ``"unigram"``: non-special ids in proportion to
            ``unigram_counts`` (fairseq's ``freq_weighted_replacement``).
        unigram_counts: for ``random_ids="unigram"``: one non-negative integer count per id.
        ignore_index: label of positions that are not predicted (-100).
        seed: 0 <= seed < 2**64. ``None`` draws one from the OS; it is readable as ``.seed``.
        whole_word: pick whole words; boundaries come from per-call ``word_starts``,
            ``word_ids``, ``offset_mapping`` or ``chinese_ref``, or from ``word_table``.
        word_table: a vocabulary (list of tokens, token->id dict, or tokenizer with
            ``get_vocab()``) or a ready 0/1/2 table (bytes or uint8 array of ``vocab_size``).
        word_convention: ``"auto"``, ``"wordpiece"``, ``"sentencepiece"`` or ``"bytelevel"``.
        action: ``"token"`` (80/10/10 decided per token) or ``"unit"`` (per word, as fairseq).
        span_lengths: for ``selection="span"``: ``"spanbert"``, ``"albert"`` or probabilities of
            span lengths 1, 2, ... (in words when ``whole_word``, else tokens).
        padding, max_length, truncation, pad_to_multiple_of, padding_side, dtype: output layout.
        num_threads: split large batches over this many threads (the C work runs without the GIL).
    """

    _impl = "c"

    def __init__(self, vocab_size: int, mask_token_id: int, *, pad_token_id: int = 0,
                 special_ids: Sequence[int] = (), mlm_probability: float = 0.15,
                 mask_replace_prob: float = 0.8, random_replace_prob: float = 0.1,
                 selection: str = "bernoulli", max_predictions: Optional[int] = None,
                 random_ids: str = "non_special", ignore_index: int = -100,
                 seed: Optional[int] = None, whole_word: bool = False, word_table: Any = None,
                 word_convention: str = "auto", action: str = "token",
                 span_lengths: Any = "spanbert", padding: str = "longest",
                 max_length: Optional[int] = None, truncation: bool = False,
                 pad_to_multiple_of: Optional[int] = None, padding_side: str = "right",
                 dtype: Any = "int64", num_threads: int = 1, unigram_counts: Any = None):
        self.vocab_size = _check_int("vocab_size", vocab_size, 1, C.MAX_VOCAB)
        V = self.vocab_size
        self.mask_token_id = _check_int("mask_token_id", mask_token_id, 0, None)
        if self.mask_token_id >= V:
            raise ValueError(f"mask_token_id={self.mask_token_id} is outside [0, {V})")
        self.layout = Layout(pad_token_id, padding, max_length, truncation, pad_to_multiple_of,
                              padding_side, dtype)
        if self.layout.pad_token_id >= V:
            raise ValueError(f"pad_token_id={self.layout.pad_token_id} is outside [0, {V})")
        if isinstance(special_ids, (str, bytes)) or not hasattr(special_ids, "__iter__"):
            raise TypeError("special_ids must be a sequence of ints")
        specials = set()
        for k, s in enumerate(special_ids):
            s = _check_int(f"special_ids[{k}]", s, 0, None)
            if s >= V:
                raise ValueError(f"special_ids[{k}]={s} is outside [0, {V})")
            specials.add(s)
        specials.add(self.mask_token_id)
        specials.add(self.layout.pad_token_id)
        self.special_ids = tuple(sorted(specials))
        self.mlm_probability = _check_prob("mlm_probability", mlm_probability)
        self.mask_replace_prob = _check_prob("mask_replace_prob", mask_replace_prob)
        self.random_replace_prob = _check_prob("random_replace_prob", random_replace_prob)
        if self.mask_replace_prob + self.random_replace_prob > 1.0 + 1e-12:
            raise ValueError("mask_replace_prob + random_replace_prob must be <= 1, got "
                             f"{self.mask_replace_prob} + {self.random_replace_prob}")
        self.selection = _check_choice("selection", selection, tuple(C.SELECTIONS))
        self.max_predictions = _check_int("max_predictions", max_predictions, 0,
                                          (1 << 63) - 1, none_ok=True)
        self.random_ids = _check_choice("random_ids", random_ids,
                                        ("non_special", "all", "unigram"))
        self.unigram_counts = _unigram_counts(unigram_counts, self.random_ids, V)
        self.ignore_index = _check_int("ignore_index", ignore_index, -(1 << 31), (1 << 31) - 1)
        if seed is None:
            seed = int.from_bytes(os.urandom(8), "little")
        self.seed = _check_int("seed", seed, 0, C.MAX_SEED - 1)
        self.whole_word = _check_bool("whole_word", whole_word)
        self.action = _check_choice("action", action, ("token", "unit"))
        self.num_threads = _check_int("num_threads", num_threads, 1, 256)
        self._word_table = self._build_word_table(word_table, word_convention)
        self.span_lengths = self._span_probs(span_lengths)
        self._kc = self._kernel_config()
        self._lock = threading.Lock()
        self._next_sid = 0
        self._pool: Optional[ThreadPoolExecutor] = None
        self._core = self._make_core()
        _LIVE.add(self)

    @classmethod
    def from_tokenizer(cls, tokenizer: Any, **options: Any) -> "Masker":
        """A Masker configured from a Hugging Face tokenizer (duck-typed).

        Reads what ``fastmask.torch.MLMCollator.from_tokenizer`` reads, through the same
        function (:func:`fastmask.vocab.masker_arguments`): ``len(tokenizer)``,
        ``mask_token_id``, ``pad_token_id``, ``all_special_ids`` (never picked, never drawn as
        random replacements), ``padding_side`` and, for ``whole_word=True``, ``get_vocab()``
        for the word table. So for the same seed and sample ids it masks exactly like the
        collator. ``vocab_size``, ``mask_token_id`` and Hugging Face's ``whole_word_mask`` are
        accepted besides the constructor's options; an option given explicitly overrides what
        the tokenizer says.
        """
        from ._checks import check_names
        from .vocab import TOKENIZER_OPTIONS, masker_arguments

        valid = frozenset(k for k, p in inspect.signature(cls.__init__).parameters.items()
                          if p.kind is p.KEYWORD_ONLY) | frozenset(TOKENIZER_OPTIONS)
        check_names(f"{cls.__name__}.from_tokenizer", options, valid)
        vocab_size, mask_id, opts = masker_arguments(tokenizer, options)
        assert mask_id is not None  # masker_arguments raises without a mask id (mlm=True)
        return cls(vocab_size, mask_id, **opts)

    # -- configuration helpers ---------------------------------------------------------------
    def _build_word_table(self, word_table, convention) -> Optional[bytes]:
        if word_table is None:
            return None
        if isinstance(word_table, (bytes, bytearray, memoryview)) or (
                isinstance(word_table, np.ndarray) and word_table.dtype.kind in "iub"):
            table = np.frombuffer(bytes(word_table), dtype=np.uint8) if not isinstance(
                word_table, np.ndarray) else word_table.astype(np.uint8)
        else:
            from . import words

            table = np.frombuffer(words.word_table(word_table, convention=convention,
                                                   vocab_size=self.vocab_size), dtype=np.uint8)
        if table.ndim != 1 or table.shape[0] != self.vocab_size:
            raise ValueError(f"word_table must have one entry per id ({self.vocab_size}), got "
                             f"{table.shape[0] if table.ndim == 1 else table.shape}")
        if table.shape[0] and int(table.max()) > 2:
            raise ValueError("word_table entries must be 0 (continues), 1 (starts) or 2 (alone)")
        return table.tobytes()

    def _span_probs(self, span_lengths) -> Tuple[float, ...]:
        if isinstance(span_lengths, str):
            if span_lengths not in SPAN_LENGTHS:
                raise ValueError(f"span_lengths must be one of {sorted(SPAN_LENGTHS)} or a "
                                 f"sequence of probabilities, got {span_lengths!r}")
            return SPAN_LENGTHS[span_lengths]
        try:
            probs = tuple(float(p) for p in span_lengths)
        except (TypeError, ValueError):
            raise TypeError("span_lengths must be a name or a sequence of probabilities") from None
        if not probs or any(not (p >= 0 and math.isfinite(p)) for p in probs) or sum(probs) <= 0:
            raise ValueError("span_lengths must be non-negative probabilities with a positive sum")
        return probs

    def _kernel_config(self) -> C.KernelConfig:
        V = self.vocab_size
        t_mask = C.threshold(self.mask_replace_prob)
        t_random = C.threshold(self.random_replace_prob)
        if t_mask + t_random > C.TWO32:
            t_random = C.TWO32 - t_mask
        skip = self.special_ids if self.random_ids == "non_special" else ()
        cum = None
        if self.random_ids == "unigram":
            cum = C.unigram_cumulative(self.unigram_counts, self.special_ids)
        if V - len(skip) < 1:
            if self._may_replace_randomly(t_random):
                raise ValueError(
                    "every id is special: no id is left for random replacement (pass "
                    "random_replace_prob=0 or random_ids='all', or fewer special_ids)")
            # no random id is ever drawn, so the draw set does not change the output; the
            # kernels want a non-empty one
            skip = ()
        return C.KernelConfig(
            seed=self.seed, selection=C.SELECTIONS[self.selection],
            units=C.UNITS_WORDS if self.whole_word else C.UNITS_TOKENS,
            action_per_unit=self.action == "unit", t_select=C.threshold(self.mlm_probability),
            t_mask=t_mask, t_random=t_random, probability=self.mlm_probability,
            max_predictions=-1 if self.max_predictions is None else self.max_predictions,
            vocab_size=V, mask_id=self.mask_token_id, pad_id=self.layout.pad_token_id,
            ignore_index=self.ignore_index, special_set=frozenset(self.special_ids),
            random_skip=tuple(skip), random_range=V - len(skip) if cum is None else cum[-1],
            random_cum=cum,
            span_cdf=C.cdf_thresholds(self.span_lengths), word_table=self._word_table)

    def _may_replace_randomly(self, t_random: int) -> bool:
        """Whether this configuration can replace a picked token by a random id: the random
        share is not 0 after thresholds, and something can be picked (``max_predictions`` is
        not 0; Bernoulli selection needs ``mlm_probability`` > 0 after thresholds, while the
        exact and span budgets pick at least one token, docs/semantics.md section 7)."""
        if t_random == 0 or self.max_predictions == 0:
            return False
        return self.selection != "bernoulli" or C.threshold(self.mlm_probability) > 0

    def _make_core(self):
        from . import _core

        return _core.CoreConfig(self._kc)

    # -- state ------------------------------------------------------------------------------
    @property
    def next_sample_id(self) -> int:
        """Sample id the next call without ``sample_ids`` starts at."""
        return self._next_sid

    @next_sample_id.setter
    def next_sample_id(self, value: int) -> None:
        self._next_sid = _check_int("next_sample_id", value, 0, C.MAX_SAMPLE_ID - 1)

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_lock"] = None
        state["_pool"] = None
        state["_core"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._core = self._make_core()
        _LIVE.add(self)

    def _after_fork(self) -> None:
        """In a forked child the parent's pool threads do not exist (and the lock may have been
        held by one of them): start over with no pool and a fresh lock."""
        self._lock = threading.Lock()
        self._pool = None

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(vocab_size={self.vocab_size}, mask_token_id="
                f"{self.mask_token_id}, mlm_probability={self.mlm_probability}, selection="
                f"{self.selection!r}, whole_word={self.whole_word}, seed={self.seed})")

    def _sample_ids(self, sample_ids: Any, B: int) -> Tuple[np.ndarray, Optional[int]]:
        """The batch's sample ids, and the counter value to roll back to if the call fails
        (``None`` when the caller passed them)."""
        if sample_ids is not None:
            return _sample_ids_array(sample_ids, B, C.MAX_SAMPLE_ID), None
        with self._lock:
            start = self._next_sid
            if start + B > C.MAX_SAMPLE_ID:
                raise ValueError("the running sample-id counter reached 2**48")
            self._next_sid = start + B
        return np.arange(start, start + B, dtype=np.uint64), start

    def _release(self, start: int, B: int) -> None:
        """Gives back the ids of a failed call, unless another call took ids since."""
        with self._lock:
            if self._next_sid == start + B:
                self._next_sid = start

    def _check_boundaries(self, given: bool) -> None:
        """Word boundaries of a call (``given``) agree with ``whole_word`` and the word table."""
        if given and not self.whole_word:
            raise ValueError("word boundaries were given but whole_word=False")
        if self.whole_word and not given and self._word_table is None:
            raise ValueError("whole_word=True needs word boundaries: pass word_starts, word_ids, "
                             "offset_mapping or chinese_ref, or build the Masker with word_table")

    # -- the call ---------------------------------------------------------------------------
    def __call__(self, input_ids: Any, *, sample_ids: Any = None, epoch: int = 0,
                 lengths: Any = None, attention_mask: Any = None, offsets: Any = None,
                 special_tokens_mask: Any = None, token_type_ids: Any = None,
                 word_starts: Any = None, word_ids: Any = None, offset_mapping: Any = None,
                 chinese_ref: Any = None,
                 return_special_tokens_mask: bool = True) -> Dict[str, np.ndarray]:
        """Pads and masks a batch; returns ``input_ids``, ``attention_mask``, ``labels`` (and
        ``token_type_ids`` / ``special_tokens_mask`` padded when given) as NumPy arrays.

        ``input_ids`` is a list of sequences (lists of ints or 1-D integer arrays), a padded 2-D
        array (with ``lengths`` or ``attention_mask``; without either every column is real) or
        flat values with ``offsets`` (the layout of an Arrow list array). Side inputs have the
        same form as ``input_ids``. ``word_ids`` / ``offset_mapping`` / ``chinese_ref`` are
        per-example lists as Hugging Face tokenizers return them.
        """
        epoch = _check_int("epoch", epoch, 0, C.MAX_EPOCH - 1)
        lay = self.layout
        left = lay.padding_side == "left"
        ids, keep = normalize_ids(input_ids, lengths, attention_mask, offsets, left)
        B = len(ids)
        cut = lay.max_length if lay.truncation else None
        special = side_rows("special_tokens_mask", special_tokens_mask, ids, keep, True, cut)
        types = side_rows("token_type_ids", token_type_ids, ids, keep, False, cut)
        starts = word_start_rows(ids, word_starts, word_ids, offset_mapping, chinese_ref, keep,
                                 cut, self._word_table)
        self._check_boundaries(starts is not None)
        if cut is not None:  # truncation (it needs max_length)
            ids, special, types, starts = (truncate(x, cut) for x in (ids, special, types, starts))
        width = lay.width(ids.lengths)
        sids, start = self._sample_ids(sample_ids, B)
        try:
            return self._run(ids, special, types, starts, sids, epoch, width, left,
                             bool(return_special_tokens_mask))
        except BaseException:
            if start is not None:  # a failed call consumes no sample ids
                self._release(start, B)
            raise

    def _run(self, ids: Rows, special, types, starts, sids, epoch, width, left,
             return_special=True):
        from . import _core

        lay = self.layout
        B = len(ids)
        n_out = 3 + (types is not None)
        block = np.empty((n_out, B, width), dtype=lay.dtype)
        out_ids, labels, attention = block[0], block[1], block[2]
        special_p = None if special is None else _pad_side("special_tokens_mask", special, width,
                                                           left, 1, np.uint8, 2)
        if isinstance(starts, Offsets):
            starts_p = np.empty((B, width), dtype=np.uint8)
            _core.offsets_to_starts(starts.rows, starts_p, left, "offset_mapping")
        elif isinstance(starts, WordIds):
            starts_p = np.empty((B, width), dtype=np.uint8)
            _core.word_ids_to_starts(starts.rows, starts_p, left, "word_ids")
        elif starts is not None:
            starts_p = _pad_side("word_starts", starts, width, left, 0, np.uint8, 2)
        else:
            starts_p = None
        threads = self._threads_for(ids) if ids.rows is not None else 1
        if ids.rows is not None and threads <= 1:
            # one pass: each chunk of rows is read and masked while it is in cache
            lens = np.empty(B, dtype=np.int64)
            rc, row, pos = _core.fill_mask_rows(self._core, epoch, ids.rows, out_ids, labels,
                                                attention, lens, left, special_p, starts_p,
                                                sids, 0, self.vocab_size, "input_ids")
            _check_status([(rc, row, pos)])
        elif ids.rows is not None:
            # pipelined: this thread reads chunk k+1 (needs the GIL) while pool threads mask
            # the chunks already read (without the GIL)
            lens = np.ascontiguousarray(np.minimum(ids.lengths, width), dtype=np.int64)
            pool = self._get_pool()
            n_chunks = min(B, 4 * threads)
            bounds = [B * k // n_chunks for k in range(n_chunks + 1)]
            futs = []
            try:
                for k in range(n_chunks):
                    b0, b1 = bounds[k], bounds[k + 1]
                    _core.fill_rows(ids.rows[b0:b1], out_ids[b0:b1], left, 0, self.vocab_size,
                                    lay.pad_token_id, "input_ids", b0)
                    futs.append(pool.submit(_core.mask_batch, self._core, epoch, out_ids, labels,
                                            attention, lens, left, special_p, starts_p, sids,
                                            b0, b1))
                    # hand the GIL over so the pool thread can start its kernel now rather
                    # than at the next forced switch (every 5 ms)
                    time.sleep(0)
            finally:
                results = [f.result() for f in futs]
            _check_status(results)
        elif ids.dtype is not None and ids.dtype == out_ids.dtype:
            # ragged rows of the output's type: the kernel copies them in as it masks them
            lens = np.minimum(ids.lengths, width)
            self._mask_rows(epoch, out_ids, labels, attention, lens, left, special_p, starts_p,
                            sids, ids)
        else:
            lens = _pad_ids(ids, out_ids, left, lay.pad_token_id, self.vocab_size)
            self._mask_rows(epoch, out_ids, labels, attention, lens, left, special_p, starts_p,
                            sids)
        out = {"input_ids": out_ids, "attention_mask": attention, "labels": labels}
        if types is not None:
            out["token_type_ids"] = _pad_side("token_type_ids", types, width, left, 0, None,
                                              C.MAX_VOCAB, out=block[3])
        if special_p is not None and return_special:
            out["special_tokens_mask"] = special_p.astype(lay.dtype)
        return out

    def _threads_for(self, ids: Rows) -> int:
        """Threads worth using for this batch."""
        if self.num_threads <= 1:
            return 1
        return _thread_count(self.num_threads, int(ids.lengths.sum()), len(ids))

    def _get_pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.num_threads,
                                                thread_name_prefix="fastmask")
            return self._pool

    def _mask_rows(self, epoch, out_ids, labels, attention, lens, left, special_p, starts_p,
                   sids, ragged: Optional[Rows] = None):
        """Masks the padded ids in place, or (with `ragged`) the ragged rows into them."""
        from . import _core

        B = out_ids.shape[0]
        lens = np.ascontiguousarray(lens, dtype=np.int64)
        threads = _thread_count(self.num_threads, int(lens.sum()), B)
        bounds = [B * k // threads for k in range(threads + 1)]
        src = ragged.kernel_source() if ragged is not None else (None, None)
        calls = [(_core.mask_batch, self._core, epoch, out_ids, labels, attention, lens, left,
                  special_p, starts_p, sids, bounds[k], bounds[k + 1], *src)
                 for k in range(threads)]
        if threads <= 1:
            results = [calls[0][0](*calls[0][1:])]
        else:
            futs = [self._get_pool().submit(*c) for c in calls]
            results = [f.result() for f in futs]
        _check_status(results, ragged, self.vocab_size)

    def pad(self, input_ids: Any, **kwargs) -> Dict[str, np.ndarray]:
        """Pads a batch with this object's layout options, without masking."""
        lay = self.layout
        return self._pad_function(input_ids, pad_token_id=lay.pad_token_id,
                                  padding=lay.padding, max_length=lay.max_length,
                                  truncation=lay.truncation,
                                  pad_to_multiple_of=lay.pad_to_multiple_of,
                                  padding_side=lay.padding_side, dtype=lay.dtype,
                                  vocab_size=self.vocab_size, **kwargs)

    @staticmethod
    def _pad_function(input_ids: Any, **kwargs: Any) -> Dict[str, np.ndarray]:
        """The :func:`pad` of this implementation."""
        return pad(input_ids, **kwargs)


def _unigram_counts(counts: Any, random_ids: str, V: int) -> Optional[np.ndarray]:
    """``unigram_counts=`` checked: given exactly when ``random_ids="unigram"``, one
    non-negative integer per id; a read-only uint64 copy (the caller's array is not kept)."""
    if random_ids != "unigram":
        if counts is not None:
            raise ValueError('unigram_counts is only used with random_ids="unigram", got '
                             f"random_ids={random_ids!r}")
        return None
    if counts is None:
        raise ValueError('random_ids="unigram" needs unigram_counts (one count per id)')
    arr = _int_array("unigram_counts", counts)
    if arr.shape != (V,):
        raise ValueError(f"unigram_counts must have one entry per id ({V}), got shape {arr.shape}")
    if arr.dtype.kind == "i" and V and int(arr.min()) < 0:
        i = int(np.flatnonzero(arr < 0)[0])
        raise ValueError(f"unigram_counts[{i}] = {int(arr[i])} is negative")
    out = arr.astype(np.uint64)
    out.flags.writeable = False
    return out


def _pad_ids(ids: Rows, out: np.ndarray, left: bool, pad_id: int, hi: int) -> np.ndarray:
    """Writes the ids into the padded `out` (checking them against [0, hi)); returns the
    (truncated) row lengths as int64."""
    from . import _core

    if ids.rows is not None:
        _core.fill_rows(ids.rows, out, left, 0, hi, pad_id, "input_ids")
        return np.ascontiguousarray(np.minimum(ids.lengths, out.shape[1]), dtype=np.int64)
    lens = np.empty(len(ids), dtype=np.int64)
    rc, row, pos = _core.pad_ragged(ids.values, ids.offsets, out, left, True, pad_id, hi, lens)
    _check_status([(rc, row, pos)], ids, hi)
    return lens


def _thread_count(num_threads: int, n_tokens: int, n_rows: int) -> int:
    """Threads worth using: one per _TOKENS_PER_THREAD tokens, at most one per row."""
    if num_threads <= 1:
        return 1
    return max(1, min(num_threads, n_tokens // _TOKENS_PER_THREAD, n_rows))


def _check_status(results, ids: Optional[Rows] = None, hi: Optional[int] = None) -> None:
    """Raises ValueError for the first failed ``(status, row, pos)`` of core calls; with the
    flat ``ids`` that were read, an id-range error quotes the offending value."""
    from . import _core

    for rc, row, pos in results:
        if rc == 0:
            continue
        if rc == _core.ERR_ID_RANGE and ids is not None and ids.values is not None:
            value = ids.values[ids.offsets[row] + pos]
            raise ValueError(f"input_ids[{row}][{pos}]: id {int(value)} is out of range "
                             f"[0, {hi})")
        raise ValueError(f"input_ids[{row}][{pos}]: {_core.STATUS.get(rc, rc)}")


# ---------------------------------------------------------------------------------------------
# plain functions


def pad(input_ids: Any, *, pad_token_id: int = 0, padding: str = "longest",
        max_length: Optional[int] = None, truncation: bool = False,
        pad_to_multiple_of: Optional[int] = None, padding_side: str = "right",
        dtype: Any = "int64", vocab_size: Optional[int] = None, lengths: Any = None,
        attention_mask: Any = None, offsets: Any = None, special_tokens_mask: Any = None,
        token_type_ids: Any = None) -> Dict[str, np.ndarray]:
    """Pads a batch of sequences; returns ``input_ids`` and ``attention_mask`` (and the padded
    ``token_type_ids`` / ``special_tokens_mask`` when given). Ids must be >= 0 and, when
    ``vocab_size`` is given, below it. Input forms as for :class:`Masker`."""
    from . import _core

    lay = Layout(pad_token_id, padding, max_length, truncation, pad_to_multiple_of,
                  padding_side, dtype)
    hi = C.MAX_VOCAB + 1 if vocab_size is None else _check_int("vocab_size", vocab_size, 1,
                                                               C.MAX_VOCAB)
    if lay.pad_token_id >= hi:
        raise ValueError(f"pad_token_id={lay.pad_token_id} is outside [0, {hi})")
    left = lay.padding_side == "left"
    ids, keep = normalize_ids(input_ids, lengths, attention_mask, offsets, left)
    cut = lay.max_length if lay.truncation else None
    special = side_rows("special_tokens_mask", special_tokens_mask, ids, keep, True, cut)
    types = side_rows("token_type_ids", token_type_ids, ids, keep, False, cut)
    if cut is not None:  # truncation (it needs max_length)
        ids, special, types = (truncate(x, cut) for x in (ids, special, types))
    width = lay.width(ids.lengths)
    B = len(ids)
    block = np.empty((2, B, width), dtype=lay.dtype)
    out_ids, attention = block[0], block[1]
    lens = _pad_ids(ids, out_ids, left, lay.pad_token_id, hi)
    _core.attention_from_lengths(attention, lens, left)
    out = {"input_ids": out_ids, "attention_mask": attention}
    if types is not None:
        out["token_type_ids"] = _pad_side("token_type_ids", types, width, left, 0, lay.dtype,
                                          C.MAX_VOCAB)
    if special is not None:
        out["special_tokens_mask"] = _pad_side("special_tokens_mask", special, width, left, 1,
                                               np.uint8, 2).astype(lay.dtype)
    return out


def mask(input_ids: Any, *, vocab_size: int, mask_token_id: int, sample_ids: Any = None,
         epoch: int = 0, lengths: Any = None, attention_mask: Any = None, offsets: Any = None,
         special_tokens_mask: Any = None, token_type_ids: Any = None, word_starts: Any = None,
         word_ids: Any = None, offset_mapping: Any = None, chinese_ref: Any = None,
         **options) -> Dict[str, np.ndarray]:
    """One-shot :class:`Masker` call: ``Masker(vocab_size, mask_token_id, **options)(input_ids)``.

    Without ``sample_ids`` the batch's sequences get ids 0..B-1, so two calls with the same seed
    give the same masks to sequences in the same rows; pass ``sample_ids`` (or keep a
    :class:`Masker`) to give every sequence its own stream.
    """
    m = Masker(vocab_size, mask_token_id, **options)
    return m(input_ids, sample_ids=sample_ids, epoch=epoch, lengths=lengths,
             attention_mask=attention_mask, offsets=offsets,
             special_tokens_mask=special_tokens_mask, token_type_ids=token_type_ids,
             word_starts=word_starts, word_ids=word_ids, offset_mapping=offset_mapping,
             chinese_ref=chinese_ref)
