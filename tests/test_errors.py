"""Bad input gives a clear error naming the argument and the place; never a crash."""

import numpy as np
import pytest
from conftest import CLS, SEP, VOCAB, make_masker


@pytest.mark.parametrize("batch, exc, msg", [
    ([[CLS, 5, -1, SEP]], ValueError, r"input_ids\[0\]\[2\]: id -1 is out of range \[0, 1000\)"),
    ([[CLS, SEP], [CLS, 1000]], ValueError, r"input_ids\[1\]\[1\]: id 1000 is out of range"),
    ([[CLS, 2 ** 70]], ValueError, r"input_ids\[0\]\[1\]"),
    ([[CLS, 5.0]], TypeError, r"input_ids\[0\]\[1\]: expected an integer id, got float"),
    ([[CLS, True]], TypeError, r"input_ids\[0\]\[1\]: expected an integer id, got bool"),
    ([[CLS, "7"]], TypeError, r"input_ids\[0\]\[1\]: expected an integer id, got str"),
    ([[CLS, None]], TypeError, r"input_ids\[0\]\[1\]"),
    ([np.array([1.0, 2.0])], TypeError, r"input_ids\[0\]: expected an integer array, got dtype"),
    ([np.array([True, False])], TypeError, r"input_ids\[0\]"),
    ([np.array([1, 2], dtype=object)], TypeError, r"input_ids\[0\]"),
    ([np.array([3, 5000])], ValueError, r"input_ids\[0\]\[1\]: id 5000 is out of range"),
    ([np.array([3, -5], dtype=np.int8)], ValueError, r"input_ids\[0\]\[1\]: id -5"),
    ([np.array([[1, 2]])], ValueError, r"input_ids\[0\]: expected a 1-D sequence"),
    (["hello"], TypeError, r"input_ids\[0\]"),
    ([5, 6], TypeError, r"input_ids\[0\]"),
    ("text", TypeError, r"input_ids"),
])
def test_bad_ids(impl, batch, exc, msg):
    with pytest.raises(exc, match=msg):
        make_masker(impl)(batch)


@pytest.mark.parametrize("arr, msg", [
    (np.array([[1.0, 2.0]]), "input_ids must be an integer array"),
    (np.array([[True, False]]), "input_ids must be an integer array"),
    (np.array([[3, 4], [5, 4000]]), r"input_ids\[1\]\[1\]: id 4000 is out of range"),
    (np.array([[3, 4], [5, -3]]), r"input_ids\[1\]\[1\]: id -3 is out of range"),
    (np.array([[3, 4], [5, 2 ** 63]], dtype=np.uint64), "out of range"),
])
def test_bad_2d_arrays(impl, arr, msg):
    with pytest.raises((ValueError, TypeError), match=msg):
        make_masker(impl)(arr)


def test_bad_ragged(impl):
    m = make_masker(impl)
    vals = np.array([2, 5, 6, 3, 2, 3])
    with pytest.raises(ValueError, match="offsets must start at 0 and end"):
        m(vals, offsets=[0, 4, 5])
    with pytest.raises(ValueError, match=r"offsets must be non-decreasing"):
        m(vals, offsets=[0, 4, 2, 6])
    with pytest.raises(ValueError, match=r"input_ids\[1\]\[0\]: id 2000"):
        m(np.array([2, 5, 2000, 3]), offsets=[0, 2, 4])
    with pytest.raises(TypeError, match="offsets must be an integer array"):
        m(vals, offsets=[0.0, 6.0])
    with pytest.raises(TypeError, match="input_ids must be an integer array"):
        m(vals.astype(float), offsets=[0, 6])


