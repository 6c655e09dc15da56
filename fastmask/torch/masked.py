"""Masked-LM labels (``MLMCollator(mlm=True)``): the batch goes through a :class:`fastmask.Masker`.

Each example's stream is keyed by ``(seed, epoch, sample id)``: the sample id and the epoch come
from the example's fields when it has them, else from the collator's epoch and the per-process
fallback numbering (:mod:`fastmask.torch.streams`).
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Type

import numpy as np

from .. import Masker
from .gather import Gathered, apply_attention, attention_pads, padding_from_attention
from .streams import EpochCell, FallbackStreams

__all__ = ["MaskedLM"]


class MaskedLM:
    """Pads and masks a batch with a :class:`fastmask.Masker` built from the options."""

    mlm = True

    def __init__(self, vocab_size: int, mask_token_id: Optional[int], options: Dict[str, Any],
                 masker_class: Type[Masker], rank: Optional[int]):
        if mask_token_id is None:
            raise ValueError("mask_token_id is required for masked-LM batches (mlm=True); "
                             "pass mlm=False for causal-LM labels")
        options = dict(options)
        table = options.get("word_table")
        if table is not None and not isinstance(table, (bytes, bytearray, memoryview,
                                                        np.ndarray)):
            # build a vocabulary's table once, so that no tokenizer is copied to workers
            from .. import words

            options["word_table"] = words.word_table(
                table, convention=options.get("word_convention", "auto"), vocab_size=vocab_size)
        self.options = options
        self.masker = masker_class(vocab_size, mask_token_id, **options)
        m = self.masker
        self.seed = m.seed
        self.vocab_size = m.vocab_size
        self.mask_token_id = m.mask_token_id
        self.pad_token_id = m.layout.pad_token_id
        self.ignore_index = m.ignore_index
        self.whole_word = m.whole_word
        self.left = m.layout.padding_side == "left"
        self.streams = FallbackStreams(self.seed, rank)

    def _rekey(self, seed: int) -> Masker:
        """This configuration under another seed (a fallback stream of a rank or worker)."""
        opts = dict(self.options)
        opts["seed"] = seed
        return type(self.masker)(self.vocab_size, self.mask_token_id, **opts)

    def __call__(self, g: Gathered, epoch: EpochCell, dupe_factor: Optional[int],
                 sample_id_key: str) -> Dict[str, np.ndarray]:
        B = len(g.ids)
        given_attention = None
        special = g.special
        if g.attention is not None and attention_pads(g.attention):
            given_attention, special = padding_from_attention(g)
        if g.sids is not None:
            masker, sids = self.masker, g.sids
        else:
            if dupe_factor is not None:
                raise ValueError(f"dupe_factor needs a sample id per example (the "
                                 f"{sample_id_key!r} field, e.g. from IndexedDataset)")
            masker, sids = self.streams.take(B, self.masker, self._rekey)
        kwargs: Dict[str, Any] = dict(sample_ids=sids, special_tokens_mask=special,
                                      token_type_ids=g.types, return_special_tokens_mask=False)
        for k, v in g.boundaries.items():
            kwargs[k] = v
        if "word_ids" in kwargs and "offset_mapping" in kwargs:
            del kwargs["offset_mapping"]
        if g.epochs is None:
            e = epoch.get()
            out = masker(g.ids, epoch=e if dupe_factor is None else e % dupe_factor, **kwargs)
        else:
            epochs = g.epochs if dupe_factor is None else g.epochs % np.uint64(dupe_factor)
            distinct = np.unique(epochs)
            out = masker(g.ids, epoch=int(distinct[0]) if B else 0, **kwargs)
            # a batch that mixes epochs: each row takes the output of its own epoch (a row's
            # mask does not depend on the rest of the batch)
            for e in distinct[1:]:
                part = masker(g.ids, epoch=int(e), **kwargs)
                rows = epochs == e
                for k in out:
                    out[k][rows] = part[k][rows]
        out.pop("special_tokens_mask", None)
        if given_attention is not None:
            apply_attention(out["attention_mask"], given_attention, self.left)
        return out
