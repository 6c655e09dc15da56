"""Whole-word and span masking: grouping, rates and span lengths (C core and reference)."""

import math

import numpy as np
import pytest
from conftest import CLS, MASK, SEP, SPECIALS, VOCAB, make_masker

import fastmask


def words_of(starts, special):
    """Units of one sequence as lists of positions (docs/semantics.md section 6)."""
    units, cur = [], None
    prev_special = True
    for j, (f, s) in enumerate(zip(starts, special)):
        if s:
            cur = None
        elif prev_special or f == 1 or cur is None:
            cur = [j]
            units.append(cur)
        else:
            cur.append(j)
        prev_special = bool(s)
    return units


def random_words(rng, n_seq, lo, hi):
    seqs, starts = [], []
    for _ in range(n_seq):
        m = int(rng.integers(lo, hi + 1))
        body = rng.integers(5, VOCAB, size=m).tolist()
        f = (rng.random(m) < 0.6).astype(int).tolist()
        seqs.append([CLS] + body + [SEP])
        starts.append([1] + f + [1])
    return seqs, starts


@pytest.mark.parametrize("selection", ["bernoulli", "exact", "span"])
@pytest.mark.parametrize("action", ["token", "unit"])
def test_words_are_picked_whole(impl, selection, action):
    rng = np.random.default_rng(0)
    seqs, starts = random_words(rng, 30, 20, 120)
    m = make_masker(impl, whole_word=True, selection=selection, action=action,
                    mlm_probability=0.3)
    out = m(seqs, word_starts=starts)
    total = 0
    for i, (seq, f) in enumerate(zip(seqs, starts)):
        picked = out["labels"][i, :len(seq)] != -100
        special = [s in SPECIALS for s in seq]
        for unit in words_of(f, special):
            got = picked[unit]
            assert got.all() or not got.any(), (i, unit)
            total += int(got.all())
            if action == "unit" and got.all():
                # one decision per word: either every token is [MASK] or none is
                is_mask = out["input_ids"][i, unit] == MASK
                assert is_mask.all() or not is_mask.any()
        assert not picked[np.array(special)].any()
    assert total > 0


def test_word_ids_and_word_starts_agree(impl):
    rng = np.random.default_rng(1)
    seqs, starts = random_words(rng, 20, 5, 60)
    word_ids = []
    for f in starts:
        w, cur = [], -1
        for j, x in enumerate(f):
            if j == 0 or j == len(f) - 1:
                w.append(None)
                continue
            cur += x if j > 1 else 1
            w.append(cur)
        word_ids.append(w)
    m = make_masker(impl, whole_word=True)
    a = m(seqs, word_ids=word_ids, sample_ids=range(20))
    # flags equivalent to the word ids (the first body token always starts a word)
    flags = [[1] + [1 if (j == 1 or w[j] != w[j - 1]) else 0 for j in range(1, len(w) - 1)]
             + [1] for w in word_ids]
    b = m(seqs, word_starts=flags, sample_ids=range(20))
    for k in a:
        assert (a[k] == b[k]).all()


def test_word_ids_fast_path_matches_words_module():
    rng = np.random.default_rng(2)
    word_ids = []
    for _ in range(50):
        n = int(rng.integers(0, 40))
        w = np.cumsum(rng.random(n) < 0.5).tolist()
        w = [None if rng.random() < 0.1 else (x if rng.random() > 0.05 else -1) for x in w]
        word_ids.append(w)
    L = max(len(w) for w in word_ids)
    out = np.empty((50, L), np.uint8)
    fastmask._core.word_ids_to_starts(word_ids, out, False, "word_ids")
    for i, w in enumerate(word_ids):
        expect = fastmask.words.starts_from_word_ids(w) if w else np.zeros(0, np.uint8)
        assert out[i, :len(w)].tolist() == list(expect)
        assert (out[i, len(w):] == 0).all()


def test_bad_word_ids(impl):
    m = make_masker(impl, whole_word=True)
    with pytest.raises(TypeError, match=r"word_ids\[0\]\[1\] is str"):
        m([[CLS, 10, SEP]], word_ids=[[None, "a", None]])
    with pytest.raises(ValueError, match=r"word_ids\[0\] has 2 entries but input_ids\[0\] has 3"):
        m([[CLS, 10, SEP]], word_ids=[[None, 0]])


def z_score(k, n, p):
    return (k - n * p) / math.sqrt(n * p * (1 - p))


