"""Random option combinations checked against the contract itself, not against either
implementation: at most max_length real tokens, labels equal to the original id exactly where
a token is picked, specials and padding never picked, random ids in range (and non-special when
asked), max_predictions respected, the caller's input unmodified. Bad inputs give only
ValueError / TypeError / OverflowError naming the argument.

The cases come from the equivalence tests' generator (every input form, layout option, side
input, boundary source and thread count); the examples are derandomised.
"""

import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_equivalence import wide_cases

import fastmask

SETTINGS = dict(deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _snapshot(x):
    if isinstance(x, np.ndarray):
        return x.copy()
    if isinstance(x, dict):
        return {k: _snapshot(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_snapshot(v) for v in x]
    return copy.deepcopy(x)


def _equal(a, b):
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return a == b


@settings(max_examples=300, **SETTINGS)
@given(case=wide_cases())
def test_contract_holds_for_random_option_combinations(case):
    opts, ids, call, truth = case
    before = (_snapshot(ids), _snapshot(call))
    m = fastmask.Masker(**opts)
    out = m(ids, **call)
    assert _equal(before[0], ids) and _equal(before[1], call), "the input was modified"

    V, ignore = opts["vocab_size"], -100
    specials = set(m.special_ids)
    max_length = opts.get("max_length")
    left = opts["padding_side"] == "left"
    out_ids, labels, att = out["input_ids"], out["labels"], out["attention_mask"]
    B, W = out_ids.shape
    assert B == len(truth["seqs"])
    if max_length is not None:
        assert W <= max(max_length, 0) + (opts["pad_to_multiple_of"] or 1)
    cap = opts["max_predictions"]
    for i, seq in enumerate(truth["seqs"]):
        n = len(seq)
        kept = min(n, max_length) if opts.get("truncation") else n
        real = int(att[i].sum())
        assert real == kept, (i, real, kept)
        if max_length is not None:
            assert real <= max_length
        cols = np.arange(W - real, W) if left else np.arange(real)
        pad_cols = np.setdiff1d(np.arange(W), cols)
        assert (att[i, cols] == 1).all() and (att[i, pad_cols] == 0).all()
        # padding: never picked, holds the pad id
        assert (labels[i, pad_cols] == ignore).all()
        assert (out_ids[i, pad_cols] == opts["pad_token_id"]).all()
        orig = np.asarray(seq[:real], dtype=np.int64)
        lab = labels[i, cols].astype(np.int64)
        got = out_ids[i, cols].astype(np.int64)
        picked = lab != ignore
        assert (lab[picked] == orig[picked]).all(), "a label differs from the original id"
        assert (got[~picked] == orig[~picked]).all(), "an unpicked token changed"
        never = np.isin(orig, list(specials))
        if truth["special"] is not None:
            never |= np.asarray(truth["special"][i][:real], dtype=bool)
        assert not (picked & never).any(), "a special token was picked"
        if cap is not None:
            assert int(picked.sum()) <= cap
        replaced = picked & (got != orig) & (got != opts["mask_token_id"])
        assert ((got[replaced] >= 0) & (got[replaced] < V)).all()
        if opts["random_ids"] == "non_special":
            assert not np.isin(got[replaced], list(specials)).any(), "a special random id"


GOOD = [[2, 10, 11, 3], [2, 12, 3]]


def _bad_inputs():
    """(argument name, options, call keyword arguments, input_ids) of inputs that are wrong."""
    return [
        ("input_ids", {}, {}, [[2, 10, -1]]),
        ("input_ids", {}, {}, [[2, 10, 1000]]),
        ("input_ids", {}, {}, [[2, 10.0]]),
        ("input_ids", {}, {}, [[2, True]]),
        ("input_ids", {}, {}, [[2, None]]),
        ("input_ids", {}, {}, [[2, 2 ** 64]]),
        ("input_ids", {}, {}, "text"),
        ("input_ids", {}, {}, np.array([[1.5, 2.0]])),
        ("input_ids", {}, {"offsets": [0, 2]}, np.array([2, 1000])),
        ("offsets", {}, {"offsets": [0, 3, 2]}, np.array([2, 10, 3])),
        ("offsets", {}, {"offsets": [1, 3]}, np.array([2, 10, 3])),
        ("lengths", {}, {"lengths": [3, 9]}, np.array([[2, 10, 3], [2, 3, 0]])),
        ("attention_mask", {}, {"attention_mask": [[1, 0, 1], [1, 1, 0]]},
         np.array([[2, 10, 3], [2, 3, 0]])),
        ("sample_ids", {}, {"sample_ids": [0, -1]}, GOOD),
        ("sample_ids", {}, {"sample_ids": [0, 2 ** 48]}, GOOD),
        ("sample_ids", {}, {"sample_ids": [0]}, GOOD),
        ("sample_ids", {}, {"sample_ids": ["a", "b"]}, GOOD),
        ("epoch", {}, {"epoch": -1}, GOOD),
        ("epoch", {}, {"epoch": 2 ** 32}, GOOD),
        ("special_tokens_mask", {}, {"special_tokens_mask": [[1, 0, 0, 2], [1, 0, 1]]}, GOOD),
        ("special_tokens_mask", {}, {"special_tokens_mask": [[1, 0, 0], [1, 0, 1]]}, GOOD),
        ("token_type_ids", {}, {"token_type_ids": [[0, 0, 0, -1], [0, 0, 0]]}, GOOD),
        ("word_starts", {"whole_word": True}, {"word_starts": [[1, 0, 1], [1, 1, 1]]}, GOOD),
        ("word_ids", {"whole_word": True}, {"word_ids": [[None, 0, "x", None], [None, 0, None]]},
         GOOD),
        ("word_ids", {"whole_word": True}, {"word_ids": [[None, 0, None]]}, GOOD),
        ("offset_mapping", {"whole_word": True},
         {"offset_mapping": [[(0, 0), (0, 2), (3, 1), (0, 0)], [(0, 0), (0, 1), (0, 0)]]}, GOOD),
        ("chinese_ref", {"whole_word": True}, {"chinese_ref": [[7], []]}, GOOD),
        ("max_length", {"max_length": 2}, {}, GOOD),
        ("vocab_size", {"vocab_size": 0}, {}, GOOD),
        ("mask_token_id", {"mask_token_id": 1000}, {}, GOOD),
        ("mlm_probability", {"mlm_probability": 2.0}, {}, GOOD),
        ("pad_to_multiple_of", {"pad_to_multiple_of": 0}, {}, GOOD),
        ("max_predictions", {"max_predictions": -1}, {}, GOOD),
        ("num_threads", {"num_threads": 0}, {}, GOOD),
        ("seed", {"seed": 2 ** 64}, {}, GOOD),
        ("max_predictions", {"max_predictions": 2 ** 63}, {}, GOOD),
        ("max_length", {"max_length": 2 ** 30 + 1, "padding": "max_length"}, {}, GOOD),
        ("pad_to_multiple_of", {"pad_to_multiple_of": 2 ** 40}, {}, GOOD),
        ("sample_ids", {}, {"sample_ids": [-1, 2 ** 63]}, GOOD),
        ("token_type_ids", {}, {"token_type_ids": np.array([[0, 0, 0, 2 ** 40], [0, 0, 0, 0]])},
         np.array([[2, 10, 11, 3], [2, 12, 3, 0]])),
        ("word_ids", {"whole_word": True}, {"word_ids": [[None, True, 0, None], [None, 0, None]]},
         GOOD),
    ]


@pytest.mark.parametrize("impl_name", ["c", "reference"])
@pytest.mark.parametrize("name, opts, call, ids", _bad_inputs(),
                         ids=[f"{c[0]}-{k}" for k, c in enumerate(_bad_inputs())])
def test_bad_inputs_name_the_argument(impl_name, name, opts, call, ids):
    import fastmask.reference as reference

    impl = fastmask if impl_name == "c" else reference
    kw = dict(vocab_size=1000, mask_token_id=4, special_ids=(0, 1, 2, 3), seed=1)
    kw.update(opts)
    before = _snapshot(ids), _snapshot(call)
    try:
        impl.Masker(**kw)(ids, **call)
    except (ValueError, TypeError, OverflowError) as e:
        assert name in str(e), f"{type(e).__name__}: {e}"
    else:
        pytest.fail("no error")
    assert _equal(before[0], ids) and _equal(before[1], call)


@settings(max_examples=150, **SETTINGS)
@given(case=wide_cases(), data=st.data())
def test_corrupted_inputs_raise_clean_errors(case, data):
    """One entry of a valid input replaced by something wrong: only a clean error."""
    opts, ids, call, truth = case
    bad = data.draw(st.sampled_from([-1, opts["vocab_size"], 2 ** 63, 1.5, None, "x", True]))
    seqs = [list(s) for s in truth["seqs"]]
    rows = [i for i, s in enumerate(seqs) if s]
    if not rows:
        return
    i = data.draw(st.sampled_from(rows))
    j = data.draw(st.integers(0, len(seqs[i]) - 1))
    seqs[i][j] = bad
    call = {k: v for k, v in call.items() if k not in ("lengths", "attention_mask", "offsets")}
    for k in ("special_tokens_mask", "token_type_ids", "word_starts"):
        if k in call and isinstance(call[k], np.ndarray):
            del call[k]
    if opts["whole_word"] and "word_table" not in opts and not any(
            k in call for k in ("word_starts", "word_ids", "offset_mapping", "chinese_ref")):
        return  # its boundaries were in the padded form dropped above
    if opts.get("truncation") and j >= opts["max_length"]:
        return  # cut before it is read
    with pytest.raises((ValueError, TypeError, OverflowError), match="input_ids"):
        fastmask.Masker(**opts)(seqs, **call)
