"""Parity with Hugging Face's DataCollatorForLanguageModeling on the same examples.

Layout (keys, dtypes, shapes, padding, attention_mask, token_type_ids, ignore index) must match
exactly. The masks themselves come from different generators, so their rates are compared
statistically: with a fixed seed and at least 1M candidate tokens per side, every rate must lie
within z <= 5 of its nominal value (binomial standard error) and the two collators' rates
within z <= 5 of each other (two-sample, pooled variance). For a correct implementation a
z-score above 5 has probability below 6e-7 per comparison.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("transformers")

import transformers  # noqa: E402
from test_torch_helpers import (  # noqa: E402
    binomial_z,
    grouped_blocks,
    tokenized_examples,
    two_sample_z,
    wordpiece_tokenizer,
)

from fastmask.torch import MLMCollator  # noqa: E402

transformers.logging.set_verbosity_error()
Z_MAX = 5.0


@pytest.fixture(scope="module")
def tok():
    return wordpiece_tokenizer()


def hf_collator(tokenizer, **kw):
    return transformers.DataCollatorForLanguageModeling(tokenizer, seed=0, **kw)


def originals(tokenizer, examples, **kw):
    """The padded, unmasked ids Hugging Face's padding produces."""
    if isinstance(examples[0], dict):
        feats = [{"input_ids": e["input_ids"]} for e in examples]
    else:
        feats = [{"input_ids": list(map(int, e))} for e in examples]
    return tokenizer.pad(feats, return_tensors="np", **kw)["input_ids"]


def check_layout(ours, theirs, orig, tokenizer, rt="pt"):
    """Same keys (ours may add attention_mask), dtypes, shapes, padding and masking contract."""
    assert set(theirs) <= set(ours), (set(theirs), set(ours))
    extra = set(ours) - set(theirs)
    assert extra <= {"attention_mask"}
    for k in theirs:
        a, b = ours[k], theirs[k]
        assert type(a) is type(b) or (rt == "pt" and isinstance(a, torch.Tensor)), k
        assert a.dtype == b.dtype, (k, a.dtype, b.dtype)
        assert tuple(a.shape) == tuple(b.shape), (k, a.shape, b.shape)
    for k in ("attention_mask", "token_type_ids"):
        if k in theirs:
            np.testing.assert_array_equal(np.asarray(ours[k]), np.asarray(theirs[k]))
    real = np.asarray(ours["attention_mask"]).astype(bool)
    assert orig.shape == real.shape
    for batch in (ours, theirs):
        ids, lab = np.asarray(batch["input_ids"]), np.asarray(batch["labels"])
        # padding: pad id, ignore label
        assert (ids[~real] == tokenizer.pad_token_id).all()
        assert (lab[~real] == -100).all()
        picked = lab != -100
        # labels hold the original id where picked; unpicked positions keep their id
        np.testing.assert_array_equal(lab[picked], orig[picked])
        np.testing.assert_array_equal(ids[~picked], orig[~picked])
        # special tokens are never picked
        assert not np.isin(orig[picked], tokenizer.all_special_ids).any()


# ---------------------------------------------------------------------------------------------
# layout parity


@pytest.mark.parametrize("form", ["dicts", "dicts with special_tokens_mask", "pairs", "lists",
                                  "tensors"])
@pytest.mark.parametrize("multiple", [None, 8])
def test_layout_matches_hugging_face(tok, form, multiple):
    ex = tokenized_examples(tok, 32, max_length=100, pairs=form == "pairs")
    if form in ("dicts", "pairs"):
        examples = [{k: e[k] for k in ("input_ids", "token_type_ids", "attention_mask")}
                    for e in ex]
    elif form == "dicts with special_tokens_mask":
        examples = ex
    elif form == "lists":
        examples = [e["input_ids"] for e in ex]
    else:
        examples = [torch.tensor(e["input_ids"]) for e in ex]
    ours = MLMCollator.from_tokenizer(tok, seed=1, pad_to_multiple_of=multiple)(examples)
    theirs = hf_collator(tok, pad_to_multiple_of=multiple)(examples)
    orig = originals(tok, examples, pad_to_multiple_of=multiple)
    check_layout(ours, theirs, orig, tok)
    if isinstance(examples[0], dict):
        assert set(ours) == set(theirs)
    else:  # Hugging Face returns no attention_mask for bare sequences; fastmask always does
        assert set(ours) == set(theirs) | {"attention_mask"}


