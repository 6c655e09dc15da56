"""The collator's messages about an example's own fields (issue 12 F5): each names the field and
the example, on the masked-LM and causal-LM paths alike."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from fastmask.torch import MLMCollator  # noqa: E402

MODES = [dict(mask_token_id=4), dict(mlm=False)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("scalar", [1, torch.tensor(1), np.int64(1)])
def test_scalar_attention_mask_names_the_field_and_example(mode, scalar):
    c = MLMCollator(100, seed=1, **mode)
    exs = [{"input_ids": [5, 6, 7], "attention_mask": [1, 1, 1]},
           {"input_ids": [5, 6], "attention_mask": scalar}]
    with pytest.raises(ValueError, match=r"^attention_mask\[1\] must be a sequence of 0/1 "
                                         r"\(one per token\), got shape \(\)"):
        c(exs)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("mask", [[1, 1], [1, 1, 1, 1], [0, 1]])
def test_attention_mask_of_another_length_is_refused(mode, mask):
    """A mask that marks no padding was ignored whatever its length: a wrong length is an
    error, whether or not the mask pads."""
    c = MLMCollator(100, seed=1, **mode)
    exs = [{"input_ids": [5, 6, 7], "attention_mask": [1, 1, 1]},
           {"input_ids": [5, 6, 7], "attention_mask": mask}]
    with pytest.raises(ValueError, match=rf"^attention_mask\[1\] has {len(mask)} entries but "
                                         r"input_ids\[1\] has 3 tokens"):
        c(exs)


def test_attention_mask_with_a_bad_input_ids_row_names_input_ids():
    c = MLMCollator(100, 4, seed=1)
    with pytest.raises((TypeError, ValueError), match=r"^input_ids\[0\]"):
        c([{"input_ids": torch.tensor(5), "attention_mask": [1]}])


@pytest.mark.parametrize("name", ["word_ids", "offset_mapping"])
def test_scalar_word_boundaries_name_the_field_and_example(name):
    c = MLMCollator(100, 4, seed=1, whole_word=True)
    exs = [{"input_ids": [5, 6, 7], name: 3}]
    with pytest.raises(TypeError, match=rf"^{name}\[0\] must be a list, got int"):
        c(exs)
