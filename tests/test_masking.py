"""Masking and padding semantics, run against the C core and the reference (``impl`` fixture)."""

import math

import numpy as np
import pytest
from conftest import CLS, MASK, PAD, SEP, SPECIALS, VOCAB, make_masker, random_batch


def check_contract(batch, out, masker, left=False):
    """Invariants every output must satisfy, whatever the options."""
    ids, labels, att = out["input_ids"], out["labels"], out["attention_mask"]
    B, L = ids.shape
    assert labels.shape == att.shape == (B, L)
    for i, seq in enumerate(batch):
        lay = masker.layout
        # truncation keeps max_length tokens, not the (possibly rounded-up) padded width
        n = min(len(seq), lay.max_length if lay.truncation else L)
        sl = slice(L - n, L) if left else slice(0, n)
        pad = slice(0, L - n) if left else slice(n, L)
        assert (att[i, sl] == 1).all() and (att[i, pad] == 0).all()
        assert (ids[i, pad] == masker.layout.pad_token_id).all()
        assert (labels[i, pad] == masker.ignore_index).all()
        orig = np.asarray(seq[:n], dtype=np.int64)
        got = ids[i, sl].astype(np.int64)
        lab = labels[i, sl].astype(np.int64)
        picked = lab != masker.ignore_index
        # labels hold the original id where picked
        assert (lab[picked] == orig[picked]).all()
        # unpicked positions are unchanged
        assert (got[~picked] == orig[~picked]).all()
        # specials are never picked
        assert not np.isin(orig[picked], masker.special_ids).any()


def test_defaults_and_contract(impl):
    rng = np.random.default_rng(0)
    batch = random_batch(rng, 32)
    m = make_masker(impl)
    assert (m.mlm_probability, m.mask_replace_prob, m.random_replace_prob) == (0.15, 0.8, 0.1)
    assert m.selection == "bernoulli" and m.ignore_index == -100
    out = m(batch)
    assert set(out) == {"input_ids", "attention_mask", "labels"}
    assert out["input_ids"].dtype == np.int64
    assert out["input_ids"].shape == (32, max(len(s) for s in batch))
    check_contract(batch, out, m)
    assert (out["labels"] != -100).sum() > 0


def test_picked_tokens_are_replaced_by_the_rule(impl):
    rng = np.random.default_rng(1)
    batch = random_batch(rng, 64, 30, 60)
    m = make_masker(impl, mlm_probability=0.5)
    out = m(batch)
    picked = out["labels"] != -100
    new = out["input_ids"][picked]
    old = out["labels"][picked]
    is_mask = new == MASK
    kept = new == old
    randomised = ~is_mask & ~kept
    assert is_mask.sum() > kept.sum() and is_mask.sum() > randomised.sum()
    # and in the configured proportions: 80/10/10 within |z| <= 5 (a 50/25/25 split is off by
    # z > 20 here; a random id equal to the original counts as kept, probability ~1/1000)
    k = int(picked.sum())
    assert k > 1000

    def z(count, p):
        return (count - k * p) / math.sqrt(k * p * (1 - p))

    assert abs(z(int(is_mask.sum()), 0.8)) <= 5
    assert abs(z(int(kept.sum()), 0.1)) <= 5
    assert abs(z(int(randomised.sum()), 0.1)) <= 5
    # random replacements never produce a special id by default
    assert not np.isin(new[randomised], SPECIALS).any()


def test_inputs_are_not_modified(impl):
    rng = np.random.default_rng(2)
    lists = random_batch(rng, 8)
    arrays = [np.array(s, dtype=np.int64) for s in lists]
    before_l = [list(s) for s in lists]
    before_a = [a.copy() for a in arrays]
    m = make_masker(impl, mlm_probability=1.0)
    m(lists)
    m(arrays)
    padded = m.pad(lists)["input_ids"]
    pcopy = padded.copy()
    m(padded, lengths=[len(s) for s in lists])
    assert lists == before_l
    assert all((a == b).all() for a, b in zip(arrays, before_a))
    assert (padded == pcopy).all()


