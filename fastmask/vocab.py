"""Vocabulary facts of a tokenizer, read in one place.

fastmask needs a few facts about a vocabulary: its size, the ids of ``[MASK]``, ``[PAD]``,
``[CLS]`` and ``[SEP]``, the ids never to mask, and where word boundaries come from (the token
strings). :func:`read_vocab` reads them from a Hugging Face tokenizer (fast or slow,
``transformers.PreTrainedTokenizerBase``), a ``tokenizers.Tokenizer`` or the path of a
``tokenizer.json`` (or of a directory holding one). The command line (``show``, ``bench``,
``prep``) and the benchmark engine all go through it, so they agree on every id.

Rules:

* ``vocab_size`` is ``len(tokenizer)`` for Hugging Face tokenizers; for ``tokenizers.Tokenizer``
  the vocabulary size with added tokens, raised to the largest id + 1 if an id lies beyond it.
* The mask token is the tokenizer's own (``mask_token_id``) for Hugging Face tokenizers, else the
  first of :data:`MASK_TOKENS` in the vocabulary; ``mask_token=`` names another one. Padding,
  ``[CLS]`` and ``[SEP]`` are found the same way (:data:`PAD_TOKENS`, :data:`CLS_TOKENS`,
  :data:`SEP_TOKENS`). A token that is absent gives ``None``.
* ``special_ids`` are the tokenizer's special tokens (``all_special_ids``, or the added tokens
  marked special) plus every mask / pad / cls / sep id found, sorted, within the vocabulary.
* With ``read_vocab(..., guess=False)`` nothing is looked up by name: the facts are the ones the
  tokenizer states. :func:`masker_arguments` reads them so, for ``fastmask.Masker.from_tokenizer``
  and ``fastmask.torch.MLMCollator.from_tokenizer`` alike.
* :attr:`VocabFacts.padding_id` is the id to pad with: the pad token, else the mask token,
  else 0 (padding is never picked and its label is always the ignore index, so any id works).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Optional, Tuple

__all__ = ["VocabFacts", "VocabError", "read_vocab", "load_tokenizer_file", "masker_arguments",
           "TOKENIZER_OPTIONS", "MASK_TOKENS", "PAD_TOKENS", "CLS_TOKENS", "SEP_TOKENS"]

#: Names of the mask token tried in order when the tokenizer does not say which it is.
MASK_TOKENS = ("[MASK]", "<mask>", "<MASK>", "[mask]")
#: Names of the padding token tried in order.
PAD_TOKENS = ("[PAD]", "<pad>", "<PAD>")
#: Names of the classification (start) token tried in order.
CLS_TOKENS = ("[CLS]", "<s>")
#: Names of the separator (end) token tried in order.
SEP_TOKENS = ("[SEP]", "</s>")


class VocabError(ValueError):
    """A tokenizer (file) that cannot be read, or that lacks a fact that was asked for."""


@dataclass(frozen=True)
class VocabFacts:
    """What fastmask knows about a vocabulary (see the module docstring for the rules)."""

    vocab_size: int
    mask_token_id: Optional[int]
    pad_token_id: Optional[int]
    cls_token_id: Optional[int]
    sep_token_id: Optional[int]
    special_ids: Tuple[int, ...]
    #: id -> token string (``None`` where the vocabulary has a hole)
    tokens: Tuple[Optional[str], ...] = field(repr=False)
    #: the tokenizer object: what :func:`fastmask.words.word_table` builds a word table from
    source: Any = field(repr=False, compare=False)
    #: a short name for messages (the file name, or the tokenizer's class)
    name: str = ""
    #: the tokenizer's ``padding_side`` (``None`` when it has none)
    padding_side: Optional[str] = None

    @property
    def padding_id(self) -> int:
        """The id to pad with: the pad token, else the mask token, else 0."""
        for i in (self.pad_token_id, self.mask_token_id):
            if i is not None:
                return i
        return 0

    def require_mask(self, hint: str = "name one with mask_token=") -> int:
        """The mask id, or a :class:`VocabError` saying the tokenizer has none."""
        if self.mask_token_id is None:
            raise VocabError(f"{self.name or 'the tokenizer'} has no mask token (none of "
                             f"{', '.join(MASK_TOKENS)}); {hint}")
        return self.mask_token_id

    @property
    def convention(self) -> Optional[str]:
        """The subword convention (``fastmask.words.detect_convention``), or ``None`` when the
        vocabulary does not show one clearly."""
        from . import words

        try:
            return words.detect_convention(self.source)
        except (ValueError, TypeError):
            return None

    def word_table(self, convention: str = "auto") -> bytes:
        """The 0/1/2 word table of the vocabulary (:func:`fastmask.words.word_table`;
        ``convention`` as there, detected by default).

        Raises:
            VocabError: when the convention cannot be told (pass ``convention=``).
        """
        from . import words

        try:
            return words.word_table(self.source, convention=convention,
                                    vocab_size=self.vocab_size)
        except (ValueError, TypeError) as e:
            raise VocabError(f"no word table for {self.name or 'the tokenizer'}: {e}") from None


def load_tokenizer_file(path: "str | os.PathLike[str]") -> Any:
    """A ``tokenizers.Tokenizer`` from a ``tokenizer.json`` (or a directory holding one).

    Raises:
        VocabError: the ``tokenizers`` package is missing, the path does not exist, or the file
            cannot be read; the message names the path.
    """
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise VocabError("reading a tokenizer.json needs the 'tokenizers' package: "
                         "pip install tokenizers") from None
    path = str(os.fspath(path))
    if not os.path.exists(path):
        raise VocabError(f"tokenizer file {path!r} does not exist")
    if os.path.isdir(path):
        cand = os.path.join(path, "tokenizer.json")
        if not os.path.isfile(cand):
            raise VocabError(f"{path!r} is a directory without a tokenizer.json")
        path = cand
    try:
        return Tokenizer.from_file(path)
    except Exception as e:  # the tokenizers library raises its own exception types
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise VocabError(f"cannot load tokenizer file {path!r}: {msg}") from None


def _is_hf(tok: Any) -> bool:
    """A Hugging Face tokenizer, or an object with the slice of one that is read here
    (``all_special_ids`` and ``len()``; ``get_vocab()`` when there is one)."""
    return hasattr(tok, "all_special_ids") and hasattr(tok, "__len__")


def _first(vocab: Dict[str, int], names: Iterable[str]) -> Optional[int]:
    return next((vocab[t] for t in names if t in vocab), None)


def read_vocab(tokenizer: Any, *, mask_token: Optional[str] = None,
               guess: bool = True) -> VocabFacts:
    """The :class:`VocabFacts` of ``tokenizer``: a Hugging Face tokenizer, a
    ``tokenizers.Tokenizer``, or the path of a ``tokenizer.json`` (or of its directory).

    For a Hugging Face tokenizer the facts are its own: ``len(tokenizer)`` (or one more than the
    largest id of ``get_vocab()``, if larger), ``mask_token_id``, ``pad_token_id``,
    ``cls_token_id``, ``sep_token_id``, ``all_special_ids`` and ``padding_side``.
    ``mask_token`` names the mask token when it is not the tokenizer's own or one of
    :data:`MASK_TOKENS`; it must be in the vocabulary. With ``guess=False`` a fact the
    tokenizer does not state stays ``None`` (no token is looked up by name) and the special ids
    are exactly the tokenizer's ``all_special_ids``: what :func:`masker_arguments` reads.

    Raises:
        VocabError: an unreadable file, a ``mask_token`` not in the vocabulary.
        TypeError: ``tokenizer`` is none of the above.
    """
    name = ""
    side: Optional[str] = None
    if isinstance(tokenizer, (str, os.PathLike)):
        name = os.path.basename(os.fspath(tokenizer).rstrip(os.sep)) or os.fspath(tokenizer)
        tokenizer = load_tokenizer_file(tokenizer)
    if _is_hf(tokenizer):
        vocab = dict(tokenizer.get_vocab()) if hasattr(tokenizer, "get_vocab") else {}
        try:
            size = len(tokenizer)
        except TypeError:
            raise TypeError("tokenizer has no len(); pass vocab_size=") from None
        specials = set(int(i) for i in (tokenizer.all_special_ids or ()))
        side = getattr(tokenizer, "padding_side", None)

        def own(attr: str) -> Optional[int]:
            v = getattr(tokenizer, attr, None)
            return None if v is None else int(v)

        mask_id, pad_id = own("mask_token_id"), own("pad_token_id")
        cls_id, sep_id = own("cls_token_id"), own("sep_token_id")
        if not name:
            name = type(tokenizer).__name__
    elif hasattr(tokenizer, "get_vocab_size") and hasattr(tokenizer, "get_added_tokens_decoder"):
        vocab = dict(tokenizer.get_vocab(with_added_tokens=True))
        size = tokenizer.get_vocab_size(with_added_tokens=True)
        specials = {int(i) for i, t in tokenizer.get_added_tokens_decoder().items()
                    if getattr(t, "special", False)}
        mask_id = pad_id = cls_id = sep_id = None
        if not name:
            name = "tokenizer"
    else:
        raise TypeError("tokenizer must be a Hugging Face tokenizer, a tokenizers.Tokenizer or "
                        f"the path of a tokenizer.json, got {type(tokenizer).__name__}")
    if vocab:
        size = max(size, max(vocab.values()) + 1)
    if mask_token is not None:
        if mask_token not in vocab:
            raise VocabError(f"mask token {mask_token!r} is not in the tokenizer's vocabulary")
        mask_id = vocab[mask_token]
    if guess:
        if mask_id is None:
            mask_id = _first(vocab, MASK_TOKENS)
        if pad_id is None:
            pad_id = _first(vocab, PAD_TOKENS)
        if cls_id is None:
            cls_id = _first(vocab, CLS_TOKENS)
        if sep_id is None:
            sep_id = _first(vocab, SEP_TOKENS)
        specials |= {i for i in (mask_id, pad_id, cls_id, sep_id) if i is not None}
    tokens: list = [None] * size
    for t, i in vocab.items():
        if 0 <= i < size:
            tokens[i] = t
    return VocabFacts(vocab_size=int(size), mask_token_id=mask_id, pad_token_id=pad_id,
                      cls_token_id=cls_id, sep_token_id=sep_id,
                      special_ids=tuple(sorted(i for i in specials if 0 <= i < size)),
                      tokens=tuple(tokens), source=tokenizer, name=name, padding_side=side)


#: Hugging Face's option names that ``from_tokenizer`` accepts besides the Masker's own.
TOKENIZER_OPTIONS = ("vocab_size", "mask_token_id", "whole_word_mask")


def masker_arguments(tokenizer: Any, options: Dict[str, Any], *,
                     mlm: bool = True) -> Tuple[int, Optional[int], Dict[str, Any]]:
    """``(vocab_size, mask_token_id, options)`` for a Masker configured from ``tokenizer``:
    the one rule of ``fastmask.Masker.from_tokenizer`` and ``MLMCollator.from_tokenizer``.

    Reads the facts of :func:`read_vocab` (``guess=False``): the vocabulary size, the mask and
    pad ids, ``all_special_ids`` (those in the vocabulary become ``special_ids``), the padding
    side and, for ``whole_word=True``, the tokenizer itself as the source of the word table.
    Any option given explicitly overrides what the tokenizer says; ``whole_word_mask`` is
    accepted for ``whole_word``. With ``mlm=False`` (causal-LM labels) a missing mask or pad
    token is not an error.
    """
    opts = dict(options)
    if "whole_word_mask" in opts:
        if "whole_word" in opts:
            raise TypeError("pass whole_word or whole_word_mask, not both")
        opts["whole_word"] = opts.pop("whole_word_mask")
    facts = read_vocab(tokenizer, guess=False)
    vocab_size = opts.pop("vocab_size", facts.vocab_size)
    mask_id = opts.pop("mask_token_id", facts.mask_token_id)
    if mlm and mask_id is None:
        raise ValueError("the tokenizer has no mask token (tokenizer.mask_token_id is None); "
                         "pass mask_token_id=, or mlm=False for causal-LM labels")
    if "pad_token_id" not in opts:
        if facts.pad_token_id is None and mlm:
            raise ValueError("the tokenizer has no padding token (tokenizer.pad_token_id is "
                             "None); set tokenizer.pad_token or pass pad_token_id=")
        # causal-LM labels need no pad token until a batch needs padding
        opts["pad_token_id"] = facts.pad_token_id
    if "special_ids" not in opts:
        limit = vocab_size if isinstance(vocab_size, int) else facts.vocab_size
        opts["special_ids"] = [s for s in facts.special_ids if s < limit]
    if "padding_side" not in opts and facts.padding_side is not None:
        opts["padding_side"] = facts.padding_side
    if mlm and opts.get("whole_word") and "word_table" not in opts:
        if not hasattr(tokenizer, "get_vocab"):
            raise TypeError("whole_word=True needs tokenizer.get_vocab() for the word table; "
                            "pass word_table=None to rely on per-example word_ids or "
                            "offset_mapping only")
        opts["word_table"] = facts.source
    return vocab_size, mask_id, opts
