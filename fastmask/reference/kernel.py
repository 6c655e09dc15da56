"""Pure-Python twin of the fastmask C core: the kernel.

This module is the oracle of the test suite: for the same configuration, seed, epoch, sample id
and input it produces bit for bit what ``csrc/`` produces. It uses nothing but lists and ints, and
follows docs/semantics.md line by line, so it also serves as executable documentation of it.

This module is the kernel (random stream, units, selection, replacement, padding);
:mod:`fastmask.reference.front` builds the :class:`Masker` API on it.
"""

from __future__ import annotations

import bisect
from numbers import Integral
from operator import index as _as_int
from typing import Dict, List, Optional, Sequence, Tuple  # noqa: F401

from fastmask import _config as C
from fastmask._checks import check_int

# =================================================================================================
# KERNEL
#
# Everything in this section implements docs/semantics.md, sections 1-9, and nothing else.
# A unit is represented as a tuple ``(start, length)``: the position of its first token in the
# unpadded sequence and its number of tokens (section 6).
# =================================================================================================

MASK32 = C.TWO32 - 1

# ---- random-stream domains (section 2) ---------------------------------------------------------
DOMAIN_SELECT = 1
DOMAIN_ACTION = 2
DOMAIN_SHUFFLE = 3
DOMAIN_SPAN = 4
DOMAIN_RETRY = 0x8000

#: Retry rounds of a bounded draw (section 4): 256 rounds of 4 words = 1024 retry words.
RETRY_ROUNDS = 256

# ---- Philox4x32-10 constants (section 1) -------------------------------------------------------
PHILOX_M0 = 0xD2511F53  # multiplies c0
PHILOX_M1 = 0xCD9E8D57  # multiplies c2
PHILOX_W0 = 0x9E3779B9  # key bump of k0 between rounds
PHILOX_W1 = 0xBB67AE85  # key bump of k1 between rounds
PHILOX_ROUNDS = 10

Unit = Tuple[int, int]  # (start, length)


def _check_int(name: str, value, upper: int) -> int:
    """``value`` as an int in ``[0, upper)`` (the shared validator of fastmask._checks)."""
    return check_int(name, value, 0, upper - 1)


# ---- 1. Generator ------------------------------------------------------------------------------


def philox4x32_10(ctr: Sequence[int], key: Sequence[int]) -> Tuple[int, int, int, int]:
    """Philox4x32-10 of a 128-bit counter ``(c0, c1, c2, c3)`` and a 64-bit key ``(k0, k1)``.

    Section 1: ten rounds of
    ``c = (hi(M1*c2) ^ c1 ^ k0, lo(M1*c2), hi(M0*c0) ^ c3 ^ k1, lo(M0*c0))``,
    with the key bumped by the Weyl constants between rounds (not after the last one).
    """
    if len(ctr) != 4 or len(key) != 2:
        raise ValueError("philox4x32_10 takes a counter of 4 words and a key of 2 words")
    c0, c1, c2, c3 = (_check_int("counter word", c, C.TWO32) for c in ctr)
    k0, k1 = (_check_int("key word", k, C.TWO32) for k in key)
    for rnd in range(PHILOX_ROUNDS):
        if rnd > 0:
            k0 = (k0 + PHILOX_W0) & MASK32
            k1 = (k1 + PHILOX_W1) & MASK32
        p0 = PHILOX_M0 * c0  # 64-bit product: hi0 = p0 >> 32, lo0 = p0 & MASK32
        p1 = PHILOX_M1 * c2  # 64-bit product: hi1 = p1 >> 32, lo1 = p1 & MASK32
        c0, c1, c2, c3 = (
            (p1 >> 32) ^ c1 ^ k0,
            p1 & MASK32,
            (p0 >> 32) ^ c3 ^ k1,
            p0 & MASK32,
        )
    return c0, c1, c2, c3


# ---- 2. Stream layout --------------------------------------------------------------------------


