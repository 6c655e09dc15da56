"""PyTorch integration: a ``collate_fn`` for masked-language-model training.

:class:`MLMCollator` takes the place of Hugging Face's ``DataCollatorForLanguageModeling``: give
it to ``DataLoader(collate_fn=...)`` or ``Trainer(data_collator=...)``. It pads and masks a list
of examples in the C core and returns tensors that share memory with the arrays the core wrote.

Masks are a pure function of ``(seed, epoch, sample id)`` (docs/semantics.md), so they do not
depend on batch composition, worker count, rank or resumption, provided each example carries a
sample id. The helpers here get the sample id and the epoch to wherever collation runs:

* :class:`IndexedDataset` wraps a map-style dataset and attaches each example's index as its
  sample id (and, given ``(epoch, index)`` pairs, the epoch);
* :class:`EpochSampler` wraps a sampler and yields ``(epoch, index)`` pairs, so the epoch
  travels with the indices to every worker, persistent ones included;
* :meth:`MLMCollator.set_epoch` stores the epoch in a shared-memory cell that every copy of the
  collator reads, worker processes included;
* :class:`EpochCallback` calls ``set_epoch`` from a Hugging Face ``Trainer``.

Examples without sample ids are numbered by a per-process counter whose streams never overlap
across workers, ranks or epochs (see :class:`MLMCollator`, "Examples without sample ids").

This module imports ``torch``; ``transformers`` is never imported.
"""

from __future__ import annotations

import math
import operator
import os
import threading
from collections.abc import Mapping
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from . import _config as C
from ._api import Masker, _check_choice, _check_int, pad

__all__ = [
    "MLMCollator",
    "Batch",
    "IndexedDataset",
    "IndexedExample",
    "EpochSampler",
    "EpochCallback",
]

#: Keys of a dict example that the collator reads itself; every other key is an "extra".
_BOUNDARY_KEYS = ("word_ids", "offset_mapping", "chinese_ref")
_MAX_RANK = 1 << 16
_FALLBACK_BASE = 1 << 47  # fallback sample ids live in [2**47, 2**48)
_SLOT_SHIFT = 39
_MAX_SLOTS = 1 << (47 - _SLOT_SHIFT)  # 256: the main process and up to 255 workers
_COUNTER_LIMIT = 1 << _SLOT_SHIFT
_NONCE_MASK = (1 << 48) - 1


# =================================================================================================
# batch container


class Batch(dict):
    """The collator's output: a ``dict`` of tensors with a ``to()`` method.

    ``batch.to(device)`` (or any arguments of :meth:`torch.Tensor.to`) returns a new
    :class:`Batch` with every tensor moved, like Hugging Face's ``BatchEncoding.to``.
    """

    def to(self, *args: Any, **kwargs: Any) -> "Batch":
        return Batch({k: v.to(*args, **kwargs) if isinstance(v, torch.Tensor) else v
                      for k, v in self.items()})


# =================================================================================================
# the shared epoch cell


class _EpochCell:
    """An int64 in shared memory: written by the main process, read by every worker.

    The value lives in a shared-memory torch storage. Forked workers inherit the mapping; when
    workers are spawned, torch's multiprocessing pickler sends a handle to the same memory. An
    ordinary ``pickle``/``copy.deepcopy`` gives an independent copy.
    """

    __slots__ = ("tensor", "_view")

    def __init__(self, value: int = 0):
        self.tensor = _shared(torch.full((1,), value, dtype=torch.int64))
        self._view = self.tensor.numpy()

    def get(self) -> int:
        return int(self._view[0])

    def set(self, value: int) -> None:
        self._view[0] = value

    def __getstate__(self):
        return {"tensor": self.tensor}

    def __setstate__(self, state):
        # a cell sent to a spawned worker arrives shared; an ordinary copy becomes a new cell
        self.tensor = _shared(state["tensor"])
        self._view = self.tensor.numpy()


def _shared(t: torch.Tensor) -> torch.Tensor:
    if not t.is_shared():
        try:
            t.share_memory_()
        except (RuntimeError, OSError):  # pragma: no cover - no usable shared memory
            pass
    return t


# =================================================================================================
# the per-process stream of examples without sample ids


class _Stream:
    """Fallback numbering of one collating process (the main process or one worker)."""

    __slots__ = ("pid", "masker", "slot", "rank", "nonce", "next", "lock")

    def __init__(self, pid: int, masker: Masker, slot: int, rank: int, nonce: int):
        self.pid = pid
        self.masker = masker
        self.slot = slot
        self.rank = rank
        self.nonce = nonce
        self.next = 0
        self.lock = threading.Lock()

    def take(self, n: int) -> np.ndarray:
        with self.lock:
            start = self.next
            if start + n > _COUNTER_LIMIT:
                raise RuntimeError(
                    "this process has collated 2**39 examples without sample ids; give the "
                    "examples sample ids (IndexedDataset) to go on")
            self.next = start + n
        base = _FALLBACK_BASE | (self.slot << _SLOT_SHIFT)
        return np.arange(base + start, base + start + n, dtype=np.uint64)


