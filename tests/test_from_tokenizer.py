"""Masker.from_tokenizer (issue 10 item 7): the vocabulary facts the collator reads, read by the
same function, so that for the same seed and sample ids the NumPy Masker masks exactly like
MLMCollator.from_tokenizer. The tokenizer is a WordPiece tokenizer trained locally
(tests/test_torch_helpers.py); nothing is downloaded."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from test_torch_helpers import tokenized_examples, wordpiece_tokenizer  # noqa: E402

import fastmask  # noqa: E402
import fastmask.reference as reference  # noqa: E402
from fastmask.torch import MLMCollator  # noqa: E402
from fastmask.vocab import masker_arguments, read_vocab  # noqa: E402


class RefCollator(MLMCollator):
    _masker_class = reference.Masker


@pytest.fixture(scope="module")
def tok():
    return wordpiece_tokenizer()


@pytest.fixture(scope="module")
def left_tok():
    return wordpiece_tokenizer(padding_side="left")


def masker_batch(masker, examples, sids, **kw):
    return masker([e["input_ids"] for e in examples], sample_ids=sids, **kw)


def collator_batch(collator, examples, sids):
    exs = [{"input_ids": e["input_ids"], "sample_id": s} for e, s in zip(examples, sids)]
    return collator(exs, return_tensors="np")


@pytest.mark.parametrize("opts", [dict(), dict(whole_word=True, mlm_probability=0.3),
                                  dict(whole_word_mask=True), dict(selection="exact",
                                                                    max_predictions=5),
                                  dict(pad_to_multiple_of=8, mask_replace_prob=0.5,
                                       random_replace_prob=0.4)])
def test_masker_from_tokenizer_masks_like_the_collator(tok, impl, opts):
    exs = tokenized_examples(tok, 32)
    sids = np.arange(32) * 3 + 11
    m = impl.Masker.from_tokenizer(tok, seed=2024, **opts)
    coll = (MLMCollator if impl is fastmask else RefCollator).from_tokenizer(tok, seed=2024,
                                                                             **opts)
    want = collator_batch(coll, exs, sids)
    got = masker_batch(m, exs, sids)
    for k in ("input_ids", "attention_mask", "labels"):
        np.testing.assert_array_equal(got[k], want[k])
    assert (got["labels"] != -100).any()


def test_masker_from_tokenizer_reads_the_tokenizer(tok, left_tok):
    m = fastmask.Masker.from_tokenizer(tok, seed=1)
    assert m.vocab_size == len(tok)
    assert m.mask_token_id == tok.mask_token_id
    assert m.layout.pad_token_id == tok.pad_token_id
    assert set(tok.all_special_ids) <= set(m.special_ids)
    assert type(m) is fastmask.Masker
    assert type(reference.Masker.from_tokenizer(tok, seed=1)) is reference.Masker
    # the padding side follows the tokenizer unless given
    exs = tokenized_examples(tok, 4)
    out = fastmask.Masker.from_tokenizer(left_tok, seed=1)([e["input_ids"] for e in exs])
    assert (out["attention_mask"][:, -1] == 1).all() and (out["attention_mask"][:, 0] == 0).any()
    right = fastmask.Masker.from_tokenizer(left_tok, seed=1, padding_side="right")
    assert right.layout.padding_side == "right"
    # explicit options override the tokenizer
    small = fastmask.Masker.from_tokenizer(tok, vocab_size=10, mask_token_id=4, seed=1)
    assert small.vocab_size == 10 and small.mask_token_id == 4
    assert all(s < 10 for s in small.special_ids)


def test_one_reader_of_the_facts(tok):
    """masker_arguments reads read_vocab's facts, as both from_tokenizer methods do."""
    facts = read_vocab(tok, guess=False)
    size, mask_id, opts = masker_arguments(tok, {})
    assert (size, mask_id) == (facts.vocab_size, facts.mask_token_id) == (len(tok),
                                                                          tok.mask_token_id)
    assert opts["pad_token_id"] == tok.pad_token_id
    assert opts["special_ids"] == sorted(set(tok.all_special_ids))
    assert opts["padding_side"] == tok.padding_side == facts.padding_side
    c = MLMCollator.from_tokenizer(tok, seed=5)
    m = fastmask.Masker.from_tokenizer(tok, seed=5)
    assert (c.vocab_size, c.mask_token_id, c.pad_token_id) == (
        m.vocab_size, m.mask_token_id, m.layout.pad_token_id)


@pytest.mark.parametrize("cls", [fastmask.Masker, reference.Masker])
def test_misspelled_option_is_reported_against_masker_from_tokenizer(tok, cls):
    with pytest.raises(TypeError) as e:
        cls.from_tokenizer(tok, mlm_probabilty=0.2)
    msg = str(e.value)
    assert msg.startswith("Masker.from_tokenizer() got an unexpected keyword argument "
                          "'mlm_probabilty' (did you mean 'mlm_probability'?); valid options: ")
    for name in ("mlm_probability", "whole_word_mask", "vocab_size", "max_predictions", "seed",
                 "num_threads"):
        assert name in msg
    # collator-only options are not Masker options
    with pytest.raises(TypeError, match="'dupe_factor'"):
        cls.from_tokenizer(tok, dupe_factor=2)


def test_from_tokenizer_without_a_mask_or_pad_token_says_so():
    class Tok:
        def __init__(self, mask, pad):
            self.mask_token_id, self.pad_token_id = mask, pad
            self.all_special_ids = [i for i in (mask, pad) if i is not None]

        def __len__(self):
            return 50

        def get_vocab(self):
            return {"[MASK]": 4, "[PAD]": 0, **{f"w{i}": i for i in range(5, 50)}}

    # the tokenizer's own facts only: no token is looked up by name
    with pytest.raises(ValueError, match="mask_token_id"):
        fastmask.Masker.from_tokenizer(Tok(None, 0))
    with pytest.raises(ValueError, match="pad_token"):
        fastmask.Masker.from_tokenizer(Tok(4, None))
    assert fastmask.Masker.from_tokenizer(Tok(4, None), pad_token_id=0).layout.pad_token_id == 0
    with pytest.raises(TypeError, match="tokenizer must be"):
        fastmask.Masker.from_tokenizer(object())