def test_layout_matches_with_left_padding_and_numpy(tok):
    left = wordpiece_tokenizer(padding_side="left")
    ex = [{k: e[k] for k in ("input_ids", "token_type_ids", "attention_mask")}
          for e in tokenized_examples(left, 24, max_length=60)]
    ours = MLMCollator.from_tokenizer(left, seed=1, return_tensors="np")(ex)
    theirs = hf_collator(left, return_tensors="np")(ex)
    check_layout(ours, theirs, originals(left, ex), left, rt="np")
    assert ours["attention_mask"][:, -1].all() and not ours["attention_mask"][:, 0].all()


def test_causal_labels_match_hugging_face(tok):
    ex = [{k: e[k] for k in ("input_ids", "token_type_ids", "attention_mask")}
          for e in tokenized_examples(tok, 32, max_length=80)]
    for multiple in (None, 8):
        ours = MLMCollator.from_tokenizer(tok, mlm=False, pad_to_multiple_of=multiple)(ex)
        theirs = hf_collator(tok, mlm=False, pad_to_multiple_of=multiple)(ex)
        assert set(ours) == set(theirs)
        for k in theirs:
            assert ours[k].dtype == theirs[k].dtype
            assert torch.equal(ours[k], theirs[k]), k


# ---------------------------------------------------------------------------------------------
# statistical parity


def rates(batches, originals_, specials, mask_id):
    """Counts over candidate (non-special, non-padding) positions."""
    c = dict(candidates=0, picked=0, masked=0, random=0, kept=0, random_special=0)
    per_seq = []
    for b, orig in zip(batches, originals_):
        ids = np.asarray(b["input_ids"])
        lab = np.asarray(b["labels"])
        real = np.asarray(b["attention_mask"]).astype(bool)
        cand = real & ~np.isin(orig, specials)
        picked = lab != -100
        c["candidates"] += int(cand.sum())
        c["picked"] += int(picked.sum())
        per_seq.extend(picked.sum(axis=1).tolist())
        c["masked"] += int((picked & (ids == mask_id)).sum())
        changed = picked & (ids != mask_id) & (ids != orig)
        c["random"] += int(changed.sum())
        c["kept"] += int((picked & (ids == orig)).sum())
        c["random_special"] += int((changed & np.isin(ids, specials)).sum())
    return c, np.asarray(per_seq)


@pytest.fixture(scope="module")
def blocks(tok):
    # 2048 blocks of 512 tokens: about 1.04M candidate tokens per collator
    base = grouped_blocks(tok, 512, 200)
    return [base[i % len(base)] for i in range(2048)]


def test_picked_and_80_10_10_rates_match_hugging_face(tok, blocks):
    specials = tok.all_special_ids
    mask_id = tok.mask_token_id
    ours_c = MLMCollator.from_tokenizer(tok, seed=2024)
    theirs_c = hf_collator(tok)
    ours, theirs, origs = [], [], []
    for k in range(0, len(blocks), 256):
        chunk = blocks[k:k + 256]
        examples = [{"input_ids": ids, "sample_id": k + i} for i, ids in enumerate(chunk)]
        ours.append(ours_c(examples))
        theirs.append(theirs_c([{"input_ids": ids} for ids in chunk]))
        origs.append(originals(tok, chunk))
    a, a_seq = rates(ours, origs, specials, mask_id)
    b, b_seq = rates(theirs, origs, specials, mask_id)
    assert a["candidates"] == b["candidates"] >= 1_000_000
    n = a["candidates"]
    # picked fraction: nominal 0.15, and the two collators agree
    assert abs(binomial_z(a["picked"], n, 0.15)) <= Z_MAX, a
    assert abs(binomial_z(b["picked"], n, 0.15)) <= Z_MAX, b
    assert abs(two_sample_z(a["picked"], n, b["picked"], n)) <= Z_MAX
    # 80/10/10 among picked tokens. "kept" also counts a random draw equal to the original
    # (probability 0.1 / ~2000 = 5e-5, far below the ~4e-3 tolerance at 5 sigma)
    for key, p in (("masked", 0.8), ("random", 0.1), ("kept", 0.1)):
        assert abs(binomial_z(a[key], a["picked"], p)) <= Z_MAX, (key, a)
        assert abs(binomial_z(b[key], b["picked"], p)) <= Z_MAX, (key, b)
        assert abs(two_sample_z(a[key], a["picked"], b[key], b["picked"])) <= Z_MAX, key
    # random replacements: fastmask never draws special ids, Hugging Face may
    assert a["random_special"] == 0
    # per-sequence counts: both Binomial(candidates, 0.15); equal means and variances
    # (sd of a mean of 2048 counts ~ 0.18; of the variance ratio ~ 0.03)
    assert abs(a_seq.mean() - b_seq.mean()) <= Z_MAX * np.sqrt(
        (a_seq.var() + b_seq.var()) / len(a_seq))
    assert 0.8 <= a_seq.var() / b_seq.var() <= 1.25