def _detect_rank() -> int:
    """This process's rank: torch.distributed when initialised, else $RANK, else 0."""
    try:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            return int(dist.get_rank())
    except (ImportError, RuntimeError, ValueError):  # pragma: no cover - exotic builds
        pass
    env = os.environ.get("RANK")
    if env is not None:
        try:
            return int(env)
        except ValueError:
            pass
    return 0


# =================================================================================================
# input gathering


class _Gathered:
    """The columns of one batch, pulled out of the examples."""

    __slots__ = ("ids", "attention", "types", "special", "boundaries", "sids", "epochs",
                 "extras")

    def __init__(self):
        self.ids: list = []
        self.attention = None
        self.types = None
        self.special = None
        self.boundaries: Dict[str, list] = {}
        self.sids = None
        self.epochs = None
        self.extras: Dict[str, list] = {}


def _ids_row(value: Any) -> Any:
    """One sequence as something the core reads: a list/tuple or a 1-D integer ndarray."""
    t = type(value)
    if t is list or t is tuple or t is np.ndarray:
        return value
    if isinstance(value, torch.Tensor):
        if value.device.type != "cpu":
            value = value.cpu()
        return value.numpy()
    return value


def _column(examples: Sequence[Mapping], key: str) -> list:
    try:
        return [ex[key] for ex in examples]
    except KeyError:
        i = next(i for i, ex in enumerate(examples) if key not in ex)
        raise ValueError(f"examples[{i}] has no {key!r} but examples[0] has; every example of a "
                         "batch needs the same keys") from None
    except TypeError:
        i = next(i for i, ex in enumerate(examples) if not isinstance(ex, Mapping))
        raise TypeError(f"examples[{i}] is a {type(examples[i]).__name__} but examples[0] is a "
                        "mapping; a batch must be all dicts or all sequences") from None


def _index_column(values: list, key: str, limit: int) -> np.ndarray:
    """Sample ids or epochs read from a per-example field, checked and named on error."""
    out = np.empty(len(values), dtype=np.uint64)
    for i, v in enumerate(values):
        if isinstance(v, (bool, np.bool_)):
            raise TypeError(f"examples[{i}][{key!r}] must be an integer, got {v!r}")
        try:
            x = operator.index(v)
        except TypeError:
            raise TypeError(f"examples[{i}][{key!r}] must be an integer, got "
                            f"{type(v).__name__} {v!r}") from None
        if x < 0 or x >= limit:
            raise ValueError(f"examples[{i}][{key!r}] = {x} is outside [0, {limit})")
        out[i] = x
    return out


def _attention_pads(masks: list) -> bool:
    """True when some example's own attention_mask marks padding (a 0 at either end)."""
    for am in masks:
        if type(am) is not list:
            am = np.asarray(am)
        if len(am) and (not am[0] or not am[-1]):
            return True
    return False


# =================================================================================================
# the collator