def stream_block(seed: int, epoch: int, sid: int, domain: int, block: int) -> Tuple[int, int, int, int]:
    """``W(domain, block)`` of the stream of ``(seed, epoch, sid)``: four 32-bit words (section 2).

    ``key = (seed mod 2^32, seed div 2^32)`` and
    ``counter = (block, epoch, sid mod 2^32, (domain << 16) | (sid div 2^32))``.
    """
    seed = _check_int("seed", seed, C.MAX_SEED)
    epoch = _check_int("epoch", epoch, C.MAX_EPOCH)
    sid = _check_int("sample id", sid, C.MAX_SAMPLE_ID)
    domain = _check_int("domain", domain, 1 << 16)
    block = _check_int("block", block, C.TWO32)
    key = (seed & MASK32, seed >> 32)
    ctr = (block, epoch, sid & MASK32, (domain << 16) | (sid >> 32))
    return philox4x32_10(ctr, key)


def retry_domain(domain: int, rnd: int) -> int:
    """The domain of retry round ``rnd`` (0..255) of bounded draws in ``domain`` (section 2)."""
    return DOMAIN_RETRY | (domain << 8) | rnd


# ---- 4. Bounded integers (Lemire) --------------------------------------------------------------


def _retry_words(seed: int, epoch: int, sid: int, domain: int, block: int):
    """The 1024 retry words of ``(domain, block)``, in order (section 4)."""
    for rnd in range(RETRY_ROUNDS):
        yield from stream_block(seed, epoch, sid, retry_domain(domain, rnd), block)


def bounded(seed: int, epoch: int, sid: int, domain: int, block: int, range_: int, x: int) -> int:
    """An integer uniform in ``[0, range_)`` from the 32-bit word ``x``, without bias (section 4).

    Lemire's multiply-and-reject. A rejected word is replaced by the next retry word of
    ``(domain, block)``: words 0..3 of ``W(0x8000 | (domain << 8) | r, block)`` for ``r = 0..255``.
    Raises RuntimeError when all 1024 retry words are rejected (probability below 2^-1000).
    """
    if not 1 <= range_ < C.TWO32:
        raise ValueError(f"bounded: range {range_} is outside [1, 2^32)")
    if not 0 <= domain < 0x80:
        raise ValueError(f"bounded: domain {domain} leaves no room for its retry domains")
    x = _check_int("x", x, C.TWO32)
    m = x * range_
    if (m & MASK32) < range_:
        t = (C.TWO32 - range_) % range_
        retries = _retry_words(seed, epoch, sid, domain, block)
        while (m & MASK32) < t:
            word = next(retries, None)
            if word is None:
                raise RuntimeError(
                    f"bounded draw (domain {domain}, block {block}, range {range_}) "
                    f"used up its {4 * RETRY_ROUNDS} retry words"
                )
            m = word * range_
    return m >> 32


class SequenceDraws:
    """The random words of one sequence, ``(seed, epoch, sid)`` fixed (section 2).

    Only a convenience: it remembers the blocks already computed, since e.g. four consecutive
    tokens share one SELECT block. Every value is still ``stream_block``/``bounded`` exactly.
    """

    def __init__(self, seed: int, epoch: int, sid: int):
        self.seed = seed
        self.epoch = epoch
        self.sid = sid
        self._blocks: Dict[Tuple[int, int], Tuple[int, int, int, int]] = {}

    def word(self, domain: int, block: int, w: int) -> int:
        """``W(domain, block)[w]``."""
        key = (domain, block)
        words = self._blocks.get(key)
        if words is None:
            words = stream_block(self.seed, self.epoch, self.sid, domain, block)
            self._blocks[key] = words
        return words[w]

    def bounded(self, domain: int, block: int, range_: int, x: int) -> int:
        """``bounded(range_, x, domain, block)`` of section 4."""
        return bounded(self.seed, self.epoch, self.sid, domain, block, range_, x)


# ---- 3. Span-length draw -----------------------------------------------------------------------