@pytest.mark.parametrize("kw, exc, msg", [
    ({"vocab_size": 0}, ValueError, "vocab_size must be >= 1"),
    ({"vocab_size": 10.5}, TypeError, "vocab_size must be an integer"),
    ({"mask_token_id": VOCAB}, ValueError, "mask_token_id=1000 is outside"),
    ({"mask_token_id": -1}, ValueError, "mask_token_id must be >= 0"),
    ({"pad_token_id": VOCAB + 3}, ValueError, "pad_token_id=1003 is outside"),
    ({"special_ids": [1, 2000]}, ValueError, r"special_ids\[1\]=2000 is outside"),
    ({"special_ids": [1, "x"]}, TypeError, r"special_ids\[1\] must be an integer"),
    ({"mlm_probability": 1.5}, ValueError, r"mlm_probability must be in \[0, 1\]"),
    ({"mlm_probability": -0.1}, ValueError, "mlm_probability"),
    ({"mlm_probability": float("nan")}, ValueError, "mlm_probability"),
    ({"mlm_probability": "0.1"}, TypeError, "mlm_probability"),
    ({"mask_replace_prob": 0.8, "random_replace_prob": 0.3}, ValueError, "must be <= 1"),
    ({"random_replace_prob": 2}, ValueError, "random_replace_prob"),
    ({"selection": "random"}, ValueError, "selection must be one of"),
    ({"random_ids": "some"}, ValueError, "random_ids must be one of"),
    ({"seed": -1}, ValueError, "seed must be >= 0"),
    ({"seed": 2 ** 64}, ValueError, "seed must be <="),
    ({"seed": 1.5}, TypeError, "seed must be an integer"),
    ({"max_predictions": -2}, ValueError, "max_predictions must be >= 0"),
    ({"padding": "max_length"}, ValueError, "needs max_length"),
    ({"truncation": True}, ValueError, "needs max_length"),
    ({"pad_to_multiple_of": 0}, ValueError, "pad_to_multiple_of must be >= 1"),
    ({"padding_side": "middle"}, ValueError, "padding_side must be one of"),
    ({"dtype": "float32"}, ValueError, "dtype must be 'int64' or 'int32'"),
    ({"vocab_size": 5, "special_ids": [0, 1, 2, 3, 4], "mask_token_id": 4}, ValueError,
     "every id is special"),
    ({"span_lengths": "bogus"}, ValueError, "span_lengths must be one of"),
    ({"span_lengths": [0.5, -1]}, ValueError, "span_lengths"),
    ({"word_table": b"\x01\x00"}, ValueError, "word_table must have one entry per id"),
    ({"action": "word"}, ValueError, "action must be one of"),
])
def test_bad_options(impl, kw, exc, msg):
    with pytest.raises(exc, match=msg):
        make_masker(impl, **kw)


@pytest.mark.parametrize("call, exc, msg", [
    ({"epoch": -1}, ValueError, "epoch must be >= 0"),
    ({"epoch": 2 ** 32}, ValueError, "epoch must be <="),
    ({"sample_ids": [0, -1]}, ValueError, r"sample_ids\[1\] = -1 is negative"),
    ({"sample_ids": [0]}, ValueError, "sample_ids must have one entry per sequence"),
    ({"sample_ids": [0.0, 1.0]}, TypeError, "sample_ids must be integers"),
    ({"sample_ids": [0, 2 ** 48]}, ValueError, r"sample_ids\[1\].*2\*\*48"),
    ({"special_tokens_mask": [[1, 0, 1], [1, 0]]}, ValueError,
     r"special_tokens_mask\[1\] has 2 entries but input_ids\[1\] has 3"),
    ({"special_tokens_mask": [[1, 0, 1]]}, ValueError, "special_tokens_mask has 1 sequences"),
    ({"special_tokens_mask": [[1, 0, 2], [1, 0, 1]]}, ValueError, r"special_tokens_mask\[0\]"),
    ({"token_type_ids": [[0, 0, 0], [0, 0, 0, 1]]}, ValueError,
     r"token_type_ids\[1\] has 4 entries"),
    ({"token_type_ids": [[0, 0, -1], [0, 0, 0]]}, ValueError, r"token_type_ids\[0\]"),
    ({"word_ids": [[None, 0, None]]}, ValueError, "word_ids has 1 entries"),
    ({"lengths": [3, 3]}, ValueError, "lengths and attention_mask describe a padded"),
])
def test_bad_call_arguments(impl, call, exc, msg):
    batch = [[CLS, 10, SEP], [CLS, 11, SEP]]
    with pytest.raises(exc, match=msg):
        make_masker(impl)(batch, **call)