class MLMCollator:
    """Pads and masks a batch of examples for masked-language-model training.

    Use it as ``DataLoader(collate_fn=collator)`` or ``Trainer(data_collator=collator)``;
    :meth:`from_tokenizer` reads the vocabulary facts from a Hugging Face tokenizer.

    **Input.** A list of dicts (as a tokenizer or a ``datasets.Dataset`` returns them), a list of
    token-id lists, or a list of 1-D tensors/arrays. A dict example must have ``input_ids``;
    the collator also reads:

    * ``token_type_ids``: padded with 0 and returned;
    * ``special_tokens_mask``: positions marked 1 are never picked; not returned;
    * ``attention_mask``: when an example's own mask marks padding (pre-padded examples), those
      positions are treated as padding: never picked and 0 in the returned mask. Otherwise the
      returned ``attention_mask`` is computed from the lengths;
    * ``word_ids`` / ``offset_mapping`` / ``chinese_ref``: word boundaries for ``whole_word``;
      not returned (ignored when ``whole_word`` is off);
    * the sample-id field (``sample_id_key``) and the epoch field (``epoch_key``): the stream
      key of each example; not returned;
    * ``labels``: dropped and recomputed, as Hugging Face's collator does.

    Every other key is collated the way Hugging Face's collator does it: numbers and equal-shape
    numeric sequences are stacked into a tensor, anything else raises a ``ValueError`` naming
    the key.

    **Output.** A :class:`Batch` (a ``dict``) with ``input_ids``, ``attention_mask`` and
    ``labels`` (and ``token_type_ids`` when given), ``int64`` by default, or ``int32`` with
    ``dtype="int32"`` (half the bytes to move from a worker; convert labels to ``int64`` before
    a ``cross_entropy`` loss). ``labels`` holds the original id at picked positions and
    ``ignore_index`` (-100) everywhere else, padding included. ``return_tensors="np"`` returns a
    dict of NumPy arrays. ``mlm=False`` returns causal-LM labels: a copy of the ids with padding
    set to ``ignore_index``.

    With ``flatten=True`` the batch is one row of real tokens (no padding) with
    ``position_ids``, ``cu_seq_lens_q`` / ``cu_seq_lens_k`` (int32 offsets, one more than the
    number of sequences) and ``max_length_q`` / ``max_length_k`` (Python ints): the layout of
    Hugging Face's ``DataCollatorWithFlattening`` and variable-length attention kernels. Each
    sequence is masked exactly as in the padded layout.

    **Reproducibility.** The masks of an example are a pure function of ``(seed, epoch, sample
    id)``. The sample id comes from the example's ``sample_id_key`` field (attached by
    :class:`IndexedDataset`, or your own column); the epoch from the example's ``epoch_key``
    field (attached by :class:`IndexedDataset` from the pairs :class:`EpochSampler` yields), or
    else from :meth:`set_epoch`. With ``dupe_factor=k`` the epoch is taken modulo ``k``:
    BERT's static masking (every sequence has ``k`` fixed masks) without ``k`` copies of the
    data.

    **Examples without sample ids.** Each collating process numbers the examples it sees with a
    running counter. The streams of different processes never overlap: the stream of the ``n``-th
    example collated by a process is keyed by

    * the sample id ``2**47 + slot * 2**39 + n``, where ``slot`` is 0 in the main process and
      ``1 + worker id`` in a ``DataLoader`` worker (at most 255 workers);
    * the epoch (:meth:`set_epoch`);
    * the seed ``seed XOR (rank * 2**48) XOR nonce``, where ``rank`` is the distributed rank (the
      ``rank`` option, else ``torch.distributed``, else ``$RANK``, else 0) and ``nonce`` is 0 in
      the main process and, in a worker, the low 48 bits of the base seed torch draws for that
      worker's start (``worker_info.seed - worker_info.id``).

    So streams differ between ranks and between workers by construction; between epochs they
    differ through the epoch when you call :meth:`set_epoch`, otherwise because a process keeps
    counting (main process, persistent workers) or a restarted worker gets a new base seed
    (distinct except with probability about 2**-48). The main process is reproducible for a
    given seed; workers are reproducible when torch's generator is seeded (``torch.manual_seed``
    or ``DataLoader(generator=...)``) and the worker count is unchanged. Masks then depend on
    the order and batching of the examples: give examples sample ids for masks that do not.

    Args:
        vocab_size: number of ids (``len(tokenizer)``).
        mask_token_id: id written at ``mask_replace_prob`` of the picked tokens; not needed
            with ``mlm=False``.
        mlm: ``False`` for causal-LM labels (no masking).
        return_tensors: ``"pt"`` (default) or ``"np"``.
        sample_id_key: name of the per-example sample-id field (``"sample_id"``).
        epoch_key: name of the per-example epoch field (``"epoch"``).
        dupe_factor: static masking with this many fixed masks per sequence (needs sample ids).
        flatten: return the padding-free layout described above.
        position_ids_start: first position id of every sequence with ``flatten`` (0; RoBERTa-like
            models count from ``padding_idx + 1``).
        rank: this process's rank for the stream of examples without sample ids (default:
            detected).
        **options: the :class:`fastmask.Masker` options: ``pad_token_id``, ``special_ids``,
            ``mlm_probability``, ``mask_replace_prob``, ``random_replace_prob``, ``selection``,
            ``max_predictions``, ``random_ids``, ``ignore_index``, ``seed``, ``whole_word``,
            ``word_table``, ``word_convention``, ``action``, ``span_lengths``, ``padding``,
            ``max_length``, ``truncation``, ``pad_to_multiple_of``, ``padding_side``,
            ``dtype``, ``num_threads``.
    """

    #: The masking implementation (``fastmask.reference.Masker`` gives the pure-Python twin).
    _masker_class = Masker

    def __init__(self, vocab_size: int, mask_token_id: Optional[int] = None, *, mlm: bool = True,
                 return_tensors: str = "pt", sample_id_key: str = "sample_id",
                 epoch_key: str = "epoch", dupe_factor: Optional[int] = None,
                 flatten: bool = False, position_ids_start: int = 0, rank: Optional[int] = None,
                 **options: Any):
        if not isinstance(mlm, (bool, np.bool_)):
            raise TypeError(f"mlm must be True or False, got {mlm!r}")
        self.mlm = bool(mlm)
        self.return_tensors = _check_choice("return_tensors", return_tensors, ("pt", "np"))
        for name, value in (("sample_id_key", sample_id_key), ("epoch_key", epoch_key)):
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a str, got {type(value).__name__}")
        if sample_id_key == epoch_key:
            raise ValueError("sample_id_key and epoch_key must differ")
        self.sample_id_key = sample_id_key
        self.epoch_key = epoch_key
        self.dupe_factor = _check_int("dupe_factor", dupe_factor, 1, C.MAX_EPOCH, none_ok=True)
        if not isinstance(flatten, (bool, np.bool_)):
            raise TypeError(f"flatten must be True or False, got {flatten!r}")
        self.flatten = bool(flatten)
        self.position_ids_start = _check_int("position_ids_start", position_ids_start, 0,
                                             C.MAX_VOCAB)
        self.rank = _check_int("rank", rank, 0, _MAX_RANK - 1, none_ok=True)
        if self.flatten and (options.get("pad_to_multiple_of") is not None
                             or options.get("padding", "longest") != "longest"):
            raise ValueError("flatten=True returns no padding: pad_to_multiple_of and "
                             "padding='max_length' do not apply")
        if "tokenizer" in options:
            raise TypeError("pass a tokenizer to MLMCollator.from_tokenizer(tokenizer, ...)")
        self._options = dict(options)
        if self.mlm:
            if mask_token_id is None:
                raise ValueError("mask_token_id is required for masked-LM batches (mlm=True); "
                                 "pass mlm=False for causal-LM labels")
            table = self._options.get("word_table")
            if table is not None and not isinstance(table, (bytes, bytearray, memoryview,
                                                            np.ndarray)):
                # build a vocabulary's table once, so that no tokenizer is copied to workers
                from . import words

                self._options["word_table"] = words.word_table(
                    table, convention=self._options.get("word_convention", "auto"),
                    vocab_size=vocab_size)
            self._masker: Optional[Masker] = self._masker_class(vocab_size, mask_token_id,
                                                                **self._options)
            self.seed = self._masker.seed
            self.vocab_size = self._masker.vocab_size
            self.mask_token_id = self._masker.mask_token_id
            self.pad_token_id = self._masker.layout.pad_token_id
            self.ignore_index = self._masker.ignore_index
            self.whole_word = self._masker.whole_word
            self._layout = self._masker.layout
        else:
            self._masker = None
            self.seed = None
            allowed = {"pad_token_id", "special_ids", "ignore_index", "padding", "max_length",
                       "truncation", "pad_to_multiple_of", "padding_side", "dtype", "seed",
                       "mlm_probability", "mask_replace_prob", "random_replace_prob",
                       "num_threads"}
            unknown = sorted(set(self._options) - allowed)
            if unknown:
                raise ValueError(f"with mlm=False there is no masking; {', '.join(unknown)} "
                                 "do not apply")
            self.vocab_size = _check_int("vocab_size", vocab_size, 1, C.MAX_VOCAB)
            self.mask_token_id = mask_token_id
            self.ignore_index = _check_int("ignore_index", self._options.get("ignore_index",
                                                                              -100),
                                           -(1 << 31), (1 << 31) - 1)
            self.whole_word = False
            self._pad_options = {k: self._options[k] for k in (
                "pad_token_id", "padding", "max_length", "truncation", "pad_to_multiple_of",
                "padding_side", "dtype") if k in self._options}
            # validates the layout options now rather than at the first batch
            from ._api import _Layout

            self._layout = _Layout(self._pad_options.get("pad_token_id", 0),
                                   self._pad_options.get("padding", "longest"),
                                   self._pad_options.get("max_length"),
                                   self._pad_options.get("truncation", False),
                                   self._pad_options.get("pad_to_multiple_of"),
                                   self._pad_options.get("padding_side", "right"),
                                   self._pad_options.get("dtype", "int64"))
            self.pad_token_id = self._layout.pad_token_id
        self._epoch = _EpochCell(0)
        self._stream: Optional[_Stream] = None
        self._stream_lock = threading.Lock()

    # -- construction from a tokenizer --------------------------------------------------------
    @classmethod
    def from_tokenizer(cls, tokenizer: Any, **options: Any) -> "MLMCollator":
        """A collator configured from a Hugging Face tokenizer (duck-typed).

        Reads ``len(tokenizer)`` (vocabulary size), ``mask_token_id``, ``pad_token_id``,
        ``all_special_ids`` (never picked, never drawn as random replacements),
        ``padding_side``, and, for ``whole_word=True``, ``get_vocab()`` to build the word table
        (per-example ``word_ids`` / ``offset_mapping`` take precedence over it; pass
        ``word_table=None`` to use only those). Hugging Face's
        option names ``whole_word_mask`` and ``mlm`` are accepted; any option given explicitly
        overrides what the tokenizer says.
        """
        opts = dict(options)
        if "whole_word_mask" in opts:
            if "whole_word" in opts:
                raise TypeError("pass whole_word or whole_word_mask, not both")
            opts["whole_word"] = opts.pop("whole_word_mask")
        mlm = opts.get("mlm", True)
        if "vocab_size" in opts:
            vocab_size = opts.pop("vocab_size")
        else:
            try:
                vocab_size = len(tokenizer)
            except TypeError:
                raise TypeError("tokenizer has no len(); pass vocab_size=") from None
        mask_id = opts.pop("mask_token_id", getattr(tokenizer, "mask_token_id", None))
        if mlm and mask_id is None:
            raise ValueError("the tokenizer has no mask token (tokenizer.mask_token_id is None); "
                             "pass mask_token_id=, or mlm=False for causal-LM labels")
        if "pad_token_id" not in opts:
            pad_id = getattr(tokenizer, "pad_token_id", None)
            if pad_id is None:
                raise ValueError("the tokenizer has no padding token (tokenizer.pad_token_id is "
                                 "None); set tokenizer.pad_token or pass pad_token_id=")
            opts["pad_token_id"] = pad_id
        if "special_ids" not in opts:
            specials = getattr(tokenizer, "all_special_ids", None) or ()
            opts["special_ids"] = sorted({int(s) for s in specials if 0 <= int(s) < vocab_size})
        if "padding_side" not in opts:
            side = getattr(tokenizer, "padding_side", None)
            if side is not None:
                opts["padding_side"] = side
        if mlm and opts.get("whole_word") and "word_table" not in opts:
            if not hasattr(tokenizer, "get_vocab"):
                raise TypeError("whole_word=True needs tokenizer.get_vocab() for the word table; "
                                "pass word_table=None to rely on per-example word_ids or "
                                "offset_mapping only")
            opts["word_table"] = tokenizer
        return cls(vocab_size, mask_id, **opts)

    # -- epoch --------------------------------------------------------------------------------
    @property
    def epoch(self) -> int:
        """The epoch used for examples without an epoch field (see :meth:`set_epoch`)."""
        return self._epoch.get()

    def set_epoch(self, epoch: int) -> None:
        """Sets the epoch of the examples that carry no epoch field.

        The value lives in shared memory, so it reaches every ``DataLoader`` worker, persistent
        ones included, as long as it is set before the epoch's iteration starts
        (``for batch in loader`` / ``iter(loader)``), just like ``DistributedSampler.set_epoch``.
        """
        self._epoch.set(_check_int("epoch", epoch, 0, C.MAX_EPOCH - 1))

    # -- pickling -----------------------------------------------------------------------------
    def __getstate__(self):
        state = self.__dict__.copy()
        state["_stream"] = None
        state["_stream_lock"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._stream_lock = threading.Lock()

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self._options.items()
                         if k not in ("word_table", "special_ids"))
        return (f"{type(self).__name__}(vocab_size={self.vocab_size}, mask_token_id="
                f"{self.mask_token_id}, mlm={self.mlm}, seed={self.seed}"
                f"{', ' + opts if opts else ''})")

    # -- the call ------------------------------------------------------------------------------
    def __call__(self, examples: Any, return_tensors: Optional[str] = None) -> Dict[str, Any]:
        """Collates ``examples`` into a batch (see the class docstring)."""
        rt = self.return_tensors if return_tensors is None else _check_choice(
            "return_tensors", return_tensors, ("pt", "np"))
        g = self._gather(examples)
        if self.mlm:
            out = self._mask(g)
        else:
            out = self._causal(g)
        if self.flatten:
            out = self._flat(out)
        extras = {k: _collate_extra(k, v, rt) for k, v in g.extras.items()}
        if rt == "np":
            out.update(extras)
            return out
        batch = Batch(_as_tensors(out))
        batch.update(extras)
        return batch

    # -- gathering -----------------------------------------------------------------------------
    def _gather(self, examples: Any) -> _Gathered:
        g = _Gathered()
        if isinstance(examples, Mapping):  # an already batched dict of columns
            if "input_ids" not in examples:
                raise ValueError("examples is a mapping without 'input_ids'")
            columns = dict(examples)
            n = len(columns["input_ids"])
            for k, v in columns.items():
                size = len(v) if hasattr(v, "__len__") else "no"
                if size != n:
                    raise ValueError(f"examples[{k!r}] has {size} entries but "
                                     f"examples['input_ids'] has {n}")
            columns = {k: list(v) for k, v in columns.items()}
        else:
            if isinstance(examples, (str, bytes)) or not hasattr(examples, "__len__"):
                raise TypeError("examples must be a list of dicts, of id lists or of 1-D "
                                f"tensors/arrays, got {type(examples).__name__}")
            if len(examples) == 0:
                raise ValueError("examples is empty: there is nothing to collate")
            first = examples[0]
            if not isinstance(first, Mapping):
                ids = []
                for i, ex in enumerate(examples):
                    if isinstance(ex, Mapping):
                        raise TypeError(f"examples[{i}] is a mapping but examples[0] is a "
                                        f"{type(first).__name__}; a batch must be all dicts or "
                                        "all sequences")
                    ids.append(_ids_row(ex))
                g.ids = ids
                return g
            if "input_ids" not in first:
                raise ValueError("examples[0] has no 'input_ids'")
            columns = {k: _column(examples, k) for k in first.keys()}
            n_keys = len(first)
            for i, ex in enumerate(examples):
                if len(ex) != n_keys:
                    extra = sorted(set(ex) - set(first))
                    raise ValueError(f"examples[{i}] has the fields {extra} that examples[0] has "
                                     "not; every example of a batch needs the same fields")
        g.ids = [x if type(x) is list else _ids_row(x) for x in columns.pop("input_ids")]
        g.types = columns.pop("token_type_ids", None)
        g.special = columns.pop("special_tokens_mask", None)
        g.attention = columns.pop("attention_mask", None)
        columns.pop("labels", None)
        for k in _BOUNDARY_KEYS:
            if k in columns:
                value = columns.pop(k)
                if self.whole_word:
                    g.boundaries[k] = value
        if self.sample_id_key in columns:
            g.sids = _index_column(columns.pop(self.sample_id_key), self.sample_id_key,
                                   C.MAX_SAMPLE_ID)
        if self.epoch_key in columns:
            g.epochs = _index_column(columns.pop(self.epoch_key), self.epoch_key, C.MAX_EPOCH)
        g.extras = columns
        return g

    # -- masking -------------------------------------------------------------------------------
    def _padding_from_attention(self, g: _Gathered):
        """Special-token rows that also mark the positions an example's attention_mask pads."""
        masks = [np.asarray(a, dtype=np.int64) for a in g.attention]
        special = g.special
        rows = []
        for i, am in enumerate(masks):
            n = len(g.ids[i])
            if am.ndim != 1 or am.shape[0] != n:
                size = am.shape[0] if am.ndim == 1 else am.shape
                raise ValueError(f"attention_mask[{i}] has {size} entries but input_ids[{i}] "
                                 f"has {n} tokens")
            bad = np.flatnonzero((am != 0) & (am != 1))
            if bad.shape[0]:
                raise ValueError(f"attention_mask[{i}][{int(bad[0])}] = {int(am[bad[0]])} is not "
                                 "0 or 1")
            flag = (am == 0).astype(np.uint8)
            if special is not None:
                s = np.asarray(special[i])
                if s.shape != flag.shape:
                    size = s.shape[0] if s.ndim else "no"
                    raise ValueError(f"special_tokens_mask[{i}] has {size} entries but "
                                     f"input_ids[{i}] has {n} tokens")
                flag |= (s != 0).astype(np.uint8)
            rows.append(flag)
        return masks, rows

    def _fallback(self, n: int) -> Tuple[Masker, np.ndarray]:
        pid = os.getpid()
        st = self._stream
        if st is None or st.pid != pid:
            with self._stream_lock:
                st = self._stream
                if st is None or st.pid != pid:
                    st = self._new_stream(pid)
                    self._stream = st
        return st.masker, st.take(n)

    def _new_stream(self, pid: int) -> _Stream:
        info = torch.utils.data.get_worker_info()
        if info is None:
            slot, nonce = 0, 0
        else:
            slot = info.id + 1
            if slot >= _MAX_SLOTS:
                raise RuntimeError(f"examples without sample ids support at most {_MAX_SLOTS - 1}"
                                   f" DataLoader workers, this is worker {info.id}; give the "
                                   "examples sample ids (IndexedDataset)")
            nonce = (info.seed - info.id) & _NONCE_MASK
        rank = self.rank if self.rank is not None else _detect_rank()
        if not 0 <= rank < _MAX_RANK:
            raise RuntimeError(f"rank {rank} is not below {_MAX_RANK}: give the examples sample "
                               "ids (IndexedDataset)")
        key = self.seed ^ (rank << 48) ^ nonce
        if key == self.seed:
            masker = self._masker
        else:
            opts = dict(self._options)
            opts["seed"] = key
            masker = self._masker_class(self.vocab_size, self.mask_token_id, **opts)
        return _Stream(pid, masker, slot, rank, nonce)

    def _mask(self, g: _Gathered) -> Dict[str, np.ndarray]:
        B = len(g.ids)
        given_attention = None
        special = g.special
        if g.attention is not None and _attention_pads(g.attention):
            given_attention, special = self._padding_from_attention(g)
        if g.sids is not None:
            masker, sids = self._masker, g.sids
        else:
            if self.dupe_factor is not None:
                raise ValueError(f"dupe_factor needs a sample id per example (the "
                                 f"{self.sample_id_key!r} field, e.g. from IndexedDataset)")
            masker, sids = self._fallback(B)
        kwargs = dict(sample_ids=sids, special_tokens_mask=special, token_type_ids=g.types,
                      return_special_tokens_mask=False)
        for k, v in g.boundaries.items():
            kwargs[k] = v
        if "word_ids" in kwargs and "offset_mapping" in kwargs:
            del kwargs["offset_mapping"]
        k_static = self.dupe_factor
        if g.epochs is None:
            epoch = self._epoch.get()
            out = masker(g.ids, epoch=epoch if k_static is None else epoch % k_static, **kwargs)
        else:
            epochs = g.epochs if k_static is None else g.epochs % np.uint64(k_static)
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
            self._apply_attention(out["attention_mask"], given_attention)
        return out

    def _apply_attention(self, attention: np.ndarray, masks: List[np.ndarray]) -> None:
        width = attention.shape[1]
        left = self._layout.padding_side == "left"
        for i, am in enumerate(masks):
            m = min(am.shape[0], width)
            if left:
                attention[i, width - m:] = am[:m]
            else:
                attention[i, :m] = am[:m]

    def _causal(self, g: _Gathered) -> Dict[str, np.ndarray]:
        opts = self._pad_options
        given_attention = None
        if g.attention is not None and _attention_pads(g.attention):
            given_attention, _ = self._padding_from_attention(g)
        out = pad(g.ids, vocab_size=self.vocab_size, token_type_ids=g.types, **opts)
        if given_attention is not None:
            self._apply_attention(out["attention_mask"], given_attention)
        ids = out["input_ids"]
        labels = np.empty_like(ids)
        np.copyto(labels, ids)
        labels[out["attention_mask"] == 0] = self.ignore_index
        res = {"input_ids": ids, "attention_mask": out["attention_mask"], "labels": labels}
        if "token_type_ids" in out:
            res["token_type_ids"] = out["token_type_ids"]
        return res

    # -- padding-free layout ---------------------------------------------------------------------
    def _flat(self, out: Dict[str, np.ndarray]) -> Dict[str, Any]:
        attention = out["attention_mask"]
        keep = attention.astype(bool)
        lens = keep.sum(axis=1)
        ids = out["input_ids"][keep]
        total = ids.shape[0]
        cu = np.zeros(lens.shape[0] + 1, dtype=np.int32)
        np.cumsum(lens, out=cu[1:])
        lens_nz = lens[lens > 0]
        starts = cu[:-1][lens > 0].astype(np.int64)
        positions = np.arange(total, dtype=np.int64) - np.repeat(starts, lens_nz)
        if self.position_ids_start:
            positions += self.position_ids_start
        labels = out["labels"][keep]
        if not self.mlm and total:
            labels[starts] = self.ignore_index  # no prediction across a sequence boundary
        dt = ids.dtype
        res: Dict[str, Any] = {
            "input_ids": ids.reshape(1, total),
            "labels": labels.reshape(1, total),
            "position_ids": positions.astype(dt, copy=False).reshape(1, total),
        }
        if "token_type_ids" in out:
            res["token_type_ids"] = out["token_type_ids"][keep].reshape(1, total)
        max_len = int(lens.max()) if lens.shape[0] else 0
        res["cu_seq_lens_q"] = cu
        res["cu_seq_lens_k"] = cu.copy()
        res["max_length_q"] = max_len
        res["max_length_k"] = max_len
        return res