def test_whole_word_rates_match_hugging_face(tok):
    """Whole words from offset_mapping; Hugging Face forces mask_replace_prob=1 here.

    Hugging Face's whole-word path cannot pad offset_mapping, so the examples are pre-padded
    to 64 tokens by the tokenizer (which also exercises fastmask's pre-padded path).
    """
    ex = tokenized_examples(tok, 7067, max_length=64, offsets=True, padding="max_length")
    feats = [{k: e[k] for k in ("input_ids", "attention_mask", "special_tokens_mask",
                                "offset_mapping")} for e in ex]
    ours_c = MLMCollator.from_tokenizer(tok, whole_word=True, mask_replace_prob=1.0,
                                        random_replace_prob=0.0, seed=7)
    with pytest.warns(UserWarning):
        theirs_c = hf_collator(tok, whole_word_mask=True)
    from fastmask.words import starts_from_offsets

    # global word number of every real, non-special position (-1 elsewhere)
    N, L = len(feats), 64
    word_of = np.full((N, L), -1, dtype=np.int64)
    for i, f in enumerate(feats):
        n = int(sum(f["attention_mask"]))
        starts = starts_from_offsets(f["offset_mapping"][:n]).astype(bool)
        special = np.asarray(f["special_tokens_mask"][:n]).astype(bool)
        word = np.cumsum(starts | special)
        word_of[i, :n][~special] = i * L + word[~special]
    valid = word_of.ravel() >= 0
    wid = word_of.ravel()[valid]
    size = np.bincount(wid)
    real_word = size > 0
    per_pass = int(real_word.sum())

    totals = {"ours": [0, 0], "theirs": [0, 0]}  # words, picked words
    reps = 0
    while totals["ours"][0] < 400_000:
        labels = {"ours": [], "theirs": []}
        for k in range(0, N, 512):
            chunk = feats[k:k + 512]
            b = ours_c([dict(f, sample_id=reps * N + k + i) for i, f in enumerate(chunk)])
            picked = b["labels"].numpy() != -100
            assert (b["input_ids"].numpy()[picked] == tok.mask_token_id).all()
            labels["ours"].append(picked)
            labels["theirs"].append(theirs_c([dict(f) for f in chunk])["labels"].numpy() != -100)
        for name, parts in labels.items():
            picked = np.concatenate(parts).ravel()
            assert not picked[~valid].any(), name  # specials and padding never picked
            per_word = np.bincount(wid, weights=picked[valid], minlength=size.shape[0])
            # a word is picked entirely or not at all
            assert ((per_word == 0) | (per_word == size))[real_word].all(), name
            totals[name][0] += per_pass
            totals[name][1] += int((per_word[real_word] > 0).sum())
        reps += 1
    wo, po = totals["ours"]
    wt, pt = totals["theirs"]
    assert wo == wt
    assert abs(binomial_z(po, wo, 0.15)) <= Z_MAX
    assert abs(binomial_z(pt, wt, 0.15)) <= Z_MAX
    assert abs(two_sample_z(po, wo, pt, wt)) <= Z_MAX
