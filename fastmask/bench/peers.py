"""The implementations under test: fastmask, its pure-Python reference, the NumPy baseline,
Hugging Face's collator, and the memory floors."""

from __future__ import annotations

import importlib.util
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional

import numpy as np

from .corpus import SyntheticVocab
from .data import DataSource, Scenario, ScenarioData
from .verify import check_masked, check_padded


@dataclass
class Context:
    """Run-wide settings the peers read."""

    seed: int = 0
    dtype: str = "int64"
    threads: int = 1
    reference_max_tokens: int = 100_000
    hf_wwm_max_cells: int = 1 << 28
    _hf_tokenizer: Any = None


class Peer:
    """One implementation under test. ``prepare`` returns a callable ``f(i)`` that processes
    batch ``i`` of the scenario and returns its outputs."""

    name = ""
    label = ""
    kind = "peer"  # "fastmask", "peer" or "floor"
    install = ""
    slow = False  # few calls, no warm-up beyond the first
    random_avoids_specials = True  # random replacements never draw a special id

    def missing(self) -> Optional[str]:
        """None when the peer can run here, else a note saying how to install it."""
        return None

    def skip(self, sc: Scenario, data_source: DataSource, ctx: Context) -> Optional[str]:
        """None when the peer runs this scenario, else why not."""
        return None

    def prepare(self, data: ScenarioData, ctx: Context) -> Callable[[int], Any]:
        raise NotImplementedError

    def check(self, out: Any, data: ScenarioData, i: int) -> None:
        """Raises :class:`~fastmask.bench.verify.WrongOutput` unless ``out`` is a correct
        masking of batch ``i`` (see :mod:`fastmask.bench.verify`)."""
        src = data.source
        table = src.word_table if data.scenario.masking == "words" else None
        check_masked(out, data.raw[i], vocab_size=src.vocab_size, mask_id=src.mask_id,
                     pad_id=src.pad_id, special_ids=src.special_ids, word_table=table,
                     random_avoids_specials=self.random_avoids_specials)


def _needs_table(sc: Scenario, source: DataSource) -> Optional[str]:
    if sc.masking == "words" and source.word_table is None:
        return "whole-word masking needs a word table (pass --tokenizer)"
    return None


#: Skip reason of a peer that only runs the other masking kind (not listed in the report).
OTHER_MASKING = "runs on the other masking kind"


def _masker_options(data: ScenarioData, ctx: Context, threads: int = 1) -> Dict[str, Any]:
    src = data.source
    words = data.scenario.masking == "words"
    opts = dict(pad_token_id=src.pad_id, special_ids=src.special_ids, seed=ctx.seed,
                dtype=ctx.dtype)
    if words:
        opts.update(whole_word=True, word_table=src.word_table)
    if threads > 1:
        opts["num_threads"] = threads
    return opts


def _call(fn: Callable, data: ScenarioData) -> Callable[[int], Any]:
    args = [data.inputs(i) for i in range(len(data))]

    def run(i: int) -> Any:
        a, kw = args[i]
        return fn(*a, **kw)

    return run


class FastmaskPeer(Peer):
    name = "fastmask"
    label = "fastmask (C core)"
    kind = "fastmask"

    def __init__(self, threads: int = 1):
        self.threads = threads
        if threads > 1:
            self.name = f"fastmask-t{threads}"
            self.label = f"fastmask, {threads} threads"

    def skip(self, sc, source, ctx):
        return _needs_table(sc, source)

    def prepare(self, data, ctx):
        import fastmask

        src = data.source
        m = fastmask.Masker(src.vocab_size, src.mask_id,
                            **_masker_options(data, ctx, max(self.threads, ctx.threads)))
        return _call(m, data)


class ReferencePeer(Peer):
    name = "reference"
    label = "fastmask.reference (pure Python)"
    install = "part of fastmask"
    slow = True

    def missing(self):
        try:
            from .. import reference
        except Exception as e:  # pragma: no cover - a broken checkout
            return f"fastmask.reference does not import: {e}"
        if not hasattr(reference, "Masker"):
            return "fastmask.reference.Masker is not available in this version"
        return None

    def skip(self, sc, source, ctx):
        if _needs_table(sc, source):
            return _needs_table(sc, source)
        if sc.inputs != "list":
            return "run on list inputs only (its cost is the Python loop, not the input form)"
        expect = 0.68 * sc.batch_size * sc.max_length if source.kind == "synthetic" else 0
        if expect > ctx.reference_max_tokens:
            return (f"batches of more than --reference-max-tokens={ctx.reference_max_tokens} "
                    "tokens (it would take seconds per batch)")
        return None

    def prepare(self, data, ctx):
        from .. import reference

        src = data.source
        m = reference.Masker(src.vocab_size, src.mask_id, **_masker_options(data, ctx))
        return _call(m, data)


class NumpyPeer(Peer):
    name = "numpy"
    label = "NumPy-vectorized pad + mask"

    def skip(self, sc, source, ctx):
        return _needs_table(sc, source)

    def prepare(self, data, ctx):
        from .baseline import NumpyMasker

        src = data.source
        words = data.scenario.masking == "words"
        m = NumpyMasker(src.vocab_size, src.mask_id, pad_token_id=src.pad_id,
                        special_ids=src.special_ids, seed=ctx.seed, dtype=ctx.dtype,
                        whole_word=words, word_table=src.word_table if words else None)
        return _call(m, data)


