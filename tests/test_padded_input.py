"""A padded 2-D input (with lengths or an attention mask) masks exactly like the same rows as
lists: every side, mask dtype and id dtype, with 2-D side inputs, and with the errors of a bad
mask naming the cell."""
import numpy as np
import pytest

import fastmask

V, MASK = 1000, 103
SPECIALS = [0, 100, 101, 102, 103]


def _rows(rng, B, W):
    lens = rng.integers(0, W + 1, B)
    lens[0] = W  # a full row
    if B > 2:
        lens[1] = 0  # an empty one
    return [rng.integers(104, V, n).tolist() for n in lens]


def _padded(rows, W, left, dtype, fill=-7):
    arr = np.full((len(rows), W), fill, dtype=np.int64)
    att = np.zeros((len(rows), W), dtype=np.int64)
    for i, r in enumerate(rows):
        n = len(r)
        if n:
            sl = slice(W - n, W) if left else slice(0, n)
            arr[i, sl] = r
            att[i, sl] = 1
    return arr.astype(dtype), att


def _masker(left, **kw):
    return fastmask.Masker(V, MASK, special_ids=SPECIALS, seed=5, padding_side="left" if left
                           else "right", **kw)


@pytest.mark.parametrize("left", [False, True])
@pytest.mark.parametrize("id_dtype", [np.int64, np.int32, np.int16, np.uint64])
@pytest.mark.parametrize("form", ["lengths", "bool", "int64", "int32", "uint8", "int16"])
def test_padded_equals_lists(left, id_dtype, form):
    rng = np.random.default_rng(hash((left, str(id_dtype), form)) % 2**32)
    B, W = 9, 37
    rows = _rows(rng, B, W)
    fill = 0 if np.dtype(id_dtype).kind == "u" else -7  # padding content is never read
    arr, att = _padded(rows, W, left, id_dtype, fill)
    sids = np.arange(B, dtype=np.uint64) * 3
    want = _masker(left)(rows, sample_ids=sids)
    if form == "lengths":
        got = _masker(left)(arr, lengths=[len(r) for r in rows], sample_ids=sids)
    else:
        mask = att.astype(bool) if form == "bool" else att.astype(form)
        got = _masker(left)(arr, attention_mask=mask, sample_ids=sids)
    for key in ("input_ids", "labels", "attention_mask"):
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)


@pytest.mark.parametrize("left", [False, True])
def test_padded_side_input(left):
    rng = np.random.default_rng(3)
    B, W = 7, 20
    rows = _rows(rng, B, W)
    arr, att = _padded(rows, W, left, np.int64)
    special = [rng.integers(0, 2, len(r)).tolist() for r in rows]
    special2d, _ = _padded(special, W, left, np.int64, fill=1)
    sids = np.arange(B, dtype=np.uint64)
    want = _masker(left)(rows, special_tokens_mask=special, sample_ids=sids)
    got = _masker(left)(arr, attention_mask=att, special_tokens_mask=special2d, sample_ids=sids)
    for key in ("input_ids", "labels", "attention_mask"):
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)
    with pytest.raises(ValueError, match=r"special_tokens_mask must have the shape of input_ids"):
        _masker(left)(arr, attention_mask=att, special_tokens_mask=special2d[:, :-1])


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "int16", "bool"])
@pytest.mark.parametrize("left", [False, True])
def test_bad_attention_masks_name_the_cell(dtype, left):
    B, W = 3, 6
    arr = np.full((B, W), 200, dtype=np.int64)
    att = np.zeros((B, W), dtype=np.int64)
    att[:, (slice(W - 3, W) if left else slice(0, 3))] = 1
    side = "left" if left else "right"
    m = _masker(left)
    hole = att.copy()
    hole[1, W - 2 if left else 1] = 0  # a hole in row 1's run
    with pytest.raises(ValueError, match=rf"attention_mask\[1\] is not a {side}-padded mask "
                                         rf"\(position {W - 3 if left else 1}\)"):
        m(arr, attention_mask=hole.astype(dtype))
    if dtype != "bool":
        two = att.copy()
        two[2, 4] = 2
        with pytest.raises(ValueError, match=r"attention_mask\[2\]\[4\] = 2 is not 0 or 1"):
            m(arr, attention_mask=two.astype(dtype))
    if dtype in ("int64", "int32", "int16"):
        neg = att.copy()
        neg[0, 5] = -1
        with pytest.raises(ValueError, match=r"attention_mask\[0\]\[5\] = -1 is not 0 or 1"):
            m(arr, attention_mask=neg.astype(dtype))


def test_inputs_are_not_modified():
    rng = np.random.default_rng(4)
    rows = _rows(rng, 5, 11)
    arr, att = _padded(rows, 11, False, np.int64)
    a0, t0 = arr.copy(), att.copy()
    _masker(False)(arr, attention_mask=att)
    np.testing.assert_array_equal(arr, a0)
    np.testing.assert_array_equal(att, t0)


@pytest.mark.parametrize("left", [False, True])
@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_out_of_range_id_is_named_in_its_row(left, dtype):
    # the core reads such rows in place in the padded array: the position is the row's own
    a = np.full((3, 6), 9, dtype=dtype)
    lengths = [6, 3, 2]
    row = [5, 2000, 7]
    a[1, 3:] = row if left else 0
    if not left:
        a[1, :3] = row
    with pytest.raises(ValueError, match=r"input_ids\[1\]\[1\]: id 2000 is out of range"):
        _masker(left, dtype=np.dtype(dtype).name)(a, lengths=lengths)
