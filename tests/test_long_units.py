"""Whole-word masking of rows that are mostly one long word (offsets of text without spaces,
word ids of one long word) with a high pick rate: every token of a picked word is picked, and
with per-word decisions (``action="unit"``) all of them get the same replacement. A kernel defect
once let selection bits inside a picked word overwrite the decisions of the word (found by
csrc/tests/fuzz_fastmask.c; reproducer in csrc/tests/crashes/)."""

import numpy as np
import pytest
from conftest import MASK, make_masker


@pytest.mark.parametrize("alone", [True, False])
@pytest.mark.parametrize("action", ["unit", "token"])
@pytest.mark.parametrize("p", [1.0, 0.9, 0.5])
@pytest.mark.parametrize("word_len", [5, 64, 200])
def test_long_words_are_picked_whole_and_match_the_reference(impl, action, p, word_len, alone):
    import fastmask
    import fastmask.reference as reference

    rng = np.random.default_rng(word_len)
    rows, word_ids = [], []
    for _ in range(12):
        # a batch of rows that are the long word alone (the case that went wrong: the padded
        # width is the word's length), or rows that go on after it
        n = word_len if alone else int(rng.integers(word_len, 3 * word_len))
        rows.append(rng.integers(10, 1000, size=n).tolist())
        # one long word, then short ones
        word_ids.append([0] * word_len + list(range(1, n - word_len + 1)))
    kw = dict(whole_word=True, action=action, mlm_probability=p, mask_replace_prob=0.5,
              random_replace_prob=0.25, seed=11)
    out = make_masker(impl, **kw)(rows, word_ids=word_ids)
    labels, ids = out["labels"], out["input_ids"]
    for i, r in enumerate(rows):
        picked = labels[i, :len(r)] != -100
        # the long word is picked whole or not at all
        assert picked[:word_len].all() or not picked[:word_len].any()
        if action == "unit" and picked[:word_len].all():
            got = ids[i, :word_len]
            masked = got == MASK
            # one decision for the word: all [MASK], or none (kept, or random ids)
            assert masked.all() or not masked.any()
    if p == 1.0:
        assert (labels[:, 0] != -100).all()
    # the C core and the reference agree bit for bit
    other = (reference if impl is fastmask else fastmask)
    twin = make_masker(other, **kw)(rows, word_ids=word_ids)
    for k in out:
        np.testing.assert_array_equal(out[k], twin[k])
