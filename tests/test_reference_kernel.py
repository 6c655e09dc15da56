"""Tests of the pure-Python reference kernel alone (fastmask/reference.py, kernel section).

Each rule of docs/semantics.md gets a small example whose answer is either forced by the
configuration (p = 0 or 1, tiny budgets) or worked out step by step from the public primitives
``stream_block`` / ``bounded``, independently of the selection code under test.
"""

from __future__ import annotations

import random

import pytest

import fastmask._config as config
from fastmask.reference import (
    DOMAIN_ACTION,
    DOMAIN_RETRY,
    DOMAIN_SELECT,
    DOMAIN_SHUFFLE,
    DOMAIN_SPAN,
    bounded,
    mask_sequence,
    pad_and_mask,
    philox4x32_10,
    stream_block,
    word_starts_from_table,
)
from fastmask.reference import kernel as ref

M32 = config.TWO32 - 1
SELECTIONS = (config.SELECT_BERNOULLI, config.SELECT_EXACT, config.SELECT_SPAN)

# A small vocabulary: 0..4 are special, 5.. are ordinary tokens.
PAD, CLS, SEP, UNK, MASK = 0, 1, 2, 3, 4
VOCAB = 40
SPECIALS = (PAD, CLS, SEP, UNK, MASK)
IGNORE = -100

SPANBERT = [0.2 * 0.8 ** (length - 1) for length in range(1, 11)]
ALBERT = [1.0 / n for n in range(1, 4)]


def make_config(
    *,
    seed=20240601,
    selection=config.SELECT_BERNOULLI,
    units=config.UNITS_TOKENS,
    action_per_unit=False,
    p=0.15,
    mask_prob=0.8,
    random_prob=0.1,
    max_predictions=-1,
    vocab_size=VOCAB,
    special_ids=SPECIALS,
    random_all=False,
    span_probs=None,
    word_table=None,
):
    """A KernelConfig built the way the front-end is specified to build it (section 3)."""
    special_set = frozenset(special_ids) | {MASK, PAD}
    random_skip = () if random_all else tuple(sorted(special_set))
    t_mask = config.threshold(mask_prob)
    if mask_prob + random_prob == 1:
        t_random = config.TWO32 - t_mask
    else:
        t_random = config.threshold(random_prob)
    return config.KernelConfig(
        seed=seed,
        selection=selection,
        units=units,
        action_per_unit=action_per_unit,
        t_select=config.threshold(p),
        t_mask=t_mask,
        t_random=t_random,
        probability=p,
        max_predictions=max_predictions,
        vocab_size=vocab_size,
        mask_id=MASK,
        pad_id=PAD,
        ignore_index=IGNORE,
        special_set=special_set,
        random_skip=random_skip,
        random_range=vocab_size - len(random_skip),
        span_cdf=config.cdf_thresholds(span_probs) if span_probs else (),
        word_table=word_table,
    )


def picked_positions(labels):
    return [j for j, y in enumerate(labels) if y != IGNORE]


def random_sequence(rng, n, special_rate=0.1):
    """Ordinary tokens with a few specials sprinkled in, framed by CLS ... SEP."""
    body = [rng.choice(SPECIALS[1:4]) if rng.random() < special_rate else rng.randrange(5, VOCAB) for _ in range(n)]
    return [CLS] + body + [SEP]


def word_spans(ids, special, f):
    """Words as lists of positions, following section 6 literally (an independent walk)."""
    words = []
    for j in range(len(ids)):
        if special[j]:
            continue
        if j == 0 or special[j - 1] or f[j] == 1:
            words.append([j])
        else:
            words[-1].append(j)
    return words


# A word table for the vocabulary: ids 5..19 start words, 20..34 continue them ("##"),
# 35..39 stand alone (punctuation).
WORD_TABLE = bytes([1] * 5 + [1] * 15 + [0] * 15 + [2] * 5)


# =================================================================================================
# 1. Philox4x32-10: Random123 known-answer vectors (Random123 tests/kat_vectors, "philox4x32 10")
# =================================================================================================

KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((M32, M32, M32, M32), (M32, M32), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


@pytest.mark.parametrize("ctr, key, expected", KAT)
def test_philox_known_answers(ctr, key, expected):
    assert philox4x32_10(ctr, key) == expected
    assert philox4x32_10(list(ctr), list(key)) == expected


def test_philox_rejects_bad_words():
    with pytest.raises(ValueError):
        philox4x32_10((config.TWO32, 0, 0, 0), (0, 0))
    with pytest.raises(ValueError):
        philox4x32_10((0, 0, 0, 0), (0, -1))
    with pytest.raises(ValueError):
        philox4x32_10((0, 0, 0), (0, 0))


# =================================================================================================
# 2. Stream layout
# =================================================================================================


def test_stream_block_layout():
    seed = 0x0123456789ABCDEF
    epoch = 7
    sid = 0xBEEF_12345678  # uses the high 16 bits of the sample id
    domain, block = DOMAIN_SHUFFLE, 0xFEDCBA98
    expected = philox4x32_10(
        (block, epoch, 0x12345678, (domain << 16) | 0xBEEF),
        (0x89ABCDEF, 0x01234567),
    )
    assert stream_block(seed, epoch, sid, domain, block) == expected


def test_stream_block_inputs_each_matter():
    base = (5, 1, 2, DOMAIN_SELECT, 3)
    first = stream_block(*base)
    for i in range(5):
        changed = list(base)
        changed[i] += 1
        assert stream_block(*changed) != first


@pytest.mark.parametrize(
    "args",
    [
        (1 << 64, 0, 0, 1, 0),
        (0, 1 << 32, 0, 1, 0),
        (0, 0, 1 << 48, 1, 0),
        (0, 0, 0, 1 << 16, 0),
        (0, 0, 0, 1, 1 << 32),
        (-1, 0, 0, 1, 0),
    ],
)
def test_stream_block_ranges(args):
    with pytest.raises(ValueError):
        stream_block(*args)


# =================================================================================================
# 4. Bounded integers
# =================================================================================================


def test_bounded_range_one_is_always_zero():
    for x in (0, 1, 2, 12345, 1 << 31, M32):
        assert bounded(1, 2, 3, DOMAIN_ACTION, 4, 1, x) == 0


def test_bounded_without_rejection_is_multiply_shift():
    rng = random.Random(1)
    for _ in range(2000):
        r = rng.randrange(1, 1000)
        x = rng.randrange(config.TWO32)
        if ((x * r) & M32) >= r:  # the fast path: no threshold computed, no retry
            assert bounded(9, 0, 0, DOMAIN_SPAN, 0, r, x) == (x * r) >> 32


def test_bounded_retries_from_retry_domain():
    seed, epoch, sid, domain, block = 77, 3, 11, DOMAIN_SHUFFLE, 5
    r = (1 << 31) + 1
    t = (config.TWO32 - r) % r  # = 2^31 - 1
    x = 2  # x * r mod 2^32 = 2 < t: rejected
    assert ((x * r) & M32) < t
    # Walk the retry words by hand: words 0..3 of W(0x8000 | (D << 8) | round, block).
    retry_words = []
    for rnd in range(3):
        retry_words += stream_block(seed, epoch, sid, DOMAIN_RETRY | (domain << 8) | rnd, block)
    first_ok = next(w for w in retry_words if ((w * r) & M32) >= t)
    assert bounded(seed, epoch, sid, domain, block, r, x) == (first_ok * r) >> 32


def test_bounded_runs_out_of_retries(monkeypatch):
    calls = []

    def all_zero(seed, epoch, sid, domain, block):
        calls.append((domain, block))
        return (0, 0, 0, 0)

    monkeypatch.setattr(ref, "stream_block", all_zero)
    # r = 3: t = (2^32 - 3) mod 3 = 1, and the word 0 always gives x * r mod 2^32 = 0 < t.
    with pytest.raises(RuntimeError):
        bounded(0, 0, 0, DOMAIN_ACTION, 9, 3, 0)
    assert calls == [(DOMAIN_RETRY | (DOMAIN_ACTION << 8) | rnd, 9) for rnd in range(256)]


def test_bounded_rejects_bad_range():
    with pytest.raises(ValueError):
        bounded(0, 0, 0, DOMAIN_ACTION, 0, 0, 5)
    with pytest.raises(ValueError):
        bounded(0, 0, 0, DOMAIN_ACTION, 0, config.TWO32, 5)


def _chi_square(counts):
    expected = sum(counts) / len(counts)
    return sum((c - expected) ** 2 / expected for c in counts)


def test_bounded_uniform_small_range():
    r = 6
    counts = [0] * r
    for block in range(6000):
        for x in stream_block(42, 0, 1, DOMAIN_ACTION, block):
            counts[bounded(42, 0, 1, DOMAIN_ACTION, block, r, x)] += 1
    # 5 degrees of freedom: 20.5 is the 0.1 % critical value (the data are fixed, so no flakiness).
    assert _chi_square(counts) < 20.5


def test_bounded_uniform_with_many_rejections():
    r = (1 << 31) + 1  # almost half of all words are rejected
    quarters = [0] * 4
    for block in range(1500):
        for x in stream_block(43, 0, 2, DOMAIN_SPAN, block):
            v = bounded(43, 0, 2, DOMAIN_SPAN, block, r, x)
            assert 0 <= v < r
            quarters[min(3, 4 * v // r)] += 1
    assert _chi_square(quarters) < 16.3  # 3 degrees of freedom, 0.1 %


# =================================================================================================
# 5./6. Special tokens and units
# =================================================================================================


def test_word_starts_from_table_rule():
    # table: 1 = starts a word, 0 = continues, 2 = stands alone
    table = bytes([0, 1, 0, 2, 1, 0, 0, 2])
    ids = [2, 1, 5, 3, 6, 7, 3, 3, 2]
    #      j=0 always starts
    #         table[1] = 1 starts
    #            table[5] = 0, previous table[1] = 1: continues
    #               table[3] = 2 starts
    #                  table[6] = 0, but previous table[3] = 2: starts
    #                     table[7] = 2 starts
    #                        table[3] = 2 starts
    #                           table[3] = 2 starts
    #                              table[2] = 0, previous table[3] = 2: starts
    assert word_starts_from_table(ids, table) == [1, 1, 0, 1, 1, 1, 1, 1, 1]
    assert word_starts_from_table([2, 2, 5], table) == [1, 0, 0]
    assert word_starts_from_table([], table) == []


def test_build_units_words_and_tokens():
    special = [1, 0, 0, 0, 1, 0, 0, 0]
    f = [0, 1, 0, 1, 1, 0, 1, 0]
    # position 1 starts (after a special), 2 continues, 3 starts (f), 4 is special,
    # 5 starts (after a special, although f = 0), 6 starts (f), 7 continues
    assert ref.build_units(special, f) == [(1, 2), (3, 1), (5, 1), (6, 2)]
    assert ref.build_units(special) == [(1, 1), (2, 1), (3, 1), (5, 1), (6, 1), (7, 1)]
    # position 0 starts a unit even with f[0] = 0
    assert ref.build_units([0, 0], [0, 0]) == [(0, 2)]
    assert ref.adjacent((1, 2), (3, 1)) and not ref.adjacent((3, 1), (5, 1))


def test_special_flags_from_set_and_mask():
    cfg = make_config()
    ids = [CLS, 10, 11, MASK, 12, PAD, SEP]
    assert ref.special_flags(cfg, ids) == [1, 0, 0, 1, 0, 1, 1]
    assert ref.special_flags(cfg, ids, [0, 0, 3, 0, 0, 0, 0]) == [1, 0, 1, 1, 0, 1, 1]


@pytest.mark.parametrize("selection", SELECTIONS)
def test_specials_never_picked(selection):
    ids = [CLS, 10, 11, SEP, 12, MASK, UNK, 13, PAD, SEP]
    special_mask = [0, 0, 0, 0, 1, 0, 0, 0, 0, 0]  # position 4 is special for this example only
    cfg = make_config(selection=selection, p=1.0, span_probs=ALBERT)
    for sid in range(30):
        out, labels = mask_sequence(cfg, 0, sid, ids, special_mask)
        assert set(picked_positions(labels)) <= {1, 2, 7}
        for j in (0, 3, 4, 5, 6, 8, 9):
            assert out[j] == ids[j] and labels[j] == IGNORE
    # bernoulli with p = 1 picks every candidate
    cfg = make_config(p=1.0)
    _, labels = mask_sequence(cfg, 0, 0, ids, special_mask)
    assert picked_positions(labels) == [1, 2, 7]


def test_labels_and_forced_replacements():
    ids = [CLS, 10, 11, 12, SEP]
    # every candidate picked and masked; labels are the original ids
    out, labels = mask_sequence(make_config(p=1.0, mask_prob=1.0, random_prob=0.0), 0, 0, ids)
    assert out == [CLS, MASK, MASK, MASK, SEP]
    assert labels == [IGNORE, 10, 11, 12, IGNORE]
    # picked but kept
    out, labels = mask_sequence(make_config(p=1.0, mask_prob=0.0, random_prob=0.0), 0, 0, ids)
    assert out == ids
    assert labels == [IGNORE, 10, 11, 12, IGNORE]
    # nothing picked
    out, labels = mask_sequence(make_config(p=0.0), 0, 0, ids)
    assert out == ids and labels == [IGNORE] * 5


def test_empty_and_all_special_sequences():
    for selection in SELECTIONS:
        cfg = make_config(selection=selection, p=1.0, span_probs=SPANBERT)
        assert mask_sequence(cfg, 0, 0, []) == ([], [])
        assert mask_sequence(cfg, 0, 0, [CLS, SEP, PAD]) == ([CLS, SEP, PAD], [IGNORE] * 3)


def test_out_of_range_id_names_position():
    cfg = make_config()
    with pytest.raises(ValueError, match="position 2"):
        mask_sequence(cfg, 0, 0, [CLS, 5, VOCAB, SEP])
    with pytest.raises(ValueError, match="position 0"):
        mask_sequence(cfg, 0, 0, [-1, 5])


def test_side_inputs_must_match_length():
    cfg = make_config()
    with pytest.raises(ValueError):
        mask_sequence(cfg, 0, 0, [CLS, 5, SEP], special_mask=[0, 0])
    with pytest.raises(ValueError):
        mask_sequence(make_config(units=config.UNITS_WORDS), 0, 0, [CLS, 5, SEP], word_starts=[1])
    with pytest.raises(ValueError):  # words without flags nor table
        mask_sequence(make_config(units=config.UNITS_WORDS), 0, 0, [CLS, 5, SEP])


# =================================================================================================
# 7. Selection
# =================================================================================================


@pytest.mark.parametrize(
    "n, p, cap, k",
    [
        (10, 0.15, -1, 2),  # 1.5 -> 2
        (30, 0.15, -1, 4),  # 4.5 -> 4 (half to even)
        (10, 0.25, -1, 2),  # 2.5 -> 2
        (14, 0.25, -1, 4),  # 3.5 -> 4
        (90, 0.35, -1, 31),  # the double product is 31.499999999999996, not 31.5
        (45, 0.7, -1, 31),  # 31.499999999999996 again
        (3, 0.1, -1, 1),  # round gives 0: at least 1
        (0, 0.15, -1, 1),
        (200, 0.15, 20, 20),  # BERT's max_predictions_per_seq
        (128, 0.15, 20, 19),
        (40, 0.5, 0, 0),
    ],
)
def test_selection_budget(n, p, cap, k):
    assert ref.selection_budget(n, p, cap) == k


def test_exact_budget_counts_special_tokens():
    # n = 10 with [CLS] and [SEP]: k = round(1.5) = 2; counting only the 8 candidates would give 1.
    cfg = make_config(selection=config.SELECT_EXACT, p=0.15)
    ids = [CLS] + list(range(10, 18)) + [SEP]
    for sid in range(40):
        _, labels = mask_sequence(cfg, 1, sid, ids)
        assert len(picked_positions(labels)) == 2
    # n = 30: k = round_half_even(4.5) = 4
    ids = [CLS] + list(range(5, 33)) + [SEP]
    for sid in range(20):
        _, labels = mask_sequence(cfg, 1, sid, ids)
        assert len(picked_positions(labels)) == 4


def test_exact_selection_by_hand():
    """Walks fill() by hand for one sequence, straight from the SHUFFLE words."""
    cfg = make_config(selection=config.SELECT_EXACT, p=0.5, mask_prob=0.0, random_prob=0.0, seed=99)
    epoch, sid = 4, 1234
    ids = [CLS, 10, 11, SEP, 12, 13, 14]  # n = 7, k = round(3.5) = 4, candidates at 1,2,4,5,6
    a = [1, 2, 4, 5, 6]
    chosen = []
    for i in range(len(a)):
        if len(chosen) >= 4:
            break
        x = stream_block(cfg.seed, epoch, sid, DOMAIN_SHUFFLE, i // 4)[i % 4]
        r = i + bounded(cfg.seed, epoch, sid, DOMAIN_SHUFFLE, i, len(a) - i, x)
        a[i], a[r] = a[r], a[i]
        chosen.append(a[i])
    _, labels = mask_sequence(cfg, epoch, sid, ids)
    assert sorted(chosen) == picked_positions(labels)


def test_fill_skips_overflowing_units_and_goes_on():
    for sid in range(30):
        draws = ref.SequenceDraws(5, 0, sid)
        picked = ref.fill([(0, 5), (5, 1), (6, 1), (7, 1)], 2, draws)
        assert (0, 5) not in picked
        assert sum(length for _, length in picked) == 2


def test_exact_fill_with_words_never_overflows():
    # words of 3, 3 and 1 tokens; k = min(4, 7) = 4. Whatever the shuffle, fill must take one
    # 3-token word and skip the other (it would overflow), then still add the 1-token word.
    ids = [5, 20, 21, 6, 22, 23, 7]
    cfg = make_config(selection=config.SELECT_EXACT, units=config.UNITS_WORDS, p=1.0,
                      max_predictions=4, word_table=WORD_TABLE)
    seen = set()
    for sid in range(60):
        _, labels = mask_sequence(cfg, 0, sid, ids)
        got = picked_positions(labels)
        assert got in ([0, 1, 2, 6], [3, 4, 5, 6])
        seen.add(tuple(got))
    assert len(seen) == 2


def test_bernoulli_cap_refills_among_picked_units():
    ids = [5, 20, 6, 21, 7, 22, 8]  # words [0,1] [2,3] [4,5] [6]
    cfg = make_config(units=config.UNITS_WORDS, p=1.0, word_table=WORD_TABLE)
    _, labels = mask_sequence(cfg, 0, 0, ids)
    assert picked_positions(labels) == list(range(7))
    cfg = make_config(units=config.UNITS_WORDS, p=1.0, max_predictions=3, word_table=WORD_TABLE)
    for sid in range(40):
        _, labels = mask_sequence(cfg, 0, sid, ids)
        got = picked_positions(labels)
        assert len(got) == 3 and 6 in got  # one 2-token word plus the 1-token word


def test_bernoulli_draw_is_the_select_word_of_the_unit_start():
    cfg = make_config(seed=3, units=config.UNITS_WORDS, p=0.5, word_table=WORD_TABLE)
    rng = random.Random(3)
    for sid in range(25):
        ids = [CLS] + [rng.choice([rng.randrange(5, 20), rng.randrange(20, 35), 36]) for _ in range(20)] + [SEP]
        _, labels = mask_sequence(cfg, 2, sid, ids)
        special = ref.special_flags(cfg, ids)
        for word in word_spans(ids, special, word_starts_from_table(ids, WORD_TABLE)):
            s = word[0]
            expected = stream_block(cfg.seed, 2, sid, DOMAIN_SELECT, s // 4)[s % 4] < cfg.t_select
            assert all((labels[j] != IGNORE) == expected for j in word)


@pytest.mark.parametrize("selection", SELECTIONS)
def test_whole_words_picked_entirely(selection):
    cfg = make_config(selection=selection, units=config.UNITS_WORDS, p=0.3, span_probs=SPANBERT,
                      word_table=WORD_TABLE)
    rng = random.Random(selection)
    partial_words = 0
    for sid in range(40):
        body = [rng.choice([rng.randrange(5, 20), rng.randrange(20, 35), rng.randrange(35, 40)]) for _ in range(30)]
        ids = [CLS] + body + [SEP]
        special = ref.special_flags(cfg, ids)
        _, labels = mask_sequence(cfg, 0, sid, ids)
        for word in word_spans(ids, special, word_starts_from_table(ids, WORD_TABLE)):
            flags = {labels[j] != IGNORE for j in word}
            assert len(flags) == 1
            partial_words += len(word) > 1 and True in flags
    assert partial_words > 0  # multi-token words did get picked


def test_word_table_is_used_without_word_starts():
    cfg = make_config(selection=config.SELECT_EXACT, units=config.UNITS_WORDS, p=0.4, word_table=WORD_TABLE)
    ids = [CLS, 5, 20, 21, 36, 6, 7, 22, SEP]
    for sid in range(10):
        assert mask_sequence(cfg, 0, sid, ids) == mask_sequence(
            cfg, 0, sid, ids, word_starts=word_starts_from_table(ids, WORD_TABLE)
        )
    # explicit word starts win over the table
    starts = [1] * len(ids)
    tokens_cfg = make_config(selection=config.SELECT_EXACT, p=0.4)
    for sid in range(10):
        assert mask_sequence(cfg, 0, sid, ids, word_starts=starts) == mask_sequence(tokens_cfg, 0, sid, ids)


def test_span_length_from_cdf():
    cdf = (10, 10, 25, config.TWO32)
    assert [ref.span_length(x, cdf) for x in (0, 9, 10, 24, 25, M32)] == [1, 1, 3, 3, 4, 4]


@pytest.mark.parametrize("probs", [SPANBERT, ALBERT])
def test_span_attempts_follow_the_rules(probs):
    cfg = make_config(selection=config.SELECT_SPAN, units=config.UNITS_WORDS, p=0.3,
                      span_probs=probs, word_table=WORD_TABLE)
    rng = random.Random(len(probs))
    long_spans = 0
    for sid in range(40):
        ids = random_sequence(rng, 40)
        special = ref.special_flags(cfg, ids)
        units = ref.build_units(special, word_starts_from_table(ids, WORD_TABLE))
        k = ref.selection_budget(len(ids), cfg.probability, cfg.max_predictions)
        trace = []
        picked = ref.select_span(units, k, cfg.span_cdf, ref.SequenceDraws(cfg.seed, 0, sid), trace)
        assert len(trace) <= 4 * len(units) + 16
        from_spans = []
        for _i, length, a, c in trace:
            assert 1 <= length <= len(probs)
            assert c <= length
            span = units[a : a + c]
            assert len(span) == c
            assert all(ref.adjacent(u, v) for u, v in zip(span, span[1:]))  # inside one segment
            assert all(not special[j] for s, n in span for j in range(s, s + n))
            from_spans += span
            long_spans += c >= 2
        assert sorted(from_spans) == picked  # every picked unit comes from exactly one span
        assert sum(n for _, n in picked) <= k
        _, labels = mask_sequence(cfg, 0, sid, ids)
        assert picked_positions(labels) == [j for s, n in picked for j in range(s, s + n)]
    assert long_spans > 0


def test_span_stops_at_segment_boundary():
    # spans always 3 tokens long; segments [10 11] and [12 13 14] are split by SEP
    cfg = make_config(selection=config.SELECT_SPAN, p=1.0, span_probs=[0.0, 0.0, 1.0])
    ids = [CLS, 10, 11, SEP, 12, 13, 14, SEP]
    units = ref.build_units(ref.special_flags(cfg, ids))
    assert units == [(1, 1), (2, 1), (4, 1), (5, 1), (6, 1)]
    for sid in range(30):
        trace = []
        ref.select_span(units, 8, cfg.span_cdf, ref.SequenceDraws(cfg.seed, 0, sid), trace)
        i, length, a, c = trace[0]
        assert (i, length) == (0, 3)
        # the first span runs from its anchor to the end of its segment, at most 3 units
        assert c == min(3, {0: 2, 1: 1, 2: 3, 3: 2, 4: 1}[a])


def test_span_budget_and_attempt_bound():
    # k = n = 8 exceeds the 5 candidate tokens: the loop only ends by picking every unit or by
    # running out of its 4U + 16 attempts.
    cfg = make_config(selection=config.SELECT_SPAN, p=1.0, span_probs=[1.0])
    ids = [CLS, 10, 11, SEP, 12, 13, 14, SEP]
    units = ref.build_units(ref.special_flags(cfg, ids))
    for sid in range(30):
        trace = []
        picked = ref.select_span(units, 8, cfg.span_cdf, ref.SequenceDraws(cfg.seed, 0, sid), trace)
        assert len(trace) <= 4 * len(units) + 16
        if len(picked) < len(units):
            assert len(trace) == 4 * len(units) + 16
    # a tight budget: exactly k tokens with spans of single tokens
    cfg = make_config(selection=config.SELECT_SPAN, p=0.25, span_probs=[1.0])  # k = round(2.0) = 2
    for sid in range(20):
        _, labels = mask_sequence(cfg, 0, sid, ids)
        assert len(picked_positions(labels)) == 2


def test_span_attempt_bound_is_exact():
    # units of 1 and 3 tokens, k = 3, spans of one unit. When the 1-token unit comes first the
    # 3-token unit can never fit (1 + 3 > 3) and the budget is never reached: the loop makes
    # exactly 4U + 16 = 24 attempts ("for i in 0 .. 4*U + 15", both ends included).
    units = [(0, 1), (1, 3)]
    lengths = set()
    for sid in range(40):
        trace = []
        picked = ref.select_span(units, 3, (config.TWO32,), ref.SequenceDraws(1, 0, sid), trace)
        if picked == [(0, 1)]:
            assert len(trace) == 24
        else:
            assert picked == [(1, 3)] and trace[-1][2:] == (1, 1)
        lengths.add(len(trace))
    assert 24 in lengths and len(lengths) > 1


def test_bounded_draws_use_their_own_block(monkeypatch):
    """fill retries in SHUFFLE block i, span in SPAN block i, random ids in ACTION block j."""
    calls = []
    real_bounded = ref.bounded

    def recording_bounded(seed, epoch, sid, domain, block, range_, x):
        calls.append((domain, block, range_))
        return real_bounded(seed, epoch, sid, domain, block, range_, x)

    monkeypatch.setattr(ref, "bounded", recording_bounded)
    draws = ref.SequenceDraws(1, 2, 3)
    ref.fill([(j, 1) for j in range(7)], 7, draws)
    assert calls == [(DOMAIN_SHUFFLE, i, 7 - i) for i in range(7)]

    calls.clear()
    trace = []
    ref.select_span([(j, 1) for j in range(6)], 2, (config.TWO32,), draws, trace)
    assert calls == [(DOMAIN_SPAN, i, 6) for i, _, _, _ in trace]

    calls.clear()
    cfg = make_config(p=1.0, mask_prob=0.0, random_prob=1.0, units=config.UNITS_WORDS, action_per_unit=True)
    mask_sequence(cfg, 0, 0, [CLS, 10, 11, 12, SEP], word_starts=[1, 1, 0, 0, 1])
    assert sorted(calls) == [(DOMAIN_ACTION, j, cfg.random_range) for j in (1, 2, 3)]


def test_span_selection_by_hand():
    """One sequence walked through the span loop directly from the SPAN words."""
    cfg = make_config(selection=config.SELECT_SPAN, p=0.5, mask_prob=0.0, random_prob=0.0,
                      span_probs=ALBERT, seed=5)
    epoch, sid = 0, 77
    ids = [CLS, 10, 11, 12, SEP, 13, 14, 15, 16, SEP]  # n = 10, k = 5, token units
    pos = [1, 2, 3, 5, 6, 7, 8]
    n_units = len(pos)
    picked = [False] * n_units
    total = 0
    for i in range(4 * n_units + 16):
        if total >= 5 or all(picked):
            break
        w = stream_block(cfg.seed, epoch, sid, DOMAIN_SPAN, i)
        length = next(n for n, c in enumerate(cfg.span_cdf, 1) if w[0] < c)
        a = bounded(cfg.seed, epoch, sid, DOMAIN_SPAN, i, n_units, w[1])
        u = a
        while u < n_units and u - a < length and not picked[u] and (u == a or pos[u] == pos[u - 1] + 1):
            if total + 1 > 5:
                break
            picked[u] = True
            total += 1
            u += 1
    _, labels = mask_sequence(cfg, epoch, sid, ids)
    assert picked_positions(labels) == [p for p, f in zip(pos, picked) if f]


# =================================================================================================
# 8. Replacement and labels
# =================================================================================================


def expected_replacement(cfg, epoch, sid, j, decision_pos, y):
    """Section 8 for one picked token, from the ACTION words directly."""
    d = stream_block(cfg.seed, epoch, sid, DOMAIN_ACTION, decision_pos)[0]
    if d < cfg.t_mask:
        return MASK
    if d < cfg.t_mask + cfg.t_random:
        x = stream_block(cfg.seed, epoch, sid, DOMAIN_ACTION, j)[1]
        r = bounded(cfg.seed, epoch, sid, DOMAIN_ACTION, j, cfg.random_range, x)
        return [v for v in range(cfg.vocab_size) if v not in cfg.random_skip][r]
    return y


@pytest.mark.parametrize("per_unit", [False, True])
def test_replacement_by_hand(per_unit):
    cfg = make_config(
        units=config.UNITS_WORDS, action_per_unit=per_unit, p=0.6, mask_prob=0.4, random_prob=0.3,
        word_table=WORD_TABLE
    )
    rng = random.Random(8)
    outcomes = {"mask": 0, "random": 0, "keep": 0}
    for sid in range(30):
        ids = [CLS] + [rng.choice([rng.randrange(5, 20), rng.randrange(20, 35)]) for _ in range(25)] + [SEP]
        special = ref.special_flags(cfg, ids)
        out, labels = mask_sequence(cfg, 3, sid, ids)
        for word in word_spans(ids, special, word_starts_from_table(ids, WORD_TABLE)):
            for j in word:
                if labels[j] == IGNORE:
                    assert out[j] == ids[j]
                    continue
                assert labels[j] == ids[j]
                decision_pos = word[0] if per_unit else j
                assert out[j] == expected_replacement(cfg, 3, sid, j, decision_pos, ids[j])
                d = stream_block(cfg.seed, 3, sid, DOMAIN_ACTION, decision_pos)[0]
                outcomes["mask" if d < cfg.t_mask else "random" if d < cfg.t_mask + cfg.t_random else "keep"] += 1
    assert all(count > 0 for count in outcomes.values())


def test_per_unit_decisions_are_shared_inside_a_word():
    ids = [CLS, 5, 20, 21, 22, 6, 23, 24, 7, 25, 26, 27, SEP]  # three 3-4 token words
    mixed = {False: 0, True: 0}
    for per_unit in (False, True):
        cfg = make_config(
            units=config.UNITS_WORDS, action_per_unit=per_unit, p=1.0, mask_prob=0.5,
            random_prob=0.0, word_table=WORD_TABLE
        )
        for sid in range(30):
            out, _ = mask_sequence(cfg, 0, sid, ids)
            for word in ([1, 2, 3, 4], [5, 6, 7], [8, 9, 10, 11]):
                states = {out[j] == MASK for j in word}
                mixed[per_unit] += len(states) > 1
    assert mixed[True] == 0
    assert mixed[False] > 0


def test_random_ids_never_in_skip_list():
    cfg = make_config(vocab_size=12, p=1.0, mask_prob=0.0, random_prob=1.0)
    allowed = set(range(12)) - set(cfg.random_skip)
    seen = set()
    for sid in range(60):
        out, labels = mask_sequence(cfg, 0, sid, [CLS, 5, 6, 7, 8, 9, 10, 11, SEP])
        seen.update(out[1:-1])
        assert labels[1:-1] == [5, 6, 7, 8, 9, 10, 11]
    assert seen == allowed  # every allowed id shows up, and nothing else
    # Hugging Face's behaviour: any id of the vocabulary
    cfg = make_config(vocab_size=12, p=1.0, mask_prob=0.0, random_prob=1.0, random_all=True)
    seen = set()
    for sid in range(60):
        out, _ = mask_sequence(cfg, 0, sid, [CLS, 5, 6, 7, 8, 9, 10, 11, SEP])
        seen.update(out[1:-1])
    assert seen == set(range(12))


def test_allowed_id_walk():
    rng = random.Random(0)
    for _ in range(50):
        vocab = rng.randrange(1, 30)
        skip = sorted(rng.sample(range(vocab), rng.randrange(0, vocab)))
        allowed = [v for v in range(vocab) if v not in skip]
        assert [ref.allowed_id(r, skip) for r in range(len(allowed))] == allowed


# =================================================================================================
# 9. Padding, and independence from the batch
# =================================================================================================


@pytest.mark.parametrize("left, want_ids, want_labels, want_attention", [
    (
        False,
        [[CLS, MASK, SEP, PAD, PAD, PAD], [PAD] * 6, [CLS, MASK, MASK, MASK, SEP, PAD]],
        [[IGNORE, 10, IGNORE, IGNORE, IGNORE, IGNORE], [IGNORE] * 6,
         [IGNORE, 11, 12, 13, IGNORE, IGNORE]],
        [[1, 1, 1, 0, 0, 0], [0] * 6, [1, 1, 1, 1, 1, 0]],
    ),
    (
        True,
        [[PAD, PAD, PAD, CLS, MASK, SEP], [PAD] * 6, [PAD, CLS, MASK, MASK, MASK, SEP]],
        [[IGNORE, IGNORE, IGNORE, IGNORE, 10, IGNORE], [IGNORE] * 6,
         [IGNORE, IGNORE, 11, 12, 13, IGNORE]],
        [[0, 0, 0, 1, 1, 1], [0] * 6, [0, 1, 1, 1, 1, 1]],
    ),
], ids=["right", "left"])
def test_right_and_left_padding_layout(left, want_ids, want_labels, want_attention):
    cfg = make_config(p=1.0, mask_prob=1.0, random_prob=0.0)
    seqs = [[CLS, 10, SEP], [], [CLS, 11, 12, 13, SEP]]
    ids, labels, attention = pad_and_mask(cfg, 0, seqs, [0, 1, 2], 6, left=left)
    assert ids == want_ids
    assert labels == want_labels
    assert attention == want_attention


def test_padding_errors_name_the_row():
    cfg = make_config()
    with pytest.raises(ValueError, match="sequence 1"):
        pad_and_mask(cfg, 0, [[5], [5, 6, 7]], [0, 1], 2, left=False)
    with pytest.raises(ValueError, match="sequence 1.*position 1"):
        pad_and_mask(cfg, 0, [[5], [5, 99]], [0, 1], 4, left=False)
    with pytest.raises(ValueError):
        pad_and_mask(cfg, 0, [[5], [6]], [0], 4, left=False)


@pytest.mark.parametrize(
    "cfg",
    [
        make_config(p=0.3),
        make_config(selection=config.SELECT_EXACT, units=config.UNITS_WORDS, word_table=WORD_TABLE),
        make_config(selection=config.SELECT_SPAN, units=config.UNITS_WORDS, p=0.2,
                    span_probs=SPANBERT, word_table=WORD_TABLE),
    ],
)
def test_output_independent_of_row_padding_and_width(cfg):
    rng = random.Random(11)
    seqs = [random_sequence(rng, rng.randrange(0, 30)) for _ in range(6)]
    sids = [1000 + 7 * i for i in range(6)]
    masks = [[int(rng.random() < 0.1) for _ in s] for s in seqs]
    alone = [mask_sequence(cfg, 5, sid, s, m) for s, sid, m in zip(seqs, sids, masks)]
    widest = max(len(s) for s in seqs)
    for width in (widest, widest + 5):
        for left in (False, True):
            order = list(range(6))
            rng.shuffle(order)
            ids, labels, _ = pad_and_mask(
                cfg, 5, [seqs[i] for i in order], [sids[i] for i in order], width, left, [masks[i] for i in order]
            )
            for row, i in enumerate(order):
                n = len(seqs[i])
                cols = slice(width - n, width) if left else slice(0, n)
                assert (ids[row][cols], labels[row][cols]) == alone[i]


def test_output_depends_on_seed_epoch_and_sid():
    cfg = make_config(p=0.5)
    ids = [CLS] + list(range(5, 37)) + [SEP]
    base = mask_sequence(cfg, 0, 0, ids)
    assert mask_sequence(cfg, 0, 0, ids) == base
    assert mask_sequence(cfg, 1, 0, ids) != base
    assert mask_sequence(cfg, 0, 1, ids) != base
    assert mask_sequence(make_config(p=0.5, seed=cfg.seed + 1), 0, 0, ids) != base
    assert mask_sequence(cfg, 0, 1 << 40, ids) != mask_sequence(cfg, 0, 1 << 41, ids)
