"""Causal-LM labels (``MLMCollator(mlm=False)``): padding only, no masking.

The labels are a copy of the padded ids with ``ignore_index`` at padding. Unlike Hugging Face,
a real token that happens to equal the pad id (GPT-2's end-of-text doubling as padding) stays a
label: only padding positions are ignored.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

import numpy as np

from .. import _config as C
from .. import pad
from .._checks import check_int
from .gather import Gathered, apply_attention, attention_pads, padding_from_attention

__all__ = ["CausalLM"]

#: Options that apply without masking. Hugging Face's masking options are accepted (and have no
#: effect), so a configuration can switch ``mlm`` without being rewritten.
OPTIONS = frozenset({"pad_token_id", "special_ids", "ignore_index", "padding", "max_length",
                     "truncation", "pad_to_multiple_of", "padding_side", "dtype", "seed",
                     "mlm_probability", "mask_replace_prob", "random_replace_prob",
                     "num_threads"})
_LAYOUT = ("pad_token_id", "padding", "max_length", "truncation", "pad_to_multiple_of",
           "padding_side", "dtype")


class CausalLM:
    """Pads a batch and writes causal-LM labels."""

    mlm = False
    whole_word = False
    seed = None
    mask_token_id = None

    def __init__(self, vocab_size: int, mask_token_id: Any, options: Dict[str, Any],
                 flat: bool = False):
        unknown = sorted(set(options) - OPTIONS)
        if unknown:
            raise ValueError(f"with mlm=False there is no masking; {', '.join(unknown)} "
                             "do not apply")
        self.vocab_size = check_int("vocab_size", vocab_size, 1, C.MAX_VOCAB)
        self.mask_token_id = mask_token_id
        self.ignore_index = check_int("ignore_index", options.get("ignore_index", -100),
                                      -(1 << 31), (1 << 31) - 1)
        self._pad_options = {k: options[k] for k in _LAYOUT if k in options}
        #: None when there is no pad token (GPT-2-style tokenizers): batches that need no
        #: padding still collate, one that does raises
        self.pad_token_id: Optional[int] = self._pad_options.get("pad_token_id", 0)
        if self.pad_token_id is None:
            self._pad_options["pad_token_id"] = 0  # written nowhere: a padded batch raises
        # checks the layout options now rather than at the first batch
        pad([], vocab_size=self.vocab_size, **self._pad_options)
        if self.pad_token_id is not None:
            self.pad_token_id = int(self.pad_token_id)
        self.left = self._pad_options.get("padding_side", "right") == "left"
        self.flat = flat  # the padded batch is flattened: its padding is never returned

    def __call__(self, g: Gathered) -> Dict[str, np.ndarray]:
        given_attention = None
        if g.attention is not None and attention_pads(g.attention, g.ids):
            given_attention, _ = padding_from_attention(g)
        out = pad(g.ids, vocab_size=self.vocab_size, token_type_ids=g.types, **self._pad_options)
        if self.pad_token_id is None and not self.flat and out["attention_mask"].size and \
                not out["attention_mask"].all():
            lengths = sorted({len(r) for r in g.ids})
            raise ValueError(
                f"this batch needs padding (sequences of {lengths[0]} to {lengths[-1]} tokens, "
                f"padded width {out['input_ids'].shape[1]}) but there is no pad token "
                "(pad_token_id is None: the tokenizer has none); set tokenizer.pad_token (e.g. "
                "to tokenizer.eos_token) or pass pad_token_id=")
        if given_attention is not None:
            apply_attention(out["attention_mask"], given_attention, self.left)
        ids = out["input_ids"]
        labels = np.empty_like(ids)
        np.copyto(labels, ids)
        labels[out["attention_mask"] == 0] = self.ignore_index
        res = {"input_ids": ids, "attention_mask": out["attention_mask"], "labels": labels}
        if "token_type_ids" in out:
            res["token_type_ids"] = out["token_type_ids"]
        return res