@pytest.mark.parametrize("side", ["right", "left"])
def test_padding_layout(impl, side):
    batch = [[CLS, 10, 11, SEP], [CLS, SEP], []]
    m = make_masker(impl, padding_side=side, mlm_probability=0.0)
    out = m(batch)
    if side == "right":
        assert out["input_ids"].tolist() == [[CLS, 10, 11, SEP], [CLS, SEP, PAD, PAD],
                                             [PAD] * 4]
        assert out["attention_mask"].tolist() == [[1, 1, 1, 1], [1, 1, 0, 0], [0, 0, 0, 0]]
    else:
        assert out["input_ids"].tolist() == [[CLS, 10, 11, SEP], [PAD, PAD, CLS, SEP],
                                             [PAD] * 4]
        assert out["attention_mask"].tolist() == [[1, 1, 1, 1], [0, 0, 1, 1], [0, 0, 0, 0]]
    assert (out["labels"] == -100).all()


def test_pad_to_multiple_and_max_length(impl):
    batch = [[CLS] + [7] * 9 + [SEP], [CLS, SEP]]
    m = make_masker(impl, pad_to_multiple_of=8)
    assert m(batch)["input_ids"].shape == (2, 16)
    m = make_masker(impl, padding="max_length", max_length=20)
    assert m(batch)["input_ids"].shape == (2, 20)
    m = make_masker(impl, padding="max_length", max_length=20, pad_to_multiple_of=8)
    assert m(batch)["input_ids"].shape == (2, 24)
    m = make_masker(impl, max_length=5, truncation=True, mlm_probability=1.0)
    out = m(batch)
    assert out["input_ids"].shape == (2, 5)
    assert out["labels"][0].tolist() == [-100, 7, 7, 7, 7]
    m = make_masker(impl, max_length=5)
    with pytest.raises(ValueError, match=r"input_ids\[0\] has 11 tokens.*max_length=5"):
        m(batch)


def test_int32_output(impl):
    rng = np.random.default_rng(3)
    batch = random_batch(rng, 8)
    a = make_masker(impl)(batch)
    b = make_masker(impl, dtype="int32")(batch)
    for k in a:
        assert b[k].dtype == np.int32
        assert (a[k] == b[k]).all()


def test_side_inputs_are_padded(impl):
    batch = [[CLS, 10, 11, SEP], [CLS, 12, SEP]]
    types = [[0, 0, 1, 1], [0, 1, 1]]
    special = [[1, 0, 0, 1], [1, 0, 1]]
    out = make_masker(impl)(batch, token_type_ids=types, special_tokens_mask=special)
    assert out["token_type_ids"].tolist() == [[0, 0, 1, 1], [0, 1, 1, 0]]
    assert out["special_tokens_mask"].tolist() == [[1, 0, 0, 1], [1, 0, 1, 1]]
    out = make_masker(impl, padding_side="left")(batch, token_type_ids=types,
                                                 special_tokens_mask=special)
    assert out["token_type_ids"].tolist() == [[0, 0, 1, 1], [0, 0, 1, 1]]
    assert out["special_tokens_mask"].tolist() == [[1, 0, 0, 1], [1, 1, 0, 1]]


def test_special_tokens_mask_is_respected(impl):
    # mark every second token special through the per-example mask only
    batch = [list(range(10, 50))] * 4
    special = [[k % 2 for k in range(40)]] * 4
    out = make_masker(impl, mlm_probability=1.0)(batch, special_tokens_mask=special)
    picked = out["labels"] != -100
    assert picked[:, 0::2].all() and not picked[:, 1::2].any()


