"""The NumPy Masker as a drop-in next to the collator (issue 10 items 4 and 7, issue 12 F5):
no "every id is special" error when no random id can be drawn, chinese_ref on top of a word
table, Masker.from_tokenizer reading what MLMCollator.from_tokenizer reads."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import CLS, MASK, PAD, SEP, SPECIALS, TABLE_VOCAB, VOCAB, chinese_rows

import fastmask
import fastmask.reference as reference
from fastmask import words

ALL_SPECIAL = dict(pad_token_id=3, special_ids=list(range(10)), seed=1)


# ---------------------------------------------------------------------------------------------
# every id special: only an error when a random replacement can happen


@pytest.mark.parametrize("opts", [
    dict(random_replace_prob=0.0),
    dict(mask_replace_prob=1.0, random_replace_prob=0.0),
    dict(random_replace_prob=1e-12),  # 0 after the 32-bit threshold
    dict(mlm_probability=0.0),
    dict(max_predictions=0),
    dict(max_predictions=0, selection="exact"),
    dict(max_predictions=0, selection="span"),
])
def test_all_special_vocabulary_without_random_replacement(impl, opts):
    m = impl.Masker(10, 4, **ALL_SPECIAL, **opts)
    assert m.random_ids == "non_special"  # what was asked for is what is reported
    out = m([[1, 5, 6, 7, 2], [1, 8, 2]], sample_ids=[0, 1])
    assert (out["labels"] == -100).all()
    assert out["input_ids"].tolist() == [[1, 5, 6, 7, 2], [1, 8, 2, 3, 3]]
    # the C core and the reference agree on it
    other = (reference if impl is fastmask else fastmask).Masker(10, 4, **ALL_SPECIAL, **opts)
    got = other([[1, 5, 6, 7, 2], [1, 8, 2]], sample_ids=[0, 1])
    for k in out:
        np.testing.assert_array_equal(out[k], got[k])


@pytest.mark.parametrize("opts", [
    dict(),
    dict(mask_replace_prob=0.0, random_replace_prob=1.0),
    # the exact and span budgets pick at least one token even at probability 0
    dict(mlm_probability=0.0, selection="exact"),
    dict(mlm_probability=0.0, selection="span"),
])
def test_all_special_vocabulary_with_random_replacement_still_raises(impl, opts):
    with pytest.raises(ValueError, match="every id is special: no id is left for random "
                                         r"replacement \(pass random_replace_prob=0"):
        impl.Masker(10, 4, **ALL_SPECIAL, **opts)


def test_random_ids_all_on_an_all_special_vocabulary(impl):
    m = impl.Masker(10, 4, random_ids="all", **ALL_SPECIAL)
    assert (m([[1, 5, 6]])["labels"] == -100).all()


# ---------------------------------------------------------------------------------------------
# chinese_ref adds to the word table's boundaries, in the Masker itself

WW = dict(pad_token_id=PAD, special_ids=SPECIALS, seed=77, whole_word=True, mlm_probability=0.4)


def chinese_examples(n=24, seed=0):
    """(ids, chinese refs) of ``n`` rows of up to 91 tokens, a quarter of their characters ##
    pieces."""
    rows = chinese_rows(np.random.default_rng(seed), n, max_body=90, piece_every=4)
    return [ids for ids, _ in rows], [ref for _, ref in rows]


def test_chinese_ref_adds_to_the_masker_word_table(impl):
    ids, refs = chinese_examples()
    table = words.word_table(TABLE_VOCAB)
    starts = [words.starts_from_chinese_ref(len(r), c, base=words.starts_from_table(r, table))
              for r, c in zip(ids, refs)]
    sids = np.arange(len(ids)) + 100
    got = impl.Masker(VOCAB, MASK, word_table=TABLE_VOCAB, **WW)(ids, sample_ids=sids,
                                                                 chinese_ref=refs)
    want = impl.Masker(VOCAB, MASK, **WW)(ids, sample_ids=sids, word_starts=starts)
    for k in want:
        np.testing.assert_array_equal(got[k], want[k])
    # without a table chinese_ref still marks the continuations of all-ones boundaries
    plain = impl.Masker(VOCAB, MASK, **WW)(ids, sample_ids=sids, chinese_ref=refs)
    ones = [words.starts_from_chinese_ref(len(r), c) for r, c in zip(ids, refs)]
    want = impl.Masker(VOCAB, MASK, **WW)(ids, sample_ids=sids, word_starts=ones)
    np.testing.assert_array_equal(plain["labels"], want["labels"])


@pytest.mark.parametrize("form", ["lists", "2d", "flat", "truncated"])
def test_chinese_ref_with_table_c_and_reference_agree(form):
    ids, refs = chinese_examples(12, seed=3)
    opts = dict(WW, word_table=TABLE_VOCAB)
    call = dict(sample_ids=np.arange(12), chinese_ref=refs)
    x = ids
    if form == "truncated":
        opts.update(max_length=20, truncation=True)
    elif form == "2d":
        width = max(map(len, ids))
        x = np.array([r + [PAD] * (width - len(r)) for r in ids])
        call["lengths"] = [len(r) for r in ids]
    elif form == "flat":
        x = np.concatenate([np.asarray(r) for r in ids])
        call["offsets"] = np.concatenate([[0], np.cumsum([len(r) for r in ids])])
    a = fastmask.Masker(VOCAB, MASK, **opts)(x, **call)
    b = reference.Masker(VOCAB, MASK, **opts)(x, **call)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_chinese_ref_with_table_and_a_bad_id_names_the_id(impl):
    m = impl.Masker(VOCAB, MASK, word_table=TABLE_VOCAB, **WW)
    with pytest.raises(ValueError, match=str(VOCAB + 5)):
        m([[CLS, 10, VOCAB + 5, SEP]], chinese_ref=[[2]])


# ---------------------------------------------------------------------------------------------
# scalar per-example boundaries name the argument and the example


@pytest.mark.parametrize("name", ["word_ids", "offset_mapping"])
def test_scalar_boundaries_name_the_argument(impl, name):
    m = impl.Masker(VOCAB, MASK, **WW)
    with pytest.raises(TypeError, match=rf"^{name}\[1\] must be a list, got int"):
        m([[CLS, 10, SEP], [CLS, 12, SEP]], **{name: [[None, 0, None], 3]})
