"""MLMCollator as a drop-in for Hugging Face's collator: what a user of HF expects (issue 10,
items 1-6): seeds that follow torch's seeding, causal-LM batches without a pad token, fields as
tensors, configurations without random replacement, messages that name what the user called,
empty batches and the repr."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import CLS, MASK, PAD, SEP, SPECIALS, VOCAB, random_batch

import fastmask
from fastmask.torch import MLMCollator

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make(**kw):
    opts = dict(pad_token_id=PAD, special_ids=SPECIALS, seed=1234)
    opts.update(kw)
    return MLMCollator(VOCAB, MASK, **opts)


def batch_of(n=12, seed=0, lo=3, hi=40):
    return random_batch(np.random.default_rng(seed), n=n, lo=lo, hi=hi)


class Tok:
    """The slice of a Hugging Face tokenizer that from_tokenizer reads."""

    def __init__(self, vocab, mask=MASK, pad=PAD):
        self.vocab = dict(vocab)
        self.mask_token_id = mask
        self.pad_token_id = pad
        self.all_special_ids = [i for i in (PAD, 1, CLS, SEP, MASK) if i is not None]
        self.padding_side = "right"

    def __len__(self):
        return len(self.vocab)

    def get_vocab(self):
        return dict(self.vocab)


def wordpiece_vocab(n=VOCAB):
    v = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4}
    for i in range(5, n):
        v[f"##p{i}" if i % 2 else f"w{i}"] = i
    return v


def unmarked_vocab(n=VOCAB):
    """A vocabulary with no subword markers at all: its convention cannot be told."""
    v = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4}
    for i in range(5, n):
        v[f"t{i}"] = i
    return v


# ---------------------------------------------------------------------------------------------
# 1. seeds follow the framework's seeding

SEED_SCRIPT = r"""
import json, sys
import torch
how, value = sys.argv[1], int(sys.argv[2])
if how == "set_seed":
    import transformers
    transformers.set_seed(value)
elif how == "manual_seed":
    torch.manual_seed(value)