def span_length(x: int, cdf: Sequence[int]) -> int:
    """The smallest ``l`` (1-based) with ``x < cdf[l]``; ``cdf`` holds ``cdf[1..m]`` (section 3)."""
    for length, threshold in enumerate(cdf, start=1):
        if x < threshold:
            return length
    raise ValueError("span-length cdf does not end at 2^32")


# ---- 5. Which tokens may be picked -------------------------------------------------------------


def special_flags(cfg: C.KernelConfig, ids: Sequence[int], special_mask: Optional[Sequence[int]] = None) -> List[int]:
    """1 at position ``j`` when ``special_mask[j]`` is non-zero or ``ids[j]`` is in S (section 5).

    S is ``cfg.special_set`` as given: the front-end has already added ``mask_token_id`` and
    ``pad_token_id`` to it.
    """
    special_set = cfg.special_set
    flags = []
    for j, y in enumerate(ids):
        is_special = (special_mask is not None and special_mask[j] != 0) or y in special_set
        flags.append(1 if is_special else 0)
    return flags


# ---- 6. Units ----------------------------------------------------------------------------------


def word_starts_from_table(ids: List[int], table: bytes) -> List[int]:
    """Word-start flags from a per-id table of 0/1/2 (section 6).

    0 continues a word, 1 starts one, 2 stands alone. ``f[j] = 1`` when ``j == 0``,
    ``table[ids[j]] >= 1`` or ``table[ids[j-1]] == 2``; otherwise 0.
    """
    flags = []
    for j, y in enumerate(ids):
        starts = j == 0 or table[y] >= 1 or table[ids[j - 1]] == 2
        flags.append(1 if starts else 0)
    return flags


def word_starts_from_word_ids(word_ids: Sequence[Optional[int]], name: str = "word_ids") -> List[int]:
    """Word-start flags from a tokenizer's word ids (section 6): ``f[j] = 1`` when ``j == 0``,
    ``word_ids[j]`` is ``None`` or negative (no word: a special token), or it differs from
    ``word_ids[j-1]``; otherwise 0. Ids are ints (not bools) below 2**63."""
    flags = []
    prev = -1
    for j, w in enumerate(word_ids):
        if w is None:
            v = -1
        else:
            if isinstance(w, bool) or type(w).__name__ == "bool_" or not isinstance(w, Integral):
                raise TypeError(f"{name}[{j}] is {type(w).__name__} {w!r}, expected int or None")
            v = int(w)
            if v >= 1 << 63:
                raise ValueError(f"{name}[{j}] = {v} does not fit in 64 bits")
            if v < 0:
                v = -1
        flags.append(1 if (j == 0 or v < 0 or v != prev) else 0)
        prev = v
    return flags


def word_starts_from_offsets(offsets: Sequence[Sequence[int]], name: str = "offsets") -> List[int]:
    """Word-start flags from character offsets ``(start, end)`` (section 6): ``f[0] = 1``, and
    ``f[j] = 1`` when ``start_j > end_{j-1}`` (a gap), ``start_j < start_{j-1}`` (the second
    text of a pair), the previous token is a ``(0, 0)`` special token, or ``start_j == end_j``
    (an empty span); otherwise 0. Every pair needs ``0 <= start <= end``; values at or above
    2**62 count as 2**62."""
    flags = []
    ps = pe = 0
    for j, pair in enumerate(offsets):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2 or any(
                isinstance(v, bool) or type(v).__name__ == "bool_" or not isinstance(v, Integral)
                for v in pair):
            raise ValueError(f"{name}[{j}] = {pair!r} is not a (start, end) pair of ints")
        # offsets at or above 2**62 count as 2**62, a negative one as -1 (as the core reads them)
        s, e = (-1 if int(v) < 0 else min(int(v), 1 << 62) for v in pair)
        if s < 0 or e < s:
            raise ValueError(f"{name}[{j}] = ({s}, {e}): need 0 <= start <= end")
        if j == 0:
            flags.append(1)
        else:
            flags.append(1 if (s > pe or s < ps or (ps == pe == 0) or s == e) else 0)
        ps, pe = s, e
    return flags