def test_word_boundaries_need_whole_word(impl):
    with pytest.raises(ValueError, match="whole_word=False"):
        make_masker(impl)([[CLS, 10, SEP]], word_starts=[[0, 1, 0]])
    with pytest.raises(ValueError, match="whole_word=True needs word boundaries"):
        make_masker(impl, whole_word=True)([[CLS, 10, SEP]])


def test_padded_input_checks(impl):
    m = make_masker(impl)
    arr = np.array([[CLS, 10, SEP, 0], [CLS, SEP, 0, 0]])
    with pytest.raises(ValueError, match=r"lengths\[1\] = 9 is outside"):
        m(arr, lengths=[3, 9])
    with pytest.raises(ValueError, match="attention_mask must have the shape"):
        m(arr, attention_mask=np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"attention_mask\[0\] is not a right-padded mask"):
        m(arr, attention_mask=[[1, 0, 1, 0], [1, 1, 0, 0]])
    with pytest.raises(ValueError, match=r"attention_mask\[0\]\[0\] = 2 is not 0 or 1"):
        m(arr, attention_mask=[[2, 1, 1, 0], [1, 1, 0, 0]])
    with pytest.raises(ValueError, match="not both"):
        m(arr, lengths=[3, 2], attention_mask=[[1, 1, 1, 0], [1, 1, 0, 0]])
    with pytest.raises(ValueError, match="1-D array"):
        m(np.array([CLS, 10, SEP]))


def test_pad_errors(impl):
    with pytest.raises(ValueError, match=r"input_ids\[0\]\[1\]: id -4"):
        impl.pad([[1, -4]])
    with pytest.raises(ValueError, match=r"input_ids\[0\]\[1\]: id 12 is out of range"):
        impl.pad([[1, 12]], vocab_size=10)
    with pytest.raises(ValueError, match="more than max_length=1"):
        impl.pad([[1, 2]], max_length=1)


# ---------------------------------------------------------------------------------------------
# One rule per argument, the same on every path and in the reference (issue 12, F5).


@pytest.mark.parametrize("kw, msg", [
    ({"max_predictions": 2 ** 63}, "max_predictions must be <="),
    ({"max_length": 2 ** 30 + 1, "padding": "max_length"}, "max_length must be <="),
    ({"max_length": 2 ** 40}, "max_length must be <="),
    ({"pad_to_multiple_of": 2 ** 40}, "pad_to_multiple_of must be <="),
])
def test_limits_are_named_up_front(impl, kw, msg):
    with pytest.raises(ValueError, match=msg):
        make_masker(impl, **kw)
    if "max_predictions" not in kw:
        with pytest.raises(ValueError, match=msg):
            impl.pad([[CLS, SEP]], **kw)


def test_rounded_width_above_the_limit_names_the_options(impl):
    m = make_masker(impl, max_length=2 ** 30, pad_to_multiple_of=3, padding="max_length")
    with pytest.raises(ValueError, match="above the limit.*pad_to_multiple_of"):
        m([[CLS, 10, SEP]])


@pytest.mark.parametrize("form", ["lists", "2d", "ragged"])
def test_large_token_type_id_says_out_of_range(impl, form):
    seqs = [[CLS, 10, SEP], [CLS, 11, SEP]]
    types = [[0, 0, 2 ** 40], [0, 0, 0]]
    if form == "lists":
        ids, call = seqs, {}
        tt = types
    elif form == "2d":
        ids, call, tt = np.array(seqs), {}, np.array(types)
    else:
        ids, call, tt = np.array(seqs).reshape(-1), {"offsets": [0, 3, 6]}, \
            np.array(types).reshape(-1)
    with pytest.raises(ValueError, match=r"token_type_ids.*out of range") as e:
        make_masker(impl)(ids, token_type_ids=tt, **call)
    assert "negative" not in str(e.value)