def test_per_word_and_per_token_rates():
    # Bernoulli over words: each word picked with p = 0.15, independently of its length.
    # Bound |z| <= 5 over ~300k words (fixed seed).
    rng = np.random.default_rng(3)
    n_seq, n = 2000, 254
    body = rng.integers(5, VOCAB, size=(n_seq, n))
    starts = (rng.random((n_seq, n)) < 0.5).astype(np.uint8)
    starts[:, 0] = 1
    m = fastmask.Masker(VOCAB, MASK, special_ids=SPECIALS, seed=8, whole_word=True)
    out = m(body, word_starts=starts)
    picked = out["labels"] != -100
    n_words = int(starts.sum())
    words_picked = int((picked & (starts == 1)).sum())
    assert abs(z_score(words_picked, n_words, 0.15)) <= 5
    # token rate equals the word rate in expectation (each token's word is picked w.p. p)
    tokens = picked.sum()
    sd = math.sqrt(n_words * 0.15 * 0.85) * 2.0 * 1.5  # word-count noise x mean word length bound
    assert abs(tokens - 0.15 * picked.size) <= 5 * sd
    # 80/10/10 per token
    k = int(tokens)
    n_mask = int((out["input_ids"][picked] == MASK).sum())
    assert abs(z_score(n_mask, k, 0.8)) <= 5
    # whole words: a token that continues a word is picked exactly when the token before is
    cont = starts[:, 1:] == 0
    assert (picked[:, 1:][cont] == picked[:, :-1][cont]).all()
    # the same check fails for token masking on the same data, so it has power
    tok = fastmask.Masker(VOCAB, MASK, special_ids=SPECIALS, seed=8)(body)["labels"] != -100
    assert (tok[:, 1:][cont] != tok[:, :-1][cont]).sum() > 1000


@pytest.mark.parametrize("name", ["spanbert", "albert"])
def test_span_length_distribution(name):
    # The span lengths drawn by the span loop follow the configured distribution: record every
    # attempt of the reference's span loop (the C core is checked bit-identical to it in
    # test_equivalence.py) and compare the drawn lengths with a chi-square test at p = 1e-6.
    from fastmask import _config
    from fastmask import reference as ref

    probs = np.array(fastmask.SPAN_LENGTHS[name], dtype=float)
    probs /= probs.sum()
    cdf = _config.cdf_thresholds(tuple(probs))
    units = [(j, 1) for j in range(200)]
    drawn, realised = [], []
    for sid in range(40):
        trace = []
        ref.select_span(units, 10 ** 9, cdf, ref.SequenceDraws(77, 0, sid), trace)
        drawn.extend(t[1] for t in trace)
        realised.extend(t[3] for t in trace if t[3])
    counts = np.bincount(drawn, minlength=len(probs) + 1)[1:]
    assert counts.sum() == len(drawn) > 10000
    expected = probs * len(drawn)
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    df = len(probs) - 1
    h = 2.0 / (9.0 * df)
    critical = df * (1 - h + 4.7534 * math.sqrt(h)) ** 3  # upper 1e-6 point (Wilson-Hilferty)
    assert chi2 <= critical, (chi2, critical)
    # a span never exceeds its drawn length
    assert all(t <= len(probs) for t in realised)


def test_realised_spans_have_the_configured_lengths_when_room_allows():
    # With a huge budget and fixed-length spans (length 3 only) over long runs of tokens, the
    # first spans of every sequence land on free ground and have length exactly 3.
    rng = np.random.default_rng(4)
    ids = rng.integers(5, VOCAB, size=(200, 1000))
    m = fastmask.Masker(VOCAB, MASK, special_ids=SPECIALS, seed=9, selection="span",
                        span_lengths=(0, 0, 1), mlm_probability=0.006)  # budget 6 = 2 spans
    picked = m(ids)["labels"] != -100
    assert (picked.sum(axis=1) == 6).all()
    runs = []
    for row in picked:
        d = np.diff(np.concatenate([[0], row.astype(np.int8), [0]]))
        runs.extend((np.flatnonzero(d == -1) - np.flatnonzero(d == 1)).tolist())
    runs = np.array(runs)
    # shorter runs only come from a span cut by the row's end or the budget, longer ones from
    # spans that touch; both are rare here (a span starts within 3 of another or of the end
    # with probability ~ 1 %)
    assert runs.min() >= 1 and runs.max() <= 6
    assert (runs == 3).mean() > 0.95, np.bincount(runs)