def build_units(special: Sequence[int], word_starts: Optional[Sequence[int]] = None) -> List[Unit]:
    """The units of a sequence, in position order, as ``(start, length)`` (section 6).

    Without ``word_starts`` (units = tokens) every candidate is a unit of length 1. With them
    (units = words) a unit starts at a candidate ``j`` when ``j == 0``, ``j-1`` is special or
    ``word_starts[j] == 1``, and continues over the following candidates. Special tokens belong
    to no unit and end the current one.
    """
    units: List[Unit] = []
    for j in range(len(special)):
        if special[j]:
            continue
        if word_starts is None or j == 0 or special[j - 1] or word_starts[j] == 1:
            units.append((j, 1))
        else:
            start, length = units[-1]
            units[-1] = (start, length + 1)
    return units


def adjacent(first: Unit, second: Unit) -> bool:
    """True when ``second`` starts right where ``first`` ends (section 6)."""
    return second[0] == first[0] + first[1]


# ---- 7. Selection ------------------------------------------------------------------------------


def selection_budget(n: int, probability: float, max_predictions: int) -> int:
    """``k = min(max_predictions, max(1, round_half_even(n * p)))`` (section 7).

    ``n`` counts every token of the sequence, special ones included; ``n * p`` is a double
    product and Python's ``round`` rounds it half to even. ``max_predictions < 0`` means no cap.
    """
    k = max(1, round(float(n) * float(probability)))
    if max_predictions >= 0:
        k = min(max_predictions, k)
    return k


