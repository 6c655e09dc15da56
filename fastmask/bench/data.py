"""Where a run's batches come from (:class:`DataSource`), the scenarios, and the batches of one
scenario in every input form a peer may ask for (:class:`ScenarioData`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from .common import (
    BATCH_SIZES,
    DEFAULT_INPUTS,
    INPUT_DESCRIPTIONS,
    MASKINGS,
    MAX_LENGTHS,
    BenchError,
)
from .corpus import RawBatch, SyntheticVocab, load_token_file, synthetic_batch


@dataclass
class DataSource:
    """Where the batches come from: the synthetic generator or a user's token file."""

    kind: str  # "synthetic" or "file"
    seed: int = 0
    path: Optional[str] = None
    vocab_size: int = SyntheticVocab.SIZE
    mask_id: int = SyntheticVocab.MASK
    pad_id: int = SyntheticVocab.PAD
    special_ids: Tuple[int, ...] = (0, 100, 101, 102, 103)
    tokenizer: Optional[str] = None
    word_table: Optional[bytes] = field(default=None, repr=False)
    notes: List[str] = field(default_factory=list)
    _values: Optional[np.ndarray] = field(default=None, repr=False)
    _offsets: Optional[np.ndarray] = field(default=None, repr=False)
    _vocab: Optional[SyntheticVocab] = field(default=None, repr=False)

    @classmethod
    def synthetic(cls, seed: int = 0) -> "DataSource":
        v = SyntheticVocab()
        return cls("synthetic", seed=seed, vocab_size=v.vocab_size, mask_id=v.MASK,
                   pad_id=v.PAD, special_ids=tuple(v.special_ids), word_table=v.word_table,
                   _vocab=v)

    @classmethod
    def from_file(cls, path: str, *, tokenizer: Optional[str] = None,
                  vocab_size: Optional[int] = None, mask_id: Optional[int] = None,
                  pad_id: Optional[int] = None,
                  special_ids: Optional[Sequence[int]] = None) -> "DataSource":
        values, offsets = load_token_file(path)
        notes: List[str] = []
        top = int(values.max())
        table = None
        specials: List[int] = list(special_ids or [])
        if tokenizer is not None:
            facts = tokenizer_facts(tokenizer, vocab_size)
            vocab_size = facts.vocab_size
            if mask_id is None:
                mask_id = facts.mask_id
                if mask_id is None:
                    raise BenchError(f"tokenizer {tokenizer!r} has no [MASK]/<mask> token; "
                                     "pass --mask-id")
            if pad_id is None:
                pad_id = facts.pad_id if facts.pad_id is not None else mask_id
            if special_ids is None:
                specials = list(facts.special_ids)
            table = facts.word_table
            notes += facts.notes
        if vocab_size is None:
            vocab_size = top + 1 + (1 if mask_id is None else 0)
        if mask_id is None:
            mask_id = vocab_size - 1
            notes.append(f"no --mask-id given: id {mask_id} stands for [MASK]")
        if pad_id is None:
            pad_id = 0
        if top >= vocab_size:
            raise BenchError(f"{path}: id {top} is not below the vocabulary size {vocab_size}")
        for name, v in (("mask id", mask_id), ("pad id", pad_id)):
            if not 0 <= v < vocab_size:
                raise BenchError(f"{name} {v} is outside [0, {vocab_size})")
        bad = [s for s in specials if not 0 <= s < vocab_size]
        if bad:
            raise BenchError(f"special id {bad[0]} is outside [0, {vocab_size})")
        return cls("file", path=path, vocab_size=int(vocab_size), mask_id=int(mask_id),
                   pad_id=int(pad_id), special_ids=tuple(sorted(set(specials))),
                   tokenizer=tokenizer, word_table=table, notes=notes, _values=values,
                   _offsets=offsets)

    def describe(self) -> str:
        if self.kind == "synthetic":
            return (f"synthetic: realistic lengths (log-normal documents, about 43 % cut at "
                    f"the max length, mean 0.68 x max length), BERT vocabulary layout "
                    f"({self.vocab_size} ids, Zipf-like frequencies), seed {self.seed}")
        assert self._offsets is not None and self._values is not None  # kind == "file"
        n = self._offsets.shape[0] - 1
        return (f"token file {self.path} ({n} sequences, {self._values.shape[0]} tokens, "
                f"vocabulary {self.vocab_size})")

    def to_spec(self) -> Dict[str, Any]:
        return {"kind": self.kind, "seed": self.seed, "path": self.path,
                "vocab_size": self.vocab_size, "mask_id": self.mask_id, "pad_id": self.pad_id,
                "special_ids": list(self.special_ids), "tokenizer": self.tokenizer}

    @classmethod
    def from_spec(cls, spec: Dict[str, Any]) -> "DataSource":
        if spec["kind"] == "synthetic":
            return cls.synthetic(spec["seed"])
        return cls.from_file(spec["path"], tokenizer=spec.get("tokenizer"),
                             vocab_size=spec["vocab_size"], mask_id=spec["mask_id"],
                             pad_id=spec["pad_id"], special_ids=spec["special_ids"])

    def batch(self, batch_size: int, max_length: int, index: int) -> RawBatch:
        if self.kind == "synthetic":
            assert self._vocab is not None
            return synthetic_batch(self._vocab, self.seed, batch_size, max_length, index)
        # consecutive sequences of the file, wrapping around, truncated to max_length
        off, values = self._offsets, self._values
        assert off is not None and values is not None  # kind == "file"
        n = off.shape[0] - 1
        rows = (np.arange(batch_size) + index * batch_size) % n
        starts = off[rows]
        lens = np.minimum(off[rows + 1] - starts, max_length)
        out_off = np.zeros(batch_size + 1, dtype=np.int64)
        np.cumsum(lens, out=out_off[1:])
        idx = np.repeat(starts - out_off[:-1], lens) + np.arange(int(out_off[-1]))
        return RawBatch(values[idx], out_off)

    def char_offsets(self, raw: RawBatch) -> Optional[np.ndarray]:
        if self._vocab is not None:
            return self._vocab.char_offsets(raw.values, raw.offsets)
        return None