@pytest.mark.parametrize("form", ["2d_lengths", "ragged"])
def test_per_sequence_side_inputs_with_any_ids_form(impl, form):
    seqs = [[CLS, 10, 11, SEP], [CLS, 12, SEP]]
    special = [[1, 0, 0, 1], [1, 0, 1]]
    types = [[0, 0, 1, 1], [0, 1, 1]]
    m = make_masker(impl, seed=5)
    want = m(seqs, special_tokens_mask=special, token_type_ids=types, sample_ids=[7, 8])
    if form == "2d_lengths":
        ids, call = np.array([[CLS, 10, 11, SEP], [CLS, 12, SEP, 0]]), {"lengths": [4, 3]}
    else:
        ids, call = np.array(sum(seqs, [])), {"offsets": [0, 4, 7]}
    got = m(ids, special_tokens_mask=special, token_type_ids=types, sample_ids=[7, 8], **call)
    for k in want:
        assert (want[k] == got[k]).all(), k


@pytest.mark.parametrize("sids, exc, msg", [
    ([-1, 2 ** 63], ValueError, r"sample_ids\[0\] = -1 is negative"),
    ([0, 2 ** 63], ValueError, r"sample_ids\[1\] = 9223372036854775808 is not below 2\*\*48"),
    ([0, 2 ** 70], ValueError, r"sample_ids\[1\] = .* is not below 2\*\*48"),
    ([0, "1"], TypeError, r"sample_ids must be integers.*sample_ids\[1\]"),
    ([0, True], TypeError, r"sample_ids must be integers.*sample_ids\[1\]"),
])
def test_sample_ids_named_whatever_numpy_makes_of_them(impl, sids, exc, msg):
    with pytest.raises(exc, match=msg):
        make_masker(impl)([[CLS, 10, SEP], [CLS, 11, SEP]], sample_ids=sids)


@pytest.mark.parametrize("word_ids", [
    [[None, True, 0, None]],  # a bool among ints
    [[None, 0, np.bool_(True), None]],
    [np.array([-1, 0, 1, -1], dtype=bool)],
])
def test_bools_in_word_ids_refused_on_every_path(impl, word_ids):
    m = make_masker(impl, whole_word=True)
    with pytest.raises(TypeError, match=r"word_ids\[0\]"):
        m([[CLS, 10, 11, SEP]], word_ids=word_ids)
    from fastmask.words import starts_from_word_ids

    with pytest.raises(TypeError):
        starts_from_word_ids(word_ids[0] if isinstance(word_ids[0], list) else word_ids[0])


# ---------------------------------------------------------------------------------------------
# A failed call consumes no sample ids (issue 12, F6).


def test_failed_call_does_not_advance_the_counter(impl):
    m = make_masker(impl)
    good = [[CLS, 10, 11, SEP], [CLS, 12, SEP]]
    ref = make_masker(impl)(good)
    m.next_sample_id = 0
    for bad in ([[CLS, 10, 11, SEP], [CLS, VOCAB + 5, SEP]],   # id out of range (in the kernel)
                [[CLS, 10, 11, SEP], [CLS, 1.5, SEP]]):       # not an int
        with pytest.raises((ValueError, TypeError)):
            m(bad)
        assert m.next_sample_id == 0
    with pytest.raises(ValueError):
        m(good, special_tokens_mask=[[1, 0, 0, 1]])
    assert m.next_sample_id == 0
    out = m(good)  # the retry gets the masks a first successful call gets
    assert m.next_sample_id == 2
    for k in ref:
        assert (out[k] == ref[k]).all(), k


def test_next_sample_id_setter(impl):
    m = make_masker(impl)
    batch = [[CLS, 10, 11, 12, 13, 14, SEP]] * 3
    m.next_sample_id = 40
    assert m.next_sample_id == 40
    a = m(batch)
    assert m.next_sample_id == 43
    b = make_masker(impl)(batch, sample_ids=[40, 41, 42])
    for k in a:
        assert (a[k] == b[k]).all(), k
    with pytest.raises(ValueError, match="next_sample_id"):
        m.next_sample_id = -1
    with pytest.raises(ValueError, match="next_sample_id"):
        m.next_sample_id = 2 ** 48
    with pytest.raises(TypeError, match="next_sample_id"):
        m.next_sample_id = 1.0