def fill(units: Sequence[Unit], k: int, draws: SequenceDraws) -> List[Unit]:
    """BERT's "shuffle, then add whole units while they fit" (section 7, ``fill(A, k)``).

    Returns the picked units in the order they were picked. Shuffle draw ``i`` is word
    ``i mod 4`` of ``W(SHUFFLE, i div 4)``; its bounded draw retries in block ``i``.
    """
    a = list(units)
    picked: List[Unit] = []
    total = 0
    for i in range(len(a)):
        if total >= k:
            break
        x = draws.word(DOMAIN_SHUFFLE, i // 4, i % 4)
        r = i + draws.bounded(DOMAIN_SHUFFLE, i, len(a) - i, x)
        a[i], a[r] = a[r], a[i]
        if total + a[i][1] > k:
            continue  # skip a unit that would overflow the budget
        picked.append(a[i])
        total += a[i][1]
    return picked


def select_bernoulli(cfg: C.KernelConfig, units: Sequence[Unit], draws: SequenceDraws) -> List[Unit]:
    """Bernoulli selection (section 7): unit ``u`` is picked when its SELECT word < ``t_select``.

    The SELECT word of ``u`` is word ``start(u) mod 4`` of ``W(SELECT, start(u) div 4)``. When a
    cap ``max_predictions`` is set and the picked units hold more tokens than it, they are
    un-picked and ``fill(picked units, max_predictions)`` chooses among them.
    """
    picked = [
        u for u in units if draws.word(DOMAIN_SELECT, u[0] // 4, u[0] % 4) < cfg.t_select
    ]
    cap = cfg.max_predictions
    if cap >= 0 and sum(length for _, length in picked) > cap:
        picked = fill(picked, cap, draws)
    return picked


def select_exact(units: Sequence[Unit], k: int, draws: SequenceDraws) -> List[Unit]:
    """Exact selection (section 7): ``fill(all units, k)``."""
    return fill(units, k, draws)


def select_span(
    units: Sequence[Unit],
    k: int,
    cdf: Sequence[int],
    draws: SequenceDraws,
    trace: Optional[list] = None,
) -> List[Unit]:
    """Span selection (section 7): spans of consecutive adjacent units, at most ``4U + 16`` attempts.

    Attempt ``i`` draws a span length ``l`` from ``W(SPAN, i)[0]`` and an anchor unit
    ``a = bounded(U, W(SPAN, i)[1], SPAN, i)``; an attempt whose anchor is already picked does
    nothing; otherwise units ``a, a+1, ...`` are picked while fewer than ``l`` were, they exist,
    are not picked yet, follow their predecessor without a gap (from the second one on) and fit
    in the budget.

    When ``trace`` is a list, one ``(i, l, a, c)`` tuple per attempt is appended to it (``c``: the
    number of units the attempt picked). Returns the picked units in position order.
    """
    n_units = len(units)
    picked = [False] * n_units
    n_picked = 0
    total = 0
    for i in range(4 * n_units + 16):  # "for i in 0 .. 4*U + 15", both ends included
        if total >= k or n_picked == n_units:
            break
        length = span_length(draws.word(DOMAIN_SPAN, i, 0), cdf)
        a = draws.bounded(DOMAIN_SPAN, i, n_units, draws.word(DOMAIN_SPAN, i, 1))
        if picked[a]:
            if trace is not None:
                trace.append((i, length, a, 0))
            continue
        c = 0
        u = a
        while (
            c < length
            and u < n_units
            and not picked[u]
            and (u == a or adjacent(units[u - 1], units[u]))
        ):
            if total + units[u][1] > k:
                break
            picked[u] = True
            n_picked += 1
            total += units[u][1]
            c += 1
            u += 1
        if trace is not None:
            trace.append((i, length, a, c))
    return [unit for unit, is_picked in zip(units, picked) if is_picked]


def select_units(cfg: C.KernelConfig, units: Sequence[Unit], n: int, draws: SequenceDraws) -> List[Unit]:
    """The units picked in a sequence of ``n`` tokens under ``cfg.selection`` (section 7)."""
    if not units:
        return []  # an empty sequence, or one without candidates, picks nothing
    if cfg.selection == C.SELECT_BERNOULLI:
        return select_bernoulli(cfg, units, draws)
    k = selection_budget(n, cfg.probability, cfg.max_predictions)
    if cfg.selection == C.SELECT_EXACT:
        return select_exact(units, k, draws)
    if cfg.selection == C.SELECT_SPAN:
        return select_span(units, k, cfg.span_cdf, draws)
    raise ValueError(f"unknown selection {cfg.selection!r}")


# ---- 8. Replacement (80/10/10) and labels ------------------------------------------------------


def allowed_id(r: int, random_skip: Sequence[int]) -> int:
    """The ``r``-th id of ``[0, vocab_size)`` not in the sorted list ``random_skip`` (section 8)."""
    id_ = r
    for s in random_skip:
        if s <= id_:
            id_ += 1
    return id_


def unigram_id(r: int, cum: Sequence[int]) -> int:
    """The first id ``i`` with ``cum[i] > r``: the unigram draw for ``r < cum[-1]`` (section 8)."""
    return bisect.bisect_right(cum, r)


def replace_and_label(
    cfg: C.KernelConfig, ids: Sequence[int], picked: Sequence[Unit], draws: SequenceDraws
) -> Tuple[List[int], List[int]]:
    """Applies 80/10/10 to the tokens of the picked units and writes the labels (section 8).

    The decision word of token ``j`` is ``W(ACTION, j)[0]`` (``W(ACTION, start(u))[0]`` with
    per-unit decisions); a random replacement is
    ``allowed[bounded(R, W(ACTION, j)[1], ACTION, j)]``. Picked tokens get their original id as
    label, every other position ``ignore_index``.
    """
    out = list(ids)
    labels = [cfg.ignore_index] * len(ids)
    t_mask = cfg.t_mask
    t_mask_or_random = cfg.t_mask + cfg.t_random
    for start, length in picked:
        for j in range(start, start + length):
            y = ids[j]
            decision_block = start if cfg.action_per_unit else j
            d = draws.word(DOMAIN_ACTION, decision_block, 0)
            if d < t_mask:
                out[j] = cfg.mask_id
            elif d < t_mask_or_random:
                r = draws.bounded(DOMAIN_ACTION, j, cfg.random_range, draws.word(DOMAIN_ACTION, j, 1))
                if cfg.random_cum is None:
                    out[j] = allowed_id(r, cfg.random_skip)
                else:
                    out[j] = unigram_id(r, cfg.random_cum)
            # otherwise the token keeps y
            labels[j] = y
    return out, labels


# ---- configuration checks ----------------------------------------------------------------------


_CHECKED_TABLES: Dict[int, C.KernelConfig] = {}  # configurations whose unigram table was read


def check_config(cfg: C.KernelConfig) -> None:
    """Raises ValueError when ``cfg`` breaks an invariant the kernels rely on (sections 3, 8)."""
    _check_int("seed", cfg.seed, C.MAX_SEED)
    if cfg.selection not in (C.SELECT_BERNOULLI, C.SELECT_EXACT, C.SELECT_SPAN):
        raise ValueError(f"unknown selection {cfg.selection!r}")
    if cfg.units not in (C.UNITS_TOKENS, C.UNITS_WORDS):
        raise ValueError(f"unknown units {cfg.units!r}")
    for name in ("t_select", "t_mask", "t_random"):
        _check_int(name, getattr(cfg, name), C.TWO32 + 1)
    if cfg.t_mask + cfg.t_random > C.TWO32:
        raise ValueError("t_mask + t_random exceeds 2^32")
    if not 1 <= cfg.vocab_size <= C.MAX_VOCAB:
        raise ValueError(f"vocab_size = {cfg.vocab_size} is outside [1, {C.MAX_VOCAB}]")
    _check_int("mask_id", cfg.mask_id, cfg.vocab_size)
    _check_int("pad_id", cfg.pad_id, cfg.vocab_size)
    skip = cfg.random_skip
    if any(not 0 <= s < cfg.vocab_size for s in skip) or any(a >= b for a, b in zip(skip, skip[1:])):
        raise ValueError("random_skip must hold sorted, distinct ids in [0, vocab_size)")
    cum = cfg.random_cum
    if cum is not None:
        if skip or len(cum) != cfg.vocab_size or not 1 <= cfg.random_range < C.TWO32:
            raise ValueError("a unigram table needs an empty random_skip, one entry per id and "
                             "a total in [1, 2^32)")
        if cum[-1] != cfg.random_range:
            raise ValueError("the unigram table must end at random_range")
        if _CHECKED_TABLES.get(id(cfg)) is not cfg:  # the full table once per configuration
            if any(a > b for a, b in zip(cum, cum[1:])):
                raise ValueError("the unigram table must be non-decreasing")
            if any(cum[i] != (cum[i - 1] if i else 0) for i in cfg.special_set):
                raise ValueError("the unigram table gives weight to a special id")
            if len(_CHECKED_TABLES) > 64:
                _CHECKED_TABLES.clear()
            _CHECKED_TABLES[id(cfg)] = cfg
    elif cfg.random_range != cfg.vocab_size - len(skip) or cfg.random_range < 1:
        raise ValueError("random_range must be vocab_size - len(random_skip) and at least 1")
    if cfg.selection == C.SELECT_SPAN:
        cdf = cfg.span_cdf
        if not cdf or cdf[-1] != C.TWO32 or any(a > b for a, b in zip(cdf, cdf[1:])):
            raise ValueError("span selection needs a non-decreasing span_cdf ending at 2^32")
    if cfg.word_table is not None and len(cfg.word_table) < cfg.vocab_size:
        raise ValueError("word_table is shorter than vocab_size")


# ---- one sequence: sections 5-8 ----------------------------------------------------------------


def mask_sequence(
    cfg: C.KernelConfig,
    epoch: int,
    sid: int,
    ids: List[int],
    special_mask: Optional[Sequence[int]] = None,
    word_starts: Optional[Sequence[int]] = None,
) -> Tuple[List[int], List[int]]:
    """Masks one unpadded sequence; returns ``(masked ids, labels)`` (sections 5-8).

    ``special_mask`` (non-zero = special) and ``word_starts`` (0/1 flags ``f``) are per-position
    lists of the same length as ``ids``. With ``units = words`` and no ``word_starts`` the flags
    come from ``cfg.word_table``. Raises ValueError naming the position of an id outside
    ``[0, vocab_size)``.
    """
    check_config(cfg)
    epoch = _check_int("epoch", epoch, C.MAX_EPOCH)
    sid = _check_int("sample id", sid, C.MAX_SAMPLE_ID)
    ids = [_as_int(y) for y in ids]
    n = len(ids)
    if special_mask is not None and len(special_mask) != n:
        raise ValueError(f"special_mask has {len(special_mask)} entries for {n} tokens")
    if word_starts is not None and len(word_starts) != n:
        raise ValueError(f"word_starts has {len(word_starts)} entries for {n} tokens")
    for j, y in enumerate(ids):
        if not 0 <= y < cfg.vocab_size:
            raise ValueError(f"id {y} at position {j} is outside [0, {cfg.vocab_size})")

    # Section 5: special flags.  Section 6: units.
    special = special_flags(cfg, ids, special_mask)
    if cfg.units == C.UNITS_WORDS:
        if word_starts is None:
            if cfg.word_table is None:
                raise ValueError("units='words' needs word_starts or a word table")
            word_starts = word_starts_from_table(ids, cfg.word_table)
        units = build_units(special, word_starts)
    else:
        units = build_units(special)

    # Section 7: selection.  Section 8: replacement and labels.
    draws = SequenceDraws(cfg.seed, epoch, sid)
    picked = select_units(cfg, units, n, draws)
    return replace_and_label(cfg, ids, picked, draws)


# ---- 9. Padding --------------------------------------------------------------------------------


def pad_and_mask(
    cfg: C.KernelConfig,
    epoch: int,
    seqs: List[List[int]],
    sample_ids: List[int],
    width: int,
    left: bool,
    special_masks: Optional[Sequence[Optional[Sequence[int]]]] = None,
    word_starts: Optional[Sequence[Optional[Sequence[int]]]] = None,
) -> Tuple[List[List[int]], List[List[int]], List[List[int]]]:
    """Masks a batch and lays it out in ``B x width`` rows: ``(ids, labels, attention_mask)``.

    Section 9: row ``i`` occupies columns ``[0, n_i)`` (right padding) or
    ``[width - n_i, width)`` (left padding); padding holds ``pad_id`` in ids, ``ignore_index`` in
    labels and 0 in the attention mask. Every sequence is masked on its own, with sample id
    ``sample_ids[i]`` (section 2), so its output does not depend on its row or the padding.
    ``special_masks`` and ``word_starts`` hold one unpadded list (or None) per row.
    """
    n_rows = len(seqs)
    if len(sample_ids) != n_rows:
        raise ValueError(f"{len(sample_ids)} sample ids for {n_rows} sequences")
    for name, side in (("special_masks", special_masks), ("word_starts", word_starts)):
        if side is not None and len(side) != n_rows:
            raise ValueError(f"{name} has {len(side)} rows for {n_rows} sequences")
    width = _as_int(width)
    if width < 0:
        raise ValueError(f"width = {width} is negative")

    out_ids: List[List[int]] = []
    out_labels: List[List[int]] = []
    out_attention: List[List[int]] = []
    for i, seq in enumerate(seqs):
        n = len(seq)
        if n > width:
            raise ValueError(f"sequence {i} has {n} tokens, more than the width {width}")
        try:
            masked, labels = mask_sequence(
                cfg,
                epoch,
                sample_ids[i],
                seq,
                None if special_masks is None else special_masks[i],
                None if word_starts is None else word_starts[i],
            )
        except ValueError as exc:
            raise ValueError(f"sequence {i}: {exc}") from None
        offset = width - n if left else 0
        row_ids = [cfg.pad_id] * width
        row_labels = [cfg.ignore_index] * width
        row_attention = [0] * width
        row_ids[offset : offset + n] = masked
        row_labels[offset : offset + n] = labels
        row_attention[offset : offset + n] = [1] * n
        out_ids.append(row_ids)
        out_labels.append(row_labels)
        out_attention.append(row_attention)
    return out_ids, out_labels, out_attention