def _hf_missing() -> Optional[str]:
    missing = [m for m in ("transformers", "tokenizers") if importlib.util.find_spec(m) is None]
    if missing:
        return (f"{' and '.join(missing)} not installed: pip install transformers tokenizers "
                "(or pip install 'fastmask[bench]')")
    return None


def hf_tokenizer(source: DataSource, ctx: Context):
    """A ``PreTrainedTokenizerFast`` over the scenario's vocabulary, built locally."""
    if ctx._hf_tokenizer is not None:
        return ctx._hf_tokenizer
    from transformers import PreTrainedTokenizerFast

    if source.tokenizer is not None:
        tok = PreTrainedTokenizerFast(tokenizer_file=source.tokenizer)
        vocab = tok.get_vocab()
        inv = {v: k for k, v in vocab.items()}
        tok.mask_token = inv[source.mask_id]
        tok.pad_token = inv[source.pad_id]
    else:
        from tokenizers import Tokenizer, models, pre_tokenizers

        synth = SyntheticVocab()
        wp = Tokenizer(models.WordPiece({t: i for i, t in enumerate(synth.tokens)},
                                        unk_token="[UNK]"))
        wp.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok = PreTrainedTokenizerFast(tokenizer_object=wp, pad_token="[PAD]", unk_token="[UNK]",
                                      cls_token="[CLS]", sep_token="[SEP]",
                                      mask_token="[MASK]")
    ctx._hf_tokenizer = tok
    return tok


def _hf_return_tensors() -> str:
    return "pt" if importlib.util.find_spec("torch") is not None else "np"


class HFPeer(Peer):
    name = "hf"
    label = "HF DataCollatorForLanguageModeling"
    install = "pip install transformers tokenizers torch"
    whole_word = False
    random_avoids_specials = False  # HF draws random ids from the whole vocabulary

    def missing(self):
        return _hf_missing()

    def skip(self, sc, source, ctx):
        if sc.masking != ("words" if self.whole_word else "tokens"):
            return OTHER_MASKING
        if sc.inputs != "list":
            return "takes a list of dicts; compared on list inputs"
        return None

    def prepare(self, data, ctx):
        from transformers import DataCollatorForLanguageModeling

        tok = hf_tokenizer(data.source, ctx)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            collator = DataCollatorForLanguageModeling(
                tok, mlm_probability=0.15, whole_word_mask=self.whole_word, seed=ctx.seed,
                return_tensors=_hf_return_tensors())
        examples = [self._examples(data, i) for i in range(len(data))]

        def run(i: int) -> Any:
            return collator(examples[i])

        return run

    def _examples(self, data: ScenarioData, i: int):
        return data.hf_examples(i)


class HFWholeWordPeer(HFPeer):
    name = "hf-wwm"
    label = "HF collator, whole_word_mask=True"
    whole_word = True
    slow = True

    def skip(self, sc, source, ctx):
        why = super().skip(sc, source, ctx)
        if why:
            return why
        if source.kind != "synthetic":
            return "needs offset_mapping (only available for synthetic data)"
        cells = sc.batch_size * sc.max_length * sc.max_length
        if cells > ctx.hf_wwm_max_cells:
            return (f"builds a B x L x L array ({cells / 1e9:.1f} G cells, above "
                    f"--hf-wwm-max-cells={ctx.hf_wwm_max_cells})")
        return None

    def _examples(self, data, i):
        return data.hf_wwm_examples(i)


class PadFloorPeer(Peer):
    name = "pad-floor"
    label = "floor for lists: pad only (fastmask.pad, no masking)"
    kind = "floor"

    def prepare(self, data, ctx):
        import fastmask

        pad_id = data.source.pad_id
        dtype = ctx.dtype

        def pad(*a, **kw):
            return fastmask.pad(*a, pad_token_id=pad_id, dtype=dtype, **kw)

        return _call(pad, data)

    def check(self, out, data, i):
        check_padded(out, data.raw[i], data.source.pad_id)


class CopyFloorPeer(Peer):
    name = "copy-floor"
    label = "floor for arrays: write the 3 padded outputs"
    kind = "floor"

    def prepare(self, data, ctx):
        import fastmask

        src = data.source
        m = fastmask.Masker(src.vocab_size, src.mask_id, **_masker_options(data, ctx))
        outs = []
        for i in range(len(data)):
            a, kw = data.inputs(i)
            o = m(*a, **kw)
            outs.append((o["input_ids"], o["labels"], o["attention_mask"]))

        def run(i: int) -> Any:
            ids, labels, attention = outs[i]
            block = np.empty((3,) + ids.shape, dtype=ids.dtype)
            np.copyto(block[0], ids)
            np.copyto(block[1], labels)
            np.copyto(block[2], attention)
            return block

        return run

    def check(self, out, data, i):
        super().check({"input_ids": out[0], "labels": out[1], "attention_mask": out[2]}, data, i)


#: Every peer, by name, in report order.
PEERS: Dict[str, Peer] = {p.name: p for p in (FastmaskPeer(), HFPeer(), HFWholeWordPeer(),
                                              NumpyPeer(), ReferencePeer(), PadFloorPeer(),
                                              CopyFloorPeer())}


def get_peer(name: str) -> Peer:
    if name.startswith("fastmask-t"):
        return FastmaskPeer(int(name[len("fastmask-t"):]))
    return PEERS[name]

#: Short peer names for table columns and chart legends.
SHORT = {"fastmask": "fastmask", "hf": "HF", "hf-wwm": "HF wwm", "numpy": "NumPy",
         "reference": "reference", "pad-floor": "pad floor", "copy-floor": "copy floor"}