def test_spans_never_cross_specials(impl):
    rng = np.random.default_rng(5)
    seqs = []
    for _ in range(40):
        body = rng.integers(5, VOCAB, size=60).tolist()
        for k in range(0, 60, 7):
            body[k] = SEP
        seqs.append([CLS] + body + [SEP])
    m = make_masker(impl, selection="span", mlm_probability=0.5, span_lengths=(0, 0, 0, 0, 1))
    out = m(seqs)
    for i, seq in enumerate(seqs):
        picked = out["labels"][i, :len(seq)] != -100
        # all spans have length 5 except where cut by a special, the budget or another span:
        # never does a picked run contain a special
        assert not picked[np.array(seq) == SEP].any()


def test_word_table_from_vocabulary(impl):
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "##s", "world", ",", "##ly"]
    m = impl.Masker(len(vocab), 4, special_ids=range(5), whole_word=True, word_table=vocab,
                    mlm_probability=1.0, mask_replace_prob=1.0, random_replace_prob=0.0,
                    seed=0, selection="exact", max_predictions=2)
    seq = [2, 5, 6, 8, 7, 9, 3]  # [CLS] hello ##s , world ##ly [SEP]
    out = m([seq] * 30, sample_ids=range(30))
    picked = out["labels"] != -100
    # budget 2 tokens: either "hello ##s", or "world ##ly", or "," (plus nothing that splits)
    for row in picked:
        sets = [tuple(np.flatnonzero(row))]
        assert sets[0] in {(1, 2), (4, 5), (3,)}, sets


def random_offsets(rng, n):
    """Offsets of n tokens with gaps, glued pieces, (0, 0) specials, empty spans and a restart."""
    out, pos = [], 0
    for _ in range(n):
        r = rng.random()
        if r < 0.08:
            out.append((0, 0))
            continue
        if r < 0.12:
            pos = int(rng.integers(0, 5))  # a second text starts again near 0
        pos += int(rng.integers(0, 2))  # a gap (space) or not
        width = int(rng.integers(0, 4)) if r > 0.15 else 0
        out.append((pos, pos + width))
        pos += width
    return out


def test_offsets_fast_path_matches_words_module():
    rng = np.random.default_rng(7)
    offs = [random_offsets(rng, int(rng.integers(0, 50))) for _ in range(60)]
    L = max(len(o) for o in offs)
    for left in (False, True):
        out = np.empty((60, L), np.uint8)
        fastmask._core.offsets_to_starts(offs, out, left, "offset_mapping")
        for i, o in enumerate(offs):
            expect = fastmask.words.starts_from_offsets(o) if o else np.zeros(0, np.uint8)
            got = out[i, L - len(o):] if left else out[i, :len(o)]
            assert got.tolist() == list(expect), i


def test_offset_mapping_gives_the_same_masks_as_flags(impl):
    rng = np.random.default_rng(8)
    offs = [random_offsets(rng, int(rng.integers(1, 60))) for _ in range(20)]
    seqs = [rng.integers(5, VOCAB, size=len(o)).tolist() for o in offs]
    flags = [fastmask.words.starts_from_offsets(o).tolist() for o in offs]
    m = make_masker(impl, whole_word=True, mlm_probability=0.4)
    a = m(seqs, offset_mapping=offs, sample_ids=range(20))
    b = m(seqs, word_starts=flags, sample_ids=range(20))
    for k in a:
        assert (a[k] == b[k]).all()


def test_bad_offset_mapping(impl):
    m = make_masker(impl, whole_word=True)
    with pytest.raises(ValueError, match=r"offset_mapping\[0\]\[1\] = \(5, 2\): need 0 <= start"):
        m([[CLS, 10, SEP]], offset_mapping=[[(0, 0), (5, 2), (0, 0)]])
    with pytest.raises(ValueError, match=r"offset_mapping\[0\]\[1\]"):
        m([[CLS, 10, SEP]], offset_mapping=[[(0, 0), (1, 2, 3), (0, 0)]])
    with pytest.raises(ValueError, match=r"offset_mapping\[0\] has 2 entries"):
        m([[CLS, 10, SEP]], offset_mapping=[[(0, 0), (0, 0)]])


# ---------------------------------------------------------------------------------------------
# chinese_ref through the Masker, alone and on top of other boundary sources