class TokenizerFacts(NamedTuple):
    """What a benchmark needs to know about a tokenizer's vocabulary."""

    vocab_size: int
    mask_id: Optional[int]  # None: the vocabulary has no mask token
    pad_id: Optional[int]  # None: no pad token
    special_ids: Tuple[int, ...]
    word_table: Optional[bytes]  # None: no word table could be built (see notes)
    notes: List[str]


def tokenizer_facts(path: str, vocab_size: Optional[int] = None) -> TokenizerFacts:
    """Reads a tokenizer.json through :func:`fastmask.vocab.read_vocab` (the one vocabulary
    reader): its vocabulary size (``vocab_size`` when given), mask and pad ids, special ids and
    whole-word table."""
    from ..vocab import VocabError, read_vocab

    if not os.path.isfile(path):
        raise BenchError(f"tokenizer file {path!r} does not exist")
    try:
        facts = read_vocab(path)
    except (VocabError, ImportError) as e:
        raise BenchError(f"cannot load tokenizer file {path!r}: {e}") from None
    size = vocab_size or facts.vocab_size
    notes: List[str] = []
    table = None
    try:
        from .. import words

        table = words.word_table(facts.source, vocab_size=size)
    except Exception as e:  # an unusual vocabulary: whole-word scenarios are skipped
        notes.append(f"no word table for {path}: {e}")
    return TokenizerFacts(int(size), facts.mask_token_id, facts.pad_token_id, facts.special_ids,
                          table, notes)


# =================================================================================================
# Scenarios and the data of one scenario
# =================================================================================================


@dataclass(frozen=True)
class Scenario:
    batch_size: int
    max_length: int
    masking: str  # "tokens" or "words"
    inputs: str  # one of INPUT_FORMS

    @property
    def id(self) -> str:
        return f"B{self.batch_size}-L{self.max_length}-{self.masking}-{self.inputs}"

    @property
    def title(self) -> str:
        return (f"{self.batch_size} sequences x <={self.max_length} tokens, "
                f"{'whole-word' if self.masking == 'words' else 'token'} masking, "
                f"{INPUT_DESCRIPTIONS[self.inputs]} in")


def make_scenarios(batch_sizes: Iterable[int] = BATCH_SIZES,
                   max_lengths: Iterable[int] = MAX_LENGTHS,
                   maskings: Iterable[str] = MASKINGS,
                   inputs: Iterable[str] = DEFAULT_INPUTS) -> List[Scenario]:
    """Every combination, ordered by masking, input form, then size."""
    out = []
    for m in maskings:
        for form in inputs:
            for L in max_lengths:
                for B in batch_sizes:
                    out.append(Scenario(int(B), int(L), m, form))
    return out


