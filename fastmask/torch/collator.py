"""The collator: :class:`MLMCollator`, a ``collate_fn`` in place of Hugging Face's
``DataCollatorForLanguageModeling``.

It reads the examples (:mod:`.gather`), hands them to its labelling mode, masked-LM
(:mod:`.masked`) or causal-LM (:mod:`.causal`), optionally flattens the padded batch, stacks the
extra fields and returns tensors that share memory with the arrays the core wrote
(:mod:`.output`).
"""

from __future__ import annotations

import inspect
from typing import Any, Dict, FrozenSet, Optional, Union

from .. import Masker
from .. import _config as C
from .._checks import check_bool, check_choice, check_int, check_names
from ..vocab import TOKENIZER_OPTIONS, masker_arguments
from .causal import CausalLM
from .gather import gather
from .masked import MaskedLM
from .output import Batch, as_tensors, collate_extra, flatten
from .streams import MAX_RANK, EpochCell

__all__ = ["MLMCollator"]

def _masker_options(masker_class: type) -> FrozenSet[str]:
    """The keyword options of a Masker class (its signature is the one list of them)."""
    # the class's own __init__ is read as a function, not called: mypy's unsound-access
    # warning for __init__ on an instance does not apply
    params = inspect.signature(masker_class.__init__).parameters  # type: ignore[misc]
    return frozenset(k for k, p in params.items() if p.kind is p.KEYWORD_ONLY)


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
        self.mlm = check_bool("mlm", mlm)
        self.return_tensors = check_choice("return_tensors", return_tensors, ("pt", "np"))
        for name, value in (("sample_id_key", sample_id_key), ("epoch_key", epoch_key)):
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a str, got {type(value).__name__}")
        if sample_id_key == epoch_key:
            raise ValueError("sample_id_key and epoch_key must differ")
        self.sample_id_key = sample_id_key
        self.epoch_key = epoch_key
        self.dupe_factor = check_int("dupe_factor", dupe_factor, 1, C.MAX_EPOCH, none_ok=True)
        self.flatten = check_bool("flatten", flatten)
        self.position_ids_start = check_int("position_ids_start", position_ids_start, 0,
                                            C.MAX_VOCAB)
        self.rank = check_int("rank", rank, 0, MAX_RANK - 1, none_ok=True)
        if self.flatten and (options.get("pad_to_multiple_of") is not None
                             or options.get("padding", "longest") != "longest"):
            raise ValueError("flatten=True returns no padding: pad_to_multiple_of and "
                             "padding='max_length' do not apply")
        if "tokenizer" in options:
            raise TypeError("pass a tokenizer to MLMCollator.from_tokenizer(tokenizer, ...)")
        check_names(type(self).__name__, options, self._valid_options())
        self._options = dict(options)
        mode: Union[MaskedLM, CausalLM]
        if self.mlm:
            mode = MaskedLM(vocab_size, mask_token_id, self._options, self._masker_class,
                            self.rank)
        else:
            mode = CausalLM(vocab_size, mask_token_id, self._options, flat=self.flatten)
        self._mode = mode
        self.seed = mode.seed
        self.vocab_size = mode.vocab_size
        self.mask_token_id = mode.mask_token_id
        self.pad_token_id = mode.pad_token_id
        self.ignore_index = mode.ignore_index
        self.whole_word = mode.whole_word
        self._epoch = EpochCell(0)

    @classmethod
    def _valid_options(cls) -> FrozenSet[str]:
        """The keyword options of the constructor: its own and those of the Masker."""
        own = inspect.signature(cls.__init__).parameters
        return frozenset(k for k, p in own.items() if p.kind is p.KEYWORD_ONLY) | \
            _masker_options(cls._masker_class)

    # -- construction from a tokenizer --------------------------------------------------------
    @classmethod
    def from_tokenizer(cls, tokenizer: Any, **options: Any) -> "MLMCollator":
        """A collator configured from a Hugging Face tokenizer (duck-typed), through
        :func:`fastmask.vocab.masker_arguments`, the rule ``fastmask.Masker.from_tokenizer``
        follows too: for the same seed and sample ids both mask alike.

        Reads ``len(tokenizer)`` (vocabulary size), ``mask_token_id``, ``pad_token_id``,
        ``all_special_ids`` (never picked, never drawn as random replacements),
        ``padding_side``, and, for ``whole_word=True``, ``get_vocab()`` to build the word table
        (per-example ``word_ids`` / ``offset_mapping`` take precedence over it; pass
        ``word_table=None`` to use only those). Hugging Face's
        option names ``whole_word_mask`` and ``mlm`` are accepted; any option given explicitly
        overrides what the tokenizer says.
        """
        check_names(f"{cls.__name__}.from_tokenizer", options,
                    cls._valid_options() | frozenset(TOKENIZER_OPTIONS))
        vocab_size, mask_id, opts = masker_arguments(tokenizer, options,
                                                     mlm=options.get("mlm", True))
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
        self._epoch.set(check_int("epoch", epoch, 0, C.MAX_EPOCH - 1))

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self._options.items()
                         if k not in ("word_table", "special_ids", "seed"))
        return (f"{type(self).__name__}(vocab_size={self.vocab_size}, mask_token_id="
                f"{self.mask_token_id}, mlm={self.mlm}, seed={self.seed}"
                f"{', ' + opts if opts else ''})")

    # -- the call ------------------------------------------------------------------------------
    def __call__(self, examples: Any, return_tensors: Optional[str] = None) -> Dict[str, Any]:
        """Collates ``examples`` into a batch (see the class docstring)."""
        rt = self.return_tensors if return_tensors is None else check_choice(
            "return_tensors", return_tensors, ("pt", "np"))
        g = gather(examples, self.whole_word, self.sample_id_key, self.epoch_key)
        mode = self._mode
        if isinstance(mode, MaskedLM):
            out = mode(g, self._epoch, self.dupe_factor, self.sample_id_key)
        else:
            out = mode(g)
        if self.flatten:
            out = flatten(out, self.position_ids_start,
                          None if self.mlm else self.ignore_index)
        extras = {k: collate_extra(k, v, rt) for k, v in g.extras.items()}
        if rt == "np":
            out.update(extras)
            return out
        batch = Batch(as_tensors(out))
        batch.update(extras)
        return batch