from fastmask.torch import MLMCollator
rows = [[2] + list(range(10 + k, 200 + k)) + [3] for k in range(8)]
c = MLMCollator(1000, 4, pad_token_id=0, special_ids=[0, 1, 2, 3, 4])
b = c(rows)
print(json.dumps({"seed": c.seed, "labels": b["labels"].tolist(), "ids": b["input_ids"].tolist()}))
"""


def run_seeded(how, value=0):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    res = subprocess.run([sys.executable, "-c", SEED_SCRIPT, how, str(value)], env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_seed_follows_set_seed_and_manual_seed_across_processes():
    a = run_seeded("set_seed", 0)
    b = run_seeded("manual_seed", 0)
    c = run_seeded("set_seed", 1)
    # transformers.set_seed(0) seeds torch's default generator like torch.manual_seed(0)
    assert a == b
    assert (np.asarray(a["labels"]) != -100).any()
    assert c["seed"] != a["seed"]
    assert c["labels"] != a["labels"]


def test_seed_is_drawn_from_torch_when_not_given():
    torch.manual_seed(123)
    a = make(seed=None)
    torch.manual_seed(123)
    b = MLMCollator.from_tokenizer(Tok(wordpiece_vocab()))
    assert a.seed == b.seed
    c = make(seed=None)  # the generator moved on: another seed
    assert c.seed != a.seed
    seqs = batch_of()
    np.testing.assert_array_equal(a(seqs)["labels"].numpy(), b(seqs)["labels"].numpy())
    assert make(seed=7).seed == 7  # an explicit seed is kept, 0 included
    assert make(seed=0).seed == 0


# ---------------------------------------------------------------------------------------------
# 2. causal-LM batches without a pad token (GPT-2-style tokenizers)


def test_mlm_false_without_a_pad_token():
    tok = Tok(wordpiece_vocab(), mask=None, pad=None)
    c = MLMCollator.from_tokenizer(tok, mlm=False)
    assert c.pad_token_id is None
    rows = [[CLS, 10, 11, SEP], [CLS, 12, 13, SEP]]
    b = c(rows)
    assert b["input_ids"].tolist() == rows and b["labels"].tolist() == rows
    assert b["attention_mask"].tolist() == [[1] * 4] * 2
    with pytest.raises(ValueError, match="pad token"):
        c([[CLS, 10, SEP], [CLS, 12, 13, SEP]])
    with pytest.raises(ValueError, match="pad token"):
        MLMCollator.from_tokenizer(tok, mlm=False, pad_to_multiple_of=8)(rows)
    # without padding in the output, no pad token is needed
    flat = MLMCollator.from_tokenizer(tok, mlm=False, flatten=True)(
        [[CLS, 10, SEP], [CLS, 12, 13, SEP]])
    assert flat["input_ids"].tolist() == [[CLS, 10, SEP, CLS, 12, 13, SEP]]
    # masked-LM batches still need one
    with pytest.raises(ValueError, match="pad_token"):
        MLMCollator.from_tokenizer(Tok(wordpiece_vocab(), pad=None))


# ---------------------------------------------------------------------------------------------
# 3. offset_mapping (and every other field) as a tensor or any array


class ArrayLike:
    """An object that is only convertible to an array (``__array__``)."""

    def __init__(self, a):
        self.a = np.asarray(a)

    def __array__(self, dtype=None, copy=None):
        return self.a if dtype is None else self.a.astype(dtype)

    def __len__(self):
        return len(self.a)


@pytest.mark.parametrize("form", ["tensor", "array", "array-like", "tuples"])
def test_offset_mapping_in_any_array_form(form):
    seqs = batch_of(6, seed=4, lo=4)
    offsets = [[(3 * j, 3 * j + 2 - (j % 2)) if j % 3 else (3 * j, 3 * j + 3)
                for j in range(len(s))] for s in seqs]
    want = make(whole_word=True)(
        [{"input_ids": s, "offset_mapping": o, "sample_id": i}
         for i, (s, o) in enumerate(zip(seqs, offsets))])
    conv = {"tensor": torch.tensor, "array": np.asarray, "array-like": ArrayLike,
            "tuples": lambda o: tuple(tuple(x) if isinstance(x, (list, tuple)) else x
                                      for x in o)}[form]
    examples = [{"input_ids": conv(s), "offset_mapping": conv(o), "sample_id": i,
                 "token_type_ids": conv([0] * len(s)), "special_tokens_mask":
                 conv([1] + [0] * (len(s) - 2) + [1]), "attention_mask": conv([1] * len(s))}
                for i, (s, o) in enumerate(zip(seqs, offsets))]
    got = make(whole_word=True)(examples)
    for k in want:
        assert torch.equal(got[k], want[k]), k


def test_batch_encoding_converted_to_tensors():
    """A batched dict of tensors, as BatchEncoding.convert_to_tensors("pt") leaves it."""
    seqs = [[CLS, 10, 11, 12, SEP], [CLS, 13, 14, SEP, PAD]]
    enc = {"input_ids": torch.tensor(seqs),
           "attention_mask": torch.tensor([[1] * 5, [1, 1, 1, 1, 0]]),
           "offset_mapping": torch.tensor([[[0, 0], [0, 2], [2, 4], [5, 6], [0, 0]],
                                           [[0, 0], [0, 3], [4, 5], [0, 0], [0, 0]]])}
    b = make(whole_word=True, mlm_probability=1.0)(enc)
    assert b["attention_mask"].tolist() == [[1] * 5, [1, 1, 1, 1, 0]]
    # ids 10 and 11 touch (one word), 12 and 13/14 are words of their own; specials and the
    # example's own padding are never picked
    assert (b["labels"] != -100).tolist() == [[False, True, True, True, False],
                                               [False, True, True, False, False]]


# ---------------------------------------------------------------------------------------------
# 4. no random replacement: the set of drawable ids does not matter


@pytest.mark.parametrize("opts", [dict(random_replace_prob=0.0),
                                  dict(mask_replace_prob=1.0, random_replace_prob=0.0),
                                  dict(mlm_probability=0.0), dict(max_predictions=0,
                                                                  selection="exact")])
def test_all_special_vocabulary_without_random_replacement(opts):
    specials = list(range(10))
    c = MLMCollator(10, 4, pad_token_id=3, special_ids=specials, seed=1, **opts)
    b = c([[1, 5, 6, 7, 2], [1, 8, 2]])
    assert (b["labels"] == -100).all()  # every id is special: nothing is ever picked
    # with random replacement possible, the collator still says why it cannot work
    with pytest.raises(ValueError, match="every id is special"):
        MLMCollator(10, 4, pad_token_id=3, special_ids=specials, seed=1)


def test_no_random_replacement_masks_as_before():
    """Dropping the random draw set changes nothing when no random id is drawn."""
    seqs = batch_of(16, seed=9)
    sids = np.arange(16)
    opts = dict(pad_token_id=PAD, special_ids=SPECIALS, seed=5, random_replace_prob=0.0)
    want = fastmask.Masker(VOCAB, MASK, **opts)(seqs, sample_ids=sids)
    got = MLMCollator(VOCAB, MASK, **opts)(
        [{"input_ids": s, "sample_id": i} for i, s in enumerate(seqs)], return_tensors="np")
    for k in want:
        if k in got:
            np.testing.assert_array_equal(got[k], want[k])


# ---------------------------------------------------------------------------------------------
# 5. messages name what the user called


def test_misspelled_option_is_reported_against_the_call():
    tok = Tok(wordpiece_vocab())
    with pytest.raises(TypeError) as e:
        MLMCollator.from_tokenizer(tok, mlm_probabilty=0.2)
    msg = str(e.value)
    assert msg.startswith("MLMCollator.from_tokenizer() got an unexpected keyword argument "
                          "'mlm_probabilty'")
    assert "did you mean 'mlm_probability'" in msg
    for name in ("mlm_probability", "whole_word_mask", "pad_to_multiple_of", "dupe_factor",
                 "seed", "return_tensors"):
        assert name in msg
    assert "Masker" not in msg
    with pytest.raises(TypeError, match=r"^MLMCollator\(\) got an unexpected keyword argument "
                                        r"'padding_sid' \(did you mean 'padding_side'\?\)"):
        make(padding_sid="left")


def test_convention_errors_name_word_convention():
    with pytest.raises(ValueError, match="word_convention"):
        make(whole_word=True, word_convention="wordpeice")
    with pytest.raises(ValueError, match="word_convention"):
        MLMCollator.from_tokenizer(Tok(wordpiece_vocab()), whole_word=True,
                                   word_convention="bpe")


def test_undetectable_convention_uses_the_examples_boundaries():
    tok = Tok(unmarked_vocab())
    c = MLMCollator.from_tokenizer(tok, whole_word=True, mlm_probability=0.5, seed=3)
    seqs = [[CLS] + list(range(10, 70)) + [SEP] for _ in range(10)]
    word_ids = [None] + [j // 3 for j in range(60)] + [None]
    b = c([{"input_ids": s, "word_ids": word_ids} for s in seqs])
    picked = (b["labels"] != -100).numpy()[:, 1:61].reshape(10, 20, 3)
    assert picked.any() and (picked == picked[:, :, :1]).all()
    with pytest.raises(ValueError, match="word_convention") as e:
        c(seqs)  # no boundaries in the examples and none from the vocabulary
    assert "word_ids" in str(e.value) and "cannot tell" in str(e.value)
    # naming the convention builds the table
    d = MLMCollator.from_tokenizer(tok, whole_word=True, word_convention="wordpiece", seed=3)
    assert d(seqs)["labels"].shape == (10, 62)


# ---------------------------------------------------------------------------------------------
# 6. empty batches and the repr


@pytest.mark.parametrize("kw,width", [(dict(), 0), (dict(padding="max_length", max_length=12), 12),
                                      (dict(mlm=False), 0),
                                      (dict(mlm=False, padding="max_length", max_length=5), 5)])
def test_empty_batch_gives_zero_rows(kw, width):
    c = make(**kw)
    for empty in ([], (), {"input_ids": []}):
        b = c(empty)
        assert set(b) == {"input_ids", "attention_mask", "labels"}
        for v in b.values():
            assert tuple(v.shape) == (0, width) and v.dtype == torch.int64
    assert c([], return_tensors="np")["labels"].shape == (0, width)
    flat = make(flatten=True, **{k: v for k, v in kw.items() if k == "mlm"})([])
    assert tuple(flat["input_ids"].shape) == (1, 0) and flat["cu_seq_lens_q"].tolist() == [0]


def test_repr_prints_the_seed_once():
    for c in (make(), make(seed=None), make(mlm=False)):
        r = repr(c)
        assert r.count("seed=") == 1, r
    assert "seed=1234" in repr(make())
