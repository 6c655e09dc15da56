"""Masked-LM labels (``MLMCollator(mlm=True)``): the batch goes through a :class:`fastmask.Masker`.

Each example's stream is keyed by ``(seed, epoch, sample id)``: the sample id and the epoch come
from the example's fields when it has them, else from the collator's epoch and the per-process
fallback numbering (:mod:`fastmask.torch.streams`). Without ``seed=`` the seed is drawn from
torch's default generator when the collator is built, so ``torch.manual_seed`` /
``transformers.set_seed`` govern it as they govern Hugging Face's collator.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Type

import numpy as np

from .. import Masker, words
from .._checks import check_choice
from .gather import Gathered, apply_attention, attention_pads, padding_from_attention
from .streams import EpochCell, FallbackStreams, torch_seed

__all__ = ["MaskedLM"]

_READY_TABLE = (bytes, bytearray, memoryview, np.ndarray)


class MaskedLM:
    """Pads and masks a batch with a :class:`fastmask.Masker` built from the options."""

    mlm = True

    def __init__(self, vocab_size: int, mask_token_id: Optional[int], options: Dict[str, Any],
                 masker_class: Type[Masker], rank: Optional[int]):
        if mask_token_id is None:
            raise ValueError("mask_token_id is required for masked-LM batches (mlm=True); "
                             "pass mlm=False for causal-LM labels")
        options = dict(options)
        check_choice("word_convention", options.get("word_convention", "auto"),
                     ("auto",) + tuple(words.CONVENTIONS))
        if options.get("seed") is None:
            options["seed"] = torch_seed()
        #: why the vocabulary gave no word table (its convention could not be told), if so
        self.no_table_reason: Optional[str] = None
        table = options.get("word_table")
        if table is not None and not isinstance(table, _READY_TABLE):
            options["word_table"] = self._table_of(table, options, vocab_size)
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
        table = options.get("word_table")
        if table is None or isinstance(table, np.ndarray):
            self.table = None if table is None else table.astype(np.uint8)
        else:
            self.table = np.frombuffer(bytes(table), dtype=np.uint8)
        self.streams = FallbackStreams(self.seed, rank)

    def _table_of(self, vocab: Any, options: Dict[str, Any], vocab_size: int) -> Optional[bytes]:
        """The word table of a vocabulary, built once so that no tokenizer is copied to workers.

        With ``word_convention="auto"`` and a vocabulary whose convention cannot be told, there
        is no table: the examples' ``word_ids`` / ``offset_mapping`` give the boundaries, and a
        batch without them raises (see :meth:`__call__`).
        """
        convention = options.get("word_convention", "auto")
        if convention == "auto" and options.get("whole_word"):
            try:
                convention = words.detect_convention(vocab)
            except ValueError as e:
                self.no_table_reason = str(e).replace("pass convention=", "pass word_convention=")
                return None
        return words.word_table(vocab, convention=convention, vocab_size=vocab_size)

    def _rekey(self, seed: int) -> Masker:
        """This configuration under another seed (a fallback stream of a rank or worker)."""
        opts = dict(self.options)
        opts["seed"] = seed
        return type(self.masker)(self.vocab_size, self.mask_token_id, **opts)

    def _boundaries(self, g: Gathered) -> Dict[str, Any]:
        """The word-boundary arguments of the masker call for this batch."""
        b = dict(g.boundaries)
        if "word_ids" in b and "offset_mapping" in b:
            del b["offset_mapping"]
        if not self.whole_word:
            return b
        if not b and self.table is None:
            why = (self.no_table_reason + "; or give the examples word_ids or offset_mapping"
                   if self.no_table_reason else
                   "the examples carry no word_ids, offset_mapping or chinese_ref and the "
                   "collator has no word table (MLMCollator.from_tokenizer builds one, or pass "
                   "word_table=)")
            raise ValueError(f"whole_word=True needs word boundaries: {why}")
        return b

    def __call__(self, g: Gathered, epoch: EpochCell, dupe_factor: Optional[int],
                 sample_id_key: str) -> Dict[str, np.ndarray]:
        B = len(g.ids)
        given_attention = None
        special = g.special
        if g.attention is not None and attention_pads(g.attention, g.ids):
            given_attention, special = padding_from_attention(g)
        kwargs: Dict[str, Any] = self._boundaries(g)
        if g.sids is not None:
            masker, sids = self.masker, g.sids
        else:
            if dupe_factor is not None:
                raise ValueError(f"dupe_factor needs a sample id per example (the "
                                 f"{sample_id_key!r} field, e.g. from IndexedDataset)")
            masker, sids = self.streams.take(B, self.masker, self._rekey)
        kwargs.update(sample_ids=sids, special_tokens_mask=special, token_type_ids=g.types,
                      return_special_tokens_mask=False)
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