def test_configured_special_ids_are_never_picked(impl):
    batch = [[5, 6, 7, 8, 9] * 20] * 4
    m = make_masker(impl, special_ids=(0, 1, 2, 3, 4, 7, 9), mlm_probability=1.0)
    out = m(batch)
    picked = out["labels"] != -100
    orig = np.array(batch)
    assert not picked[np.isin(orig, [7, 9])].any()
    assert picked[np.isin(orig, [5, 6, 8])].all()


def test_input_forms_agree(impl):
    rng = np.random.default_rng(4)
    batch = random_batch(rng, 12, 0, 30)
    m = make_masker(impl)
    sids = np.arange(100, 112)
    ref = m(batch, sample_ids=sids)
    as_arrays = m([np.array(s, dtype=np.int32) for s in batch], sample_ids=sids)
    as_u16 = m([np.array(s, dtype=np.uint16) for s in batch], sample_ids=sids)
    as_tuples = m([tuple(s) for s in batch], sample_ids=sids)
    padded = m.pad(batch)
    as_2d_len = m(padded["input_ids"], lengths=[len(s) for s in batch], sample_ids=sids)
    as_2d_att = m(padded["input_ids"], attention_mask=padded["attention_mask"], sample_ids=sids)
    flat = np.concatenate([np.array(s, dtype=np.int64) for s in batch])
    offs = np.concatenate([[0], np.cumsum([len(s) for s in batch])])
    as_ragged = m(flat, offsets=offs, sample_ids=sids)
    as_ragged32 = m(flat.astype(np.int32), offsets=offs, sample_ids=sids)
    for other in (as_arrays, as_u16, as_tuples, as_2d_len, as_2d_att, as_ragged, as_ragged32):
        for k in ref:
            assert (ref[k] == other[k]).all(), k


def test_left_padded_2d_input(impl):
    batch = [[CLS, 10, 11, SEP], [CLS, 12, SEP]]
    m = make_masker(impl, padding_side="left", mlm_probability=1.0)
    p = m.pad(batch)
    assert p["input_ids"].tolist() == [[CLS, 10, 11, SEP], [PAD, CLS, 12, SEP]]
    a = m(batch, sample_ids=[0, 1])
    b = m(p["input_ids"], attention_mask=p["attention_mask"], sample_ids=[0, 1])
    assert (a["labels"] == b["labels"]).all() and (a["input_ids"] == b["input_ids"]).all()


def test_empty_batch_and_empty_sequences(impl):
    m = make_masker(impl)
    out = m([])
    assert out["input_ids"].shape == (0, 0) and out["labels"].shape == (0, 0)
    m = make_masker(impl, padding="max_length", max_length=8)
    assert m([])["input_ids"].shape == (0, 8)
    out = make_masker(impl)([[], []])
    assert out["input_ids"].shape == (2, 0)
    out = make_masker(impl, mlm_probability=1.0)([[], [CLS, 10, SEP]])
    assert out["labels"].tolist() == [[-100, -100, -100], [-100, 10, -100]]
    assert out["attention_mask"].tolist() == [[0, 0, 0], [1, 1, 1]]


def test_probability_extremes(impl):
    rng = np.random.default_rng(5)
    batch = random_batch(rng, 8, 10, 30)
    none = make_masker(impl, mlm_probability=0.0)(batch)
    assert (none["labels"] == -100).all()
    every = make_masker(impl, mlm_probability=1.0, mask_replace_prob=1.0,
                        random_replace_prob=0.0)(batch)
    cand = every["attention_mask"].astype(bool) & ~np.isin(
        make_masker(impl).pad(batch)["input_ids"], SPECIALS)
    assert ((every["labels"] != -100) == cand).all()
    assert (every["input_ids"][cand] == MASK).all()
    keep = make_masker(impl, mlm_probability=1.0, mask_replace_prob=0.0,
                       random_replace_prob=0.0)(batch)
    assert (keep["input_ids"] == make_masker(impl).pad(batch)["input_ids"]).all()