def _as_tensors(arrays: Dict[str, Any]) -> Dict[str, Any]:
    """Zero-copy tensors of NumPy arrays; views of one block share one torch storage.

    The core writes a batch's outputs into one block; keeping them in one storage means a
    ``DataLoader`` worker moves one buffer to shared memory instead of one per tensor.
    """
    bases: Dict[int, torch.Tensor] = {}
    out: Dict[str, Any] = {}
    for k, v in arrays.items():
        if not isinstance(v, np.ndarray):
            out[k] = v
            continue
        b = v.base
        size = v.itemsize
        if (isinstance(b, np.ndarray) and b.base is None and b.dtype == v.dtype
                and b.flags.c_contiguous and all(st % size == 0 and st >= 0
                                                 for st in v.strides)):
            tb = bases.get(id(b))
            if tb is None:
                tb = bases[id(b)] = torch.from_numpy(b)
            offset = (v.__array_interface__["data"][0] - b.__array_interface__["data"][0]) // size
            out[k] = tb.as_strided(v.shape, [st // size for st in v.strides], offset)
        else:
            out[k] = torch.from_numpy(v)
    return out


def _collate_extra(key: str, values: list, rt: str) -> Any:
    """Stacks one extra column into a tensor/array, as Hugging Face's collator would."""
    v0 = values[0]
    where = f"cannot collate the {key!r} field"
    hint = ("remove the column from the dataset (or pass IndexedDataset(..., columns=[...])) "
            "if the model does not take it")
    if isinstance(v0, torch.Tensor):
        for i, v in enumerate(values):
            if not isinstance(v, torch.Tensor) or v.shape != v0.shape:
                raise ValueError(f"{where}: examples[{i}][{key!r}] has shape "
                                 f"{tuple(getattr(v, 'shape', ()))}, examples[0] has "
                                 f"{tuple(v0.shape)}; {hint}")
        t = torch.stack(values)
        return t.numpy() if rt == "np" else t
    if isinstance(v0, (str, bytes)) or v0 is None:
        raise ValueError(f"{where}: examples[0][{key!r}] is {type(v0).__name__}, not a number; "
                         f"{hint}")
    try:
        arr = np.asarray(values)
    except ValueError:
        arr = None
    if arr is None or arr.dtype == object or arr.dtype.kind not in "biuf":
        shapes = [np.shape(v) if not isinstance(v, (str, bytes)) else "text" for v in values]
        i = next((i for i, s in enumerate(shapes) if s != shapes[0]), 0)
        raise ValueError(f"{where}: examples[{i}][{key!r}] ({type(values[i]).__name__}) does not "
                         f"stack with examples[0][{key!r}] into a numeric array; {hint}")
    if rt == "np":
        return arr
    if isinstance(v0, np.ndarray) or isinstance(v0, np.generic):
        return torch.from_numpy(np.ascontiguousarray(arr))
    return torch.tensor(values)


# =================================================================================================
# dataset and sampler wrappers


class IndexedExample(Mapping):
    """A read-only mapping: one example with its sample id (and epoch) attached.

    It is deliberately not a ``dict``: Hugging Face's ``Trainer`` (``remove_unused_columns``)
    filters dict examples down to the model's arguments, which would drop the sample id, and
    passes other mappings through unchanged. ``dict(example)`` gives a plain dict.
    """

    __slots__ = ("_data",)

    def __init__(self, data: Dict[str, Any]):
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def keys(self):
        return self._data.keys()

    def items(self):
        return self._data.items()

    def values(self):
        return self._data.values()

    def copy(self) -> Dict[str, Any]:
        return dict(self._data)

    def __repr__(self) -> str:
        return f"IndexedExample({self._data!r})"

    def __getstate__(self):
        return self._data

    def __setstate__(self, state):
        self._data = state


class IndexedDataset(Dataset):
    """Wraps a map-style dataset so that each example carries its sample id.

    ``dataset[i]`` becomes an :class:`IndexedExample` with the fields of the original example
    (a dict; any other example, such as a list of ids or a tensor, becomes ``input_ids``) plus
    ``sample_id_key = offset + i``. Indexed with an ``(epoch, i)`` pair, as yielded by
    :class:`EpochSampler`, it also attaches ``epoch_key = epoch``.

    Args:
        dataset: any map-style dataset (``datasets.Dataset``, a list, a torch ``Dataset``).
        sample_id_key / epoch_key: field names; keep them equal to the collator's.
        offset: added to every index, to keep several datasets' sample ids apart.
        columns: keep only these fields of the original examples (the sample id and epoch are
            always attached). Useful under ``Trainer``, whose column filter lets
            :class:`IndexedExample` through unfiltered.
    """

    def __init__(self, dataset: Any, *, sample_id_key: str = "sample_id", epoch_key: str = "epoch",
                 offset: int = 0, columns: Optional[Sequence[str]] = None):
        self.dataset = dataset
        self.sample_id_key = sample_id_key
        self.epoch_key = epoch_key
        self.offset = _check_int("offset", offset, 0, C.MAX_SAMPLE_ID - 1)
        if columns is not None:
            if isinstance(columns, str):
                columns = [columns]
            columns = tuple(columns)
        self.columns = columns

    def __len__(self) -> int:
        return len(self.dataset)

    def _split(self, key: Any) -> Tuple[Optional[int], int]:
        if isinstance(key, tuple):
            if len(key) != 2:
                raise IndexError(f"IndexedDataset takes an index or an (epoch, index) pair, got "
                                 f"{key!r}")
            epoch, index = key
            epoch = _check_int("epoch", epoch, 0, C.MAX_EPOCH - 1)
        else:
            epoch, index = None, key
        try:
            index = operator.index(index)
        except TypeError:
            raise TypeError(f"IndexedDataset index must be an integer, got "
                            f"{type(index).__name__}") from None
        if index < 0:
            index += len(self)
            if index < 0:
                raise IndexError(f"index {key!r} is out of range for {len(self)} examples")
        return epoch, index

    def _wrap(self, example: Any, epoch: Optional[int], index: int) -> IndexedExample:
        if isinstance(example, Mapping):
            if self.columns is None:
                data = dict(example)
            else:
                data = {k: example[k] for k in self.columns if k in example}
        else:
            data = {"input_ids": example}
        sid = self.offset + index
        if sid >= C.MAX_SAMPLE_ID:
            raise ValueError(f"sample id {sid} (offset {self.offset} + index {index}) is not "
                             "below 2**48")
        data[self.sample_id_key] = sid
        if epoch is not None:
            data[self.epoch_key] = epoch
        return IndexedExample(data)

    def __getitem__(self, key: Any) -> IndexedExample:
        epoch, index = self._split(key)
        return self._wrap(self.dataset[index], epoch, index)

    def __getitems__(self, keys: Sequence[Any]) -> List[IndexedExample]:
        split = [self._split(k) for k in keys]
        getitems = getattr(self.dataset, "__getitems__", None)
        if getitems is not None:
            examples = getitems([i for _, i in split])
        else:
            examples = [self.dataset[i] for _, i in split]
        return [self._wrap(ex, e, i) for ex, (e, i) in zip(examples, split)]


class EpochSampler(Sampler):
    """Wraps a sampler (or batch sampler) to yield ``(epoch, index)`` pairs.

    With :class:`IndexedDataset` the epoch then travels with each index into every worker,
    persistent workers included, with no shared state. ``set_epoch`` is forwarded to the wrapped
    sampler (e.g. ``DistributedSampler``, whose shuffle depends on it).

    ``set_epoch(epoch, start=n)`` skips the first ``n`` items of that epoch (indices, or batches
    for a batch sampler): resuming mid-epoch then reproduces the rest of the epoch, masks
    included.
    """

    def __init__(self, sampler: Iterable, epoch: int = 0, start: int = 0):
        self.sampler = sampler
        self.epoch = 0
        self.start = 0
        self.set_epoch(epoch, start)

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        self.epoch = _check_int("epoch", epoch, 0, C.MAX_EPOCH - 1)
        self.start = _check_int("start", start, 0)
        inner = getattr(self.sampler, "set_epoch", None)
        if inner is not None:
            inner(self.epoch)

    def __iter__(self) -> Iterator[Any]:
        e = self.epoch
        for k, item in enumerate(self.sampler):
            if k < self.start:
                continue
            if isinstance(item, list):
                yield [(e, i) for i in item]
            else:
                yield (e, item)

    def __len__(self) -> int:
        return max(0, len(self.sampler) - self.start)  # type: ignore[arg-type]


class EpochCallback:
    """A Hugging Face ``TrainerCallback`` that calls ``set_epoch`` on its targets.

    ``Trainer(..., callbacks=[EpochCallback(collator)])`` sets the collator's epoch (and that of
    any other target with ``set_epoch``, e.g. an :class:`EpochSampler`) at the start of training
    and of every epoch, from ``state.epoch``, so a resumed run uses the right epoch. It is
    duck-typed: ``transformers`` is not imported.
    """

    def __init__(self, *targets: Any):
        if not targets:
            raise TypeError("EpochCallback needs at least one target with set_epoch()")
        for t in targets:
            if not callable(getattr(t, "set_epoch", None)):
                raise TypeError(f"{type(t).__name__} has no set_epoch()")
        self.targets = targets

    def _apply(self, state: Any) -> None:
        epoch = int(math.floor(float(getattr(state, "epoch", 0) or 0) + 1e-6))
        for t in self.targets:
            t.set_epoch(epoch)

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._apply(state)

    def on_epoch_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._apply(state)

    def __getattr__(self, name: str):
        if name.startswith("on_"):
            return _no_event
        raise AttributeError(name)


def _no_event(*args: Any, **kwargs: Any) -> None:
    return None