class ScenarioData:
    """The batches of one scenario in every form a peer may ask for (built lazily, cached)."""

    def __init__(self, source: DataSource, sc: Scenario, n_batches: int):
        self.source = source
        self.scenario = sc
        self.raw = [source.batch(sc.batch_size, sc.max_length, i) for i in range(n_batches)]
        self._cache: Dict[Tuple[str, int], Any] = {}

    def __len__(self) -> int:
        return len(self.raw)

    @property
    def tokens(self) -> float:
        """Mean number of real tokens per batch."""
        return float(np.mean([r.tokens for r in self.raw]))

    @property
    def width(self) -> int:
        return int(max(int(r.lengths.max()) for r in self.raw))

    def _get(self, key: str, i: int, make: Callable[[RawBatch], Any]) -> Any:
        k = (key, i)
        if k not in self._cache:
            self._cache[k] = make(self.raw[i])
        return self._cache[k]

    def lists(self, i: int) -> List[List[int]]:
        def make(r: RawBatch):
            v = r.values.tolist()
            o = r.offsets.tolist()
            return [v[o[j]:o[j + 1]] for j in range(len(o) - 1)]
        return self._get("list", i, make)

    def arrays(self, i: int) -> List[np.ndarray]:
        return self._get("arrays", i, lambda r: [r.values[r.offsets[j]:r.offsets[j + 1]].copy()
                                                 for j in range(len(r.offsets) - 1)])

    def padded(self, i: int) -> Tuple[np.ndarray, np.ndarray]:
        def make(r: RawBatch):
            L = self.scenario.max_length
            B = r.offsets.shape[0] - 1
            arr = np.full((B, L), self.source.pad_id, dtype=np.int64)
            lens = r.lengths
            arr[np.arange(L)[None, :] < lens[:, None]] = r.values
            return arr, lens
        return self._get("ndarray", i, make)

    def ragged(self, i: int) -> Tuple[np.ndarray, np.ndarray]:
        return self._get("ragged", i, lambda r: (r.values, r.offsets))

    def special_masks(self, i: int) -> List[List[int]]:
        def make(r: RawBatch):
            flags = np.isin(r.values, self.source.special_ids).astype(np.int64).tolist()
            o = r.offsets.tolist()
            return [flags[o[j]:o[j + 1]] for j in range(len(o) - 1)]
        return self._get("special", i, make)

    def hf_examples(self, i: int) -> List[Dict[str, Any]]:
        """Dicts with ``input_ids`` and ``special_tokens_mask`` (Hugging Face's fast path)."""
        return self._get("hf", i, lambda r: [
            {"input_ids": ids, "special_tokens_mask": sm}
            for ids, sm in zip(self.lists(i), self.special_masks(i))])

    def hf_wwm_examples(self, i: int) -> Optional[List[Dict[str, Any]]]:
        """Equal-length dicts with ``offset_mapping`` for HF whole-word masking.

        ``tokenizer.pad`` does not pad ``offset_mapping``, so HF whole-word masking only works
        on examples that already have one length; they are padded here, outside the timing, to
        the batch's longest sequence (HF's most favourable case).
        """
        def make(r: RawBatch):
            spans = self.source.char_offsets(r)
            if spans is None:
                return None
            W = int(r.lengths.max())
            pad = self.source.pad_id
            out = []
            o = r.offsets.tolist()
            lists = self.lists(i)
            sms = self.special_masks(i)
            sp = [tuple(x) for x in spans.tolist()]
            for j in range(len(o) - 1):
                n = o[j + 1] - o[j]
                k = W - n
                out.append({"input_ids": lists[j] + [pad] * k,
                            "attention_mask": [1] * n + [0] * k,
                            "special_tokens_mask": sms[j] + [1] * k,
                            "offset_mapping": sp[o[j]:o[j + 1]] + [(0, 0)] * k})
            return out
        return self._get("hf_wwm", i, make)

    def inputs(self, i: int) -> Tuple[tuple, dict]:
        """Positional and keyword arguments of a fastmask-style call in this scenario's form."""
        form = self.scenario.inputs
        if form == "list":
            return (self.lists(i),), {}
        if form == "arrays":
            return (self.arrays(i),), {}
        if form == "ndarray":
            arr, lens = self.padded(i)
            return (arr,), {"lengths": lens}
        values, offsets = self.ragged(i)
        return (values,), {"offsets": offsets}


