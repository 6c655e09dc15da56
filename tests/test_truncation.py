"""Truncation keeps the first ``max_length`` tokens of a row on every entry point, even when
``pad_to_multiple_of`` rounds the padded width above ``max_length``."""

import numpy as np
import pytest
from conftest import CLS, SEP, VOCAB, make_masker

ROWS = [[CLS] + list(range(10, 30)) + [SEP], [CLS, 7, SEP], list(range(40, 45))]
MAX_LEN = 3


def ragged(rows):
    values = np.concatenate([np.asarray(r, dtype=np.int64) for r in rows])
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in rows], out=offsets[1:])
    return values, offsets


def padded2d(rows, left):
    """A 2-D input padded on the masker's side (the side a 2-D input is read with)."""
    W = max(map(len, rows))
    arr = np.zeros((len(rows), W), dtype=np.int64)
    for i, r in enumerate(rows):
        if left:
            arr[i, W - len(r):] = r
        else:
            arr[i, :len(r)] = r
    return arr, np.array([len(r) for r in rows])


def check_kept(out, rows, n, left, width):
    """Row i holds exactly its first min(len, n) tokens (masked or not), then padding."""
    ids, att, labels = out["input_ids"], out["attention_mask"], out["labels"]
    assert ids.shape == (len(rows), width)
    for i, r in enumerate(rows):
        k = min(len(r), n)
        real = att[i].astype(bool)
        assert int(real.sum()) == k
        want = np.zeros(width, dtype=bool)
        if left:
            want[width - k:] = True
        else:
            want[:k] = True
        assert (real == want).all()
        orig = np.asarray(r[:k])
        got = np.where(labels[i][real] != -100, labels[i][real], ids[i][real])
        assert (got == orig).all()
        assert (labels[i][~real] == -100).all()


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("multiple", [None, 4, 8])
@pytest.mark.parametrize("form", ["lists", "ragged", "2d"])
def test_masker_truncation_with_multiple(impl, side, multiple, form):
    m = make_masker(impl, max_length=MAX_LEN, truncation=True, pad_to_multiple_of=multiple,
                    padding_side=side, mlm_probability=0.5)
    if form == "lists":
        out = m(ROWS)
    elif form == "ragged":
        v, o = ragged(ROWS)
        out = m(v, offsets=o)
    else:
        a, ln = padded2d(ROWS, side == "left")
        out = m(a, lengths=ln)
    width = MAX_LEN if multiple is None else -(-MAX_LEN // multiple) * multiple
    check_kept(out, ROWS, MAX_LEN, side == "left", width)


@pytest.mark.parametrize("side", ["right", "left"])
def test_side_inputs_follow_truncation(impl, side):
    m = make_masker(impl, max_length=MAX_LEN, truncation=True, pad_to_multiple_of=8,
                    padding_side=side, whole_word=True)
    special = [[1] + [0] * (len(r) - 2) + [1] for r in ROWS]
    types = [[i % 2] * len(r) for i, r in enumerate(ROWS)]
    word_ids = [list(range(len(r))) for r in ROWS]
    out = m(ROWS, special_tokens_mask=special, token_type_ids=types, word_ids=word_ids)
    check_kept(out, ROWS, MAX_LEN, side == "left", 8)
    att = out["attention_mask"].astype(bool)
    for i, r in enumerate(ROWS):
        k = min(len(r), MAX_LEN)
        assert out["special_tokens_mask"][i][att[i]].tolist() == special[i][:k]
        assert (out["special_tokens_mask"][i][~att[i]] == 1).all()
        assert out["token_type_ids"][i][att[i]].tolist() == types[i][:k]


@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_truncation_with_multiple(impl, side):
    out = impl.pad(ROWS, max_length=MAX_LEN, truncation=True, pad_to_multiple_of=8,
                   padding_side=side)
    out["labels"] = np.full_like(out["input_ids"], -100)
    check_kept(out, ROWS, MAX_LEN, side == "left", 8)


def test_mask_function_truncation_with_multiple(impl):
    out = impl.mask(ROWS, vocab_size=VOCAB, mask_token_id=4, max_length=MAX_LEN,
                    truncation=True, pad_to_multiple_of=8, seed=3)
    check_kept(out, ROWS, MAX_LEN, False, 8)


def test_collator_truncation_with_multiple():
    pytest.importorskip("torch")
    from fastmask.torch import MLMCollator

    c = MLMCollator(vocab_size=VOCAB, mask_token_id=4, max_length=MAX_LEN, truncation=True,
                    pad_to_multiple_of=8, seed=5)
    out = {k: v.numpy() for k, v in c([{"input_ids": r} for r in ROWS]).items()}
    check_kept(out, ROWS, MAX_LEN, False, 8)


def test_arrow_truncation_with_multiple():
    pa = pytest.importorskip("pyarrow")
    import fastmask
    from fastmask.arrow import mask_batch

    m = fastmask.Masker(VOCAB, 4, max_length=MAX_LEN, truncation=True, pad_to_multiple_of=8,
                        seed=1, mlm_probability=0.5)
    res = mask_batch(pa.table({"input_ids": ROWS}), masker=m, sample_ids=0)
    ids = res.column("input_ids").to_pylist()
    labels = res.column("labels").to_pylist()
    for r, got, lab in zip(ROWS, ids, labels):
        k = min(len(r), MAX_LEN)
        assert len(got) == len(lab) == k
        assert [x if x != -100 else g for g, x in zip(got, lab)] == r[:k]


# With truncation, entries past max_length are never read: neither checked nor used, whatever
# the input form, on every path and in the reference (one rule for every per-token input).

import numpy as _np  # noqa: E402
import pytest as _pytest  # noqa: E402

import fastmask as _fm  # noqa: E402
import fastmask.reference as _ref  # noqa: E402


def _cases():
    seqs = [[2, 10, 11, 12, 3], [2, 13, 3]]
    lens = [5, 3]
    flat = _np.array(sum(seqs, []))
    offsets = [0, 5, 8]
    padded = _np.array([[2, 10, 11, 12, 3], [2, 13, 3, 0, 0]])
    bad_special = [[1, 0, 0, 7, 1], [1, 0, 1]]
    bad_types = [[0, 0, 0, -4, 0], [0, 0, 0]]
    bad_starts = [[1, 1, 1, 5, 1], [1, 1, 1]]
    out = []
    for form in ("lists", "arrays", "2d", "ragged"):
        if form == "lists":
            ids, call = seqs, {}
        elif form == "arrays":
            ids, call = [_np.array(s) for s in seqs], {}
        elif form == "2d":
            ids, call = padded, {"lengths": lens}
        else:
            ids, call = flat, {"offsets": offsets}
        for side, val in (("special_tokens_mask", bad_special), ("token_type_ids", bad_types),
                          ("word_starts", bad_starts)):
            for shape in ("lists", "arrays"):
                v = val if shape == "lists" else [_np.array(r) for r in val]
                out.append((form, side, shape, ids, call, v))
        out.append((form, "word_ids", "lists", ids, call,
                    [[None, 0, 1, "x", None], [None, 0, None]]))
        out.append((form, "word_ids", "tuples", ids, call,
                    [(None, 0, 1, "x", None), (None, 0, None)]))
        out.append((form, "offset_mapping", "lists", ids, call,
                    [[(0, 0), (0, 1), (2, 3), (9, 4), (0, 0)], [(0, 0), (0, 2), (0, 0)]]))
        out.append((form, "offset_mapping", "tuples", ids, call,
                    [((0, 0), (0, 1), (2, 3), (9, 4), (0, 0)), ((0, 0), (0, 2), (0, 0))]))
    return out


@_pytest.mark.parametrize("impl", [_fm, _ref], ids=["c", "reference"])
@_pytest.mark.parametrize("form, side, shape, ids, call, value", _cases(),
                          ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in _cases()])
def test_entries_past_max_length_are_not_read(impl, form, side, shape, ids, call, value):
    ww = side in ("word_starts", "word_ids", "offset_mapping")
    m = impl.Masker(1000, 4, special_ids=(0, 1, 2, 3), seed=9, whole_word=ww, max_length=3,
                    truncation=True)
    out = m(ids, sample_ids=[0, 1], **{side: value}, **call)
    assert out["attention_mask"].sum(axis=1).tolist() == [3, 3]
    # and without truncation the same entry is an error
    m2 = impl.Masker(1000, 4, special_ids=(0, 1, 2, 3), seed=9, whole_word=ww)
    with _pytest.raises((ValueError, TypeError), match=side):
        m2(ids, sample_ids=[0, 1], **{side: value}, **call)
