"""``chinese_ref`` through the collator, alone and mixed with the other boundary sources
(the vocabulary's word table, ``word_ids``, ``offset_mapping``), on the C core and the
reference (issue 12: this path was never executed)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import MASK, PAD, SPECIALS, TABLE_VOCAB, VOCAB, chinese_rows

import fastmask
import fastmask.reference as reference
from fastmask import words
from fastmask.torch import MLMCollator


class RefCollator(MLMCollator):
    _masker_class = reference.Masker


@pytest.fixture
def collator_cls(impl):
    return MLMCollator if impl is fastmask else RefCollator


OPTS = dict(pad_token_id=PAD, special_ids=SPECIALS, seed=77, whole_word=True,
            mlm_probability=0.4)


def examples(n=24, seed=0):
    """Sequences of 'characters' (even ids) with a few ## pieces, and Chinese word refs."""
    rows = chinese_rows(np.random.default_rng(seed), n, max_body=40, piece_every=5)
    return [{"input_ids": ids, "chinese_ref": ref, "sample_id": 100 + i}
            for i, (ids, ref) in enumerate(rows)]


def starts_of(ex, table=True):
    base = words.starts_from_table(ex["input_ids"], words.word_table(TABLE_VOCAB)) if table \
        else None
    return words.starts_from_chinese_ref(len(ex["input_ids"]), ex["chinese_ref"], base=base)


def assert_whole_words(labels, exs, starts):
    """Every word (a start and the continuations after it) is picked entirely or not at all."""
    picked = np.asarray(labels) != -100
    n_words = 0
    for i, ex in enumerate(exs):
        f = starts[i]
        n = len(ex["input_ids"])
        j = 1
        while j < n - 1:
            k = j + 1
            while k < n - 1 and not f[k]:
                k += 1
            assert len(set(picked[i, j:k].tolist())) == 1, (i, j, k)
            n_words += 1
            j = k
    assert picked.any() and n_words


def test_chinese_ref_alone_matches_the_masker(collator_cls, impl):
    exs = examples()
    c = collator_cls(VOCAB, MASK, word_table=None, **OPTS)
    got = c(exs)
    want = impl.Masker(VOCAB, MASK, **OPTS)([e["input_ids"] for e in exs],
                                            sample_ids=[e["sample_id"] for e in exs],
                                            chinese_ref=[e["chinese_ref"] for e in exs])
    for k in ("input_ids", "labels", "attention_mask"):
        np.testing.assert_array_equal(got[k].numpy(), want[k])
    assert_whole_words(got["labels"], exs, [starts_of(e, table=False) for e in exs])


def test_chinese_ref_adds_to_the_word_table(collator_cls):
    """With a vocabulary, ## pieces continue their word and chinese_ref joins characters."""
    exs = examples(seed=1)
    c = collator_cls(VOCAB, MASK, word_table=TABLE_VOCAB, **OPTS)
    got = c(exs)
    starts = [starts_of(e) for e in exs]
    assert_whole_words(got["labels"], exs, starts)
    want = fastmask.Masker(VOCAB, MASK, **OPTS)(
        [e["input_ids"] for e in exs], sample_ids=[e["sample_id"] for e in exs],
        word_starts=starts)
    np.testing.assert_array_equal(got["labels"].numpy(), want["labels"])


@pytest.mark.parametrize("source", ["word_ids", "offset_mapping", "both"])
def test_chinese_ref_mixed_with_word_ids_or_offsets(collator_cls, impl, source):
    exs = examples(seed=2)
    for e in exs:
        n = len(e["input_ids"])
        # words of two tokens from the tokenizer; chinese_ref joins more
        wid = [None] + [j // 2 for j in range(n - 2)] + [None]
        offs = [(0, 0)] + [(3 * (j // 2) + j % 2, 3 * (j // 2) + j % 2 + 1)
                           for j in range(n - 2)] + [(0, 0)]
        if source in ("word_ids", "both"):
            e["word_ids"] = wid
        if source in ("offset_mapping", "both"):
            e["offset_mapping"] = offs
    c = collator_cls(VOCAB, MASK, word_table=TABLE_VOCAB, **OPTS)
    got = c(exs)
    # the examples' boundaries take precedence over the table; word_ids over offset_mapping
    key = "offset_mapping" if source == "offset_mapping" else "word_ids"
    want = impl.Masker(VOCAB, MASK, **OPTS)(
        [e["input_ids"] for e in exs], sample_ids=[e["sample_id"] for e in exs],
        chinese_ref=[e["chinese_ref"] for e in exs], **{key: [e[key] for e in exs]})
    for k in ("input_ids", "labels"):
        np.testing.assert_array_equal(got[k].numpy(), want[k])
    base = [words.starts_from_word_ids(e["word_ids"]) if key == "word_ids"
            else words.starts_from_offsets(e["offset_mapping"]) for e in exs]
    starts = [words.starts_from_chinese_ref(len(e["input_ids"]), e["chinese_ref"], base=b)
              for e, b in zip(exs, base)]
    assert_whole_words(got["labels"], exs, starts)


def test_chinese_ref_as_tensors_and_without_whole_word():
    exs = examples(8, seed=3)
    c = MLMCollator(VOCAB, MASK, word_table=None, **OPTS)
    want = c(exs)
    as_tensors = [dict(e, chinese_ref=torch.tensor(e["chinese_ref"], dtype=torch.int64))
                  for e in exs]
    assert torch.equal(c(as_tensors)["labels"], want["labels"])
    # without whole_word the field is dropped like the other boundary fields
    plain = {k: v for k, v in OPTS.items() if k != "whole_word"}
    a = MLMCollator(VOCAB, MASK, **plain)(exs)
    b = MLMCollator(VOCAB, MASK, **plain)([{k: v for k, v in e.items() if k != "chinese_ref"}
                                          for e in exs])
    assert set(a) == {"input_ids", "attention_mask", "labels"}
    assert torch.equal(a["labels"], b["labels"])


def test_bad_chinese_ref_is_named():
    c = MLMCollator(VOCAB, MASK, word_table=TABLE_VOCAB, **OPTS)
    exs = examples(3, seed=4)
    exs[1]["chinese_ref"] = [1, len(exs[1]["input_ids"]) + 5]
    with pytest.raises(ValueError, match=r"chinese_ref\[1\]"):
        c(exs)
    exs = examples(3, seed=4)
    exs[2]["input_ids"][3] = VOCAB + 1  # the id is named, not the table lookup
    with pytest.raises(ValueError, match=r"input_ids\[2\]\[3\]"):
        c(exs)
