"""The word-start rules as fastmask.words applies them (through the C core, csrc/words.c)
against the pure-Python reference's own copies (fastmask.reference), on random inputs and on
the edge cases each rule has. Every hypothesis test is derandomised."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastmask
from fastmask import reference, words
from fastmask.arrow import word_starts_from_word_ids as arrow_word_starts
from fastmask.words import _rules

WORD_ID = st.one_of(st.none(), st.integers(-3, 4), st.integers(-2 ** 63, 2 ** 63 - 1))
SPAN_VALUE = st.one_of(st.integers(0, 6), st.integers(0, 2 ** 70))


@st.composite
def span_rows(draw):
    out = []
    for _ in range(draw(st.integers(0, 40))):
        kind = draw(st.sampled_from(["special", "empty", "span", "span", "span"]))
        if kind == "special":
            out.append((0, 0))
        else:
            s = draw(SPAN_VALUE)
            out.append((s, s if kind == "empty" else s + draw(st.integers(0, 3))))
    return out


@settings(max_examples=600, deadline=None, derandomize=True)
@given(st.lists(WORD_ID, max_size=50))
def test_word_ids_rule_matches_reference(ids):
    want = reference.word_starts_from_word_ids(ids)
    assert words.starts_from_word_ids(ids).tolist() == want
    as_array = np.array([-1 if w is None else w for w in ids], dtype=np.int64)
    assert words.starts_from_word_ids(as_array).tolist() == want


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.lists(WORD_ID, max_size=20), max_size=6))
def test_word_ids_rule_on_batches_and_flat_rows(rows):
    want = [reference.word_starts_from_word_ids(r) for r in rows]
    if any(rows):
        assert [f.tolist() for f in words.starts_from_word_ids(rows)] == want
    flat = np.array([-1 if w is None else w for r in rows for w in r], dtype=np.int64)
    off = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64)
    assert arrow_word_starts(flat, off).tolist() == [f for r in want for f in r]


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.integers(0, 5), st.integers(0, 9), st.sampled_from([np.int64, np.int32, np.uint8]),
       st.data())
def test_word_ids_rule_on_2d_arrays_is_per_row(rows, width, dtype, data):
    lo = 0 if dtype == np.uint8 else -2
    ids = np.array(data.draw(st.lists(st.integers(lo, 3), min_size=rows * width,
                                      max_size=rows * width)), dtype=dtype).reshape(rows, width)
    got = words.starts_from_word_ids(ids)
    assert got.shape == ids.shape and got.dtype == np.uint8
    assert got.tolist() == [reference.word_starts_from_word_ids(r.tolist()) for r in ids]


@settings(max_examples=600, deadline=None, derandomize=True)
@given(span_rows())
def test_offsets_rule_matches_reference(spans):
    want = reference.word_starts_from_offsets(spans)
    assert words.starts_from_offsets(spans).tolist() == want


@settings(max_examples=600, deadline=None, derandomize=True)
@given(st.integers(1, 40), st.data())
def test_table_rule_matches_reference(vocab, data):
    table = bytes(data.draw(st.lists(st.integers(0, 2), min_size=vocab, max_size=vocab)))
    ids = data.draw(st.lists(st.integers(0, vocab - 1), max_size=50))
    assert words.starts_from_table(ids, table).tolist() == reference.word_starts_from_table(
        ids, table)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.integers(1, 20), st.integers(0, 5), st.integers(0, 9), st.data())
def test_table_rule_on_2d_ids_is_per_row(vocab, rows, width, data):
    table = bytes(data.draw(st.lists(st.integers(0, 2), min_size=vocab, max_size=vocab)))
    ids = np.array(data.draw(st.lists(st.integers(0, vocab - 1), min_size=rows * width,
                                      max_size=rows * width)), dtype=np.int64)
    ids = ids.reshape(rows, width)
    got = words.starts_from_table(ids, table)
    assert got.shape == ids.shape and got.dtype == np.uint8
    assert got.tolist() == [reference.word_starts_from_table(r.tolist(), table) for r in ids]


def test_edge_cases_of_each_rule():
    # None and negatives are "no word"; a repeated id continues a word, also after a gap
    assert words.starts_from_word_ids([None, 0, 0, -1, 0, 1, 1, None]).tolist() == \
        [1, 1, 0, 1, 1, 1, 0, 1]
    # (0, 0) specials, zero-width spans, touching and overlapping spans, a restart (pair)
    spans = [(0, 0), (0, 3), (3, 5), (4, 6), (6, 6), (7, 9), (0, 0), (0, 2), (2, 4)]
    assert words.starts_from_offsets(spans).tolist() == [1, 1, 0, 0, 1, 1, 1, 1, 0]
    assert reference.word_starts_from_offsets(spans) == [1, 1, 0, 0, 1, 1, 1, 1, 0]
    table = bytes([2, 1, 0])  # 0 stands alone, 1 starts, 2 continues
    assert words.starts_from_table([2, 0, 2, 1, 2, 2], table).tolist() == [1, 1, 1, 1, 0, 0]
    for f in (words.starts_from_word_ids([]), words.starts_from_offsets([]),
              words.starts_from_table([], table)):
        assert f.tolist() == []


def test_errors_name_argument_and_position():
    with pytest.raises(TypeError, match=r"word_ids\[1\]\[2\]"):
        words.starts_from_word_ids([[0], [0, 1, "x"]])
    with pytest.raises(ValueError, match=r"offsets\[1\]\[2\] = \(3, 2\)"):
        words.starts_from_offsets([[(0, 1)], [(0, 1), (1, 2), (3, 2)]])
    with pytest.raises(ValueError, match=r"ids\[1, 2\] = 7 is outside the table's \[0, 3\)"):
        words.starts_from_table(np.array([[0, 1, 2], [0, 1, 7]]), bytes([1, 0, 2]))


def test_rules_run_in_the_c_core():
    # one flat call over several rows: the C status and flat position come back unchanged
    flags, rc, pos = _rules.flat_starts(_rules.TABLE, np.array([0, 1, 5]), None,
                                        np.array([1, 0, 2], dtype=np.uint8))
    assert rc == fastmask._core.ERR_ID_RANGE and pos == 2
    flags, rc, pos = _rules.flat_starts(_rules.WORD_IDS, np.array([3, 3, 3, 3]),
                                        np.array([0, 2, 4]))
    assert rc == fastmask._core.OK and flags.tolist() == [1, 0, 1, 0]


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("max_length", [None, 3, 6])
def test_masker_word_starts_under_truncation_and_padding(side, max_length):
    # whole-word masking from word ids / offsets picks the same words as the reference, with
    # truncation cutting rows and left or right padding
    rows = [[5, 6, 7, 8, 9, 10, 11], [5, 6, 7], []]
    word_ids = [[None, 0, 0, 1, 1, 1, None], [None, 0, 0], []]
    offsets = [[(0, 0), (0, 2), (2, 3), (4, 5), (5, 6), (6, 7), (0, 0)],
               [(0, 0), (0, 1), (1, 2)], []]
    opts = dict(vocab_size=20, mask_token_id=4, pad_token_id=0, special_ids=[0, 1, 2, 3],
                mlm_probability=0.5, whole_word=True, seed=3, padding_side=side)
    if max_length is not None:
        opts.update(max_length=max_length, truncation=True)
    for side_input in ({"word_ids": word_ids}, {"offset_mapping": offsets}):
        for epoch in range(20):
            c = fastmask.Masker(**opts)(rows, sample_ids=[0, 1, 2], epoch=epoch, **side_input)
            r = reference.Masker(**opts)(rows, sample_ids=[0, 1, 2], epoch=epoch, **side_input)
            assert set(c) == set(r)
            for k in c:
                assert (c[k] == r[k]).all(), (k, side_input.keys())