def test_random_ids_all_allows_specials(impl):
    batch = [list(range(5, 400))] * 40
    m = make_masker(impl, vocab_size=8, special_ids=(0, 1, 2, 3, 4), random_ids="all",
                    mlm_probability=1.0, mask_replace_prob=0.0, random_replace_prob=1.0)
    with pytest.raises(ValueError, match="out of range"):
        m(batch)
    batch = [[5, 6, 7] * 100] * 20
    out = m(batch)
    assert set(np.unique(out["input_ids"]).tolist()) == set(range(8))
    m = make_masker(impl, vocab_size=8, special_ids=(0, 1, 2, 3, 4), random_ids="non_special",
                    mlm_probability=1.0, mask_replace_prob=0.0, random_replace_prob=1.0)
    out = m(batch)
    assert set(np.unique(out["input_ids"]).tolist()) == {5, 6, 7}


def test_exact_selection_budget(impl):
    # BERT's rule: k = min(max_predictions, max(1, round(n * p))), n counts [CLS]/[SEP]
    m = make_masker(impl, selection="exact")
    for n in (1, 2, 3, 7, 10, 20, 33, 128, 300):
        seq = ([CLS] + list(range(10, 10 + n - 2)) + [SEP]) if n >= 2 else [CLS]
        out = m([seq])
        k = (out["labels"] != -100).sum()
        cand = max(n - 2, 0)
        assert k == min(cand, max(1, round(n * 0.15))), n
    capped = make_masker(impl, selection="exact", max_predictions=20)
    seq = [CLS] + list(range(10, 10 + 500)) + [SEP]
    assert (capped([seq] * 5)["labels"] != -100).sum(axis=1).tolist() == [20] * 5


def test_bernoulli_max_predictions_cap(impl):
    rng = np.random.default_rng(6)
    batch = random_batch(rng, 32, 100, 200)
    free = make_masker(impl, mlm_probability=0.5)(batch)
    capped = make_masker(impl, mlm_probability=0.5, max_predictions=10)(batch)
    n_free = (free["labels"] != -100).sum(axis=1)
    n_cap = (capped["labels"] != -100).sum(axis=1)
    assert (n_cap == np.minimum(n_free, 10)).all()
    # the capped picks are a subset of the uncapped ones
    assert ((capped["labels"] != -100) <= (free["labels"] != -100)).all()


def test_pad_function(impl):
    out = impl.pad([[1, 2, 3], [4]], pad_token_id=9, pad_to_multiple_of=2)
    assert out["input_ids"].tolist() == [[1, 2, 3, 9], [4, 9, 9, 9]]
    assert out["attention_mask"].tolist() == [[1, 1, 1, 0], [1, 0, 0, 0]]
    out = impl.pad([[1, 2, 3], [4]], padding_side="left", dtype="int32")
    assert out["input_ids"].dtype == np.int32
    assert out["input_ids"].tolist() == [[1, 2, 3], [0, 0, 4]]


def test_mask_function(impl):
    out = impl.mask([[CLS, 10, 11, 12, SEP]], vocab_size=VOCAB, mask_token_id=MASK, seed=3,
                    mlm_probability=1.0, mask_replace_prob=1.0, random_replace_prob=0.0,
                    special_ids=SPECIALS)
    assert out["input_ids"].tolist() == [[CLS, MASK, MASK, MASK, SEP]]
    assert out["labels"].tolist() == [[-100, 10, 11, 12, -100]]


def test_special_tokens_mask_can_be_left_out_of_the_output(impl):
    batch = [[CLS, 10, 11, SEP], [CLS, 12, SEP]]
    special = [[1, 0, 0, 1], [1, 0, 1]]
    m = make_masker(impl, mlm_probability=1.0)
    full = m(batch, special_tokens_mask=special, sample_ids=[0, 1])
    slim = m(batch, special_tokens_mask=special, sample_ids=[0, 1],
             return_special_tokens_mask=False)
    assert "special_tokens_mask" in full and "special_tokens_mask" not in slim
    assert all((full[k] == slim[k]).all() for k in slim)