def _chinese_batch():
    rng = np.random.default_rng(31)
    seqs, refs, wids = [], [], []
    for n in (40, 1, 75, 0, 130):
        body = rng.integers(5, VOCAB, size=max(n - 2, 0)).tolist()
        s = ([CLS] + body + [SEP])[:n]
        seqs.append(s)
        refs.append(sorted(set(rng.integers(1, max(n - 1, 2), size=n // 3).tolist()) - {0})
                    if n > 2 else [])
        w, cur = [], -1
        for j in range(len(s)):
            if j == 0 or j == len(s) - 1:
                w.append(None)
            else:
                cur += int(rng.random() < 0.5) or (cur < 0)
                w.append(cur)
        wids.append(w)
    return seqs, refs, wids


@pytest.mark.parametrize("base", [None, "word_ids", "word_starts"])
def test_chinese_ref_through_the_masker(impl, base):
    from fastmask.words import starts_from_chinese_ref, starts_from_word_ids

    seqs, refs, wids = _chinese_batch()
    m = make_masker(impl, whole_word=True, mlm_probability=0.4, seed=77)
    flags = [starts_from_word_ids(w) if w else np.zeros(0, np.uint8) for w in wids]
    call = {"chinese_ref": refs, "sample_ids": range(len(seqs))}
    if base == "word_ids":
        call["word_ids"] = wids
    elif base == "word_starts":
        call["word_starts"] = [f.tolist() for f in flags]
    want = [starts_from_chinese_ref(len(s), r, base=None if base is None else f)
            for s, r, f in zip(seqs, refs, flags)]
    got = m(seqs, **call)
    expect = m(seqs, word_starts=[w.tolist() for w in want], sample_ids=range(len(seqs)))
    for k in expect:
        assert (got[k] == expect[k]).all(), k
    # the chinese_ref actually matters: without it the masks differ
    plain = m(seqs, word_starts=[f.tolist() for f in flags] if base else
              [[1] * len(s) for s in seqs], sample_ids=range(len(seqs)))
    assert (plain["labels"] != got["labels"]).any()


def test_chinese_ref_errors(impl):
    m = make_masker(impl, whole_word=True)
    with pytest.raises(ValueError, match=r"chinese_ref\[0\].*outside \[0, 3\)"):
        m([[CLS, 10, SEP]], chinese_ref=[[3]])
    with pytest.raises(TypeError, match=r"chinese_ref\[0\]"):
        m([[CLS, 10, SEP]], chinese_ref=[["1"]])
    with pytest.raises(ValueError, match="chinese_ref has 1 entries but input_ids has 2"):
        m([[CLS, 10, SEP], [CLS, SEP]], chinese_ref=[[1]])


@pytest.mark.parametrize("given", [("word_starts", "word_ids"), ("word_ids", "offset_mapping"),
                                   ("word_starts", "offset_mapping")])
def test_only_one_boundary_source(impl, given):
    values = {"word_starts": [[1, 1, 1]], "word_ids": [[None, 0, None]],
              "offset_mapping": [[(0, 0), (0, 2), (0, 0)]]}
    m = make_masker(impl, whole_word=True)
    with pytest.raises(ValueError, match=f"pass only one of {given[0]}, {given[1]}"):
        m([[CLS, 10, SEP]], **{k: values[k] for k in given})


@pytest.mark.parametrize("pairs", [
    [(0, 0), (0, 2 ** 62 + 5), (2 ** 62 + 9, 2 ** 63 + 1), (0, 0)],
    [(0, 0), (2 ** 63, 2 ** 64), (2 ** 64, 2 ** 70), (0, 0)],
    [(0, 0), (2 ** 62, 2 ** 63 - 1), (2 ** 63 - 1, 2 ** 63 - 1), (0, 0)],
])
def test_huge_offsets_read_alike_on_every_path(impl, pairs):
    # offsets at or above 2**62 count as 2**62 whether the rows are lists or tuples (two
    # different readers) and in the reference
    from fastmask.words import starts_from_offsets

    m = make_masker(impl, whole_word=True, mlm_probability=0.5, seed=3)
    ids = [[CLS, 10, 11, SEP]]
    a = m(ids, offset_mapping=[list(pairs)], sample_ids=[0])
    b = m(ids, offset_mapping=[tuple(pairs)], sample_ids=[0])
    flags = starts_from_offsets(list(pairs))
    c = m(ids, word_starts=[flags.tolist()], sample_ids=[0])
    for k in a:
        assert (a[k] == b[k]).all() and (a[k] == c[k]).all(), k


def test_negative_huge_offsets_are_refused_on_every_path(impl):
    m = make_masker(impl, whole_word=True)
    for rows in ([[(0, 0), (-2 ** 70, 3), (0, 0)]], [((0, 0), (-2 ** 70, 3), (0, 0))]):
        with pytest.raises(ValueError, match=r"offset_mapping\[0\]"):
            m([[CLS, 10, SEP]], offset_mapping=rows)
