"""Vocabulary word tables: one byte per id saying whether a token continues a word (0),
starts one (1) or stands alone (2), built once per tokenizer, and the flags such a table gives a
sequence of ids (docs/semantics.md, section 6)."""

from __future__ import annotations

import unicodedata
from numbers import Integral
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from fastmask._config import MAX_VOCAB

from .. import _core
from ._rules import TABLE, flat_starts

#: Word-table value of a token that continues the word of the token before it.
WORD_CONTINUES = 0
#: Word-table value of a token that starts a word.
WORD_STARTS = 1
#: Word-table value of a token that starts a word after which the next token starts a word too.
WORD_STANDS_ALONE = 2

#: Subword conventions understood by :func:`word_table`.
CONVENTIONS: Tuple[str, ...] = ("wordpiece", "sentencepiece", "bytelevel")

WORDPIECE_PREFIX = "##"
METASPACE = "\u2581"  # "▁", LOWER ONE EIGHTH BLOCK: SentencePiece's visible space
BYTELEVEL_SPACE = "\u0120"  # "Ġ": the byte-level alphabet's letter for byte 0x20

# How much more frequent the winning marker must be than the runner-up for "auto" to trust it.
_DOMINANCE = 4

VocabLike = Union[Sequence[Optional[str]], Mapping[str, int], Any]

# =================================================================================================
# Character classes
# =================================================================================================

_SEPARATOR_CACHE: Dict[str, bool] = {}


def _is_separator_char(ch: str) -> bool:
    """True for punctuation (P*), symbols (S*) and whitespace."""
    known = _SEPARATOR_CACHE.get(ch)
    if known is None:
        known = ch.isspace() or unicodedata.category(ch)[0] in "PS"
        _SEPARATOR_CACHE[ch] = known
    return known


def _is_separator_text(text: str) -> bool:
    """True when ``text`` is non-empty and made only of punctuation, symbols and whitespace."""
    return bool(text) and all(_is_separator_char(ch) for ch in text)



def _byte_alphabet() -> Dict[str, int]:
    """The byte-level alphabet (GPT-2's ``bytes_to_unicode``), inverted: character -> byte."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("\u00a1"), ord("\u00ac") + 1))
        + list(range(ord("\u00ae"), ord("\u00ff") + 1))
    )
    chars = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in chars:
            chars[b] = chr(256 + extra)
            extra += 1
    return {c: b for b, c in chars.items()}


_BYTE_OF_CHAR = _byte_alphabet()


# =================================================================================================
# Word tables
# =================================================================================================


def _classify_wordpiece(token: str) -> int:
    if len(token) > len(WORDPIECE_PREFIX) and token.startswith(WORDPIECE_PREFIX):
        return WORD_CONTINUES  # a "##" piece continues its word, punctuation or not
    if _is_separator_text(token):
        return WORD_STANDS_ALONE
    return WORD_STARTS  # includes single CJK characters, which BERT splits into words of their own


def _classify_sentencepiece(token: str) -> int:
    marked = token.startswith(METASPACE)
    starts = marked or token[:1].isspace()
    body = token[1:] if marked else token
    if _is_separator_text(body):  # "▁," "," "▁▁" "\n"; "▁" itself has an empty body
        return WORD_STANDS_ALONE
    return WORD_STARTS if starts else WORD_CONTINUES


def _classify_bytelevel(token: str) -> int:
    body: Optional[str]
    try:
        raw = bytes(_BYTE_OF_CHAR[ch] for ch in token)
    except KeyError:  # not written in the byte-level alphabet (e.g. an added token): plain text
        marked = token.startswith(BYTELEVEL_SPACE)
        starts = marked or token[:1].isspace()
        body = token[1:] if marked else token
    else:
        # A leading space (Ġ), newline (Ċ), tab (ĉ), ... starts a word; only the space is a
        # marker, other whitespace stays part of the piece.
        starts = raw[:1] in (b" ", b"\n", b"\r", b"\t", b"\x0b", b"\x0c")
        try:
            body = (raw[1:] if raw[:1] == b" " else raw).decode("utf-8")
        except UnicodeDecodeError:
            body = None  # a piece of a multi-byte character: never a separator on its own
    # A lone space "Ġ" may be followed by the bytes of a character BPE could not merge with it
    # (" 😀" -> "Ġ", "ðŁĺ", "Ģ"): it starts a word that goes on. Everything else made only of
    # punctuation, symbols or whitespace ("Ġ(", ",", "ĠĠ", "Ċ", "ĊĊ") stands alone.
    if body is not None and _is_separator_text(body):
        return WORD_STANDS_ALONE
    return WORD_STARTS if starts else WORD_CONTINUES


_CLASSIFIERS: Dict[str, Callable[[str], int]] = {
    "wordpiece": _classify_wordpiece,
    "sentencepiece": _classify_sentencepiece,
    "bytelevel": _classify_bytelevel,
}


def _vocab_entries(vocab: VocabLike) -> Tuple[List[Tuple[str, int]], Any]:
    """``(token, id)`` pairs of a list, a dict or an object with ``get_vocab()``, validated.

    Returns the pairs and the object the vocabulary came from (for its added tokens).
    """
    source = vocab
    if not isinstance(vocab, (Mapping, list, tuple)) and hasattr(vocab, "get_vocab"):
        vocab = vocab.get_vocab()
        if not isinstance(vocab, Mapping):
            raise TypeError(
                f"vocab.get_vocab() returned {type(vocab).__name__}, expected a dict token -> id"
            )
    entries: List[Tuple[str, int]] = []
    if isinstance(vocab, Mapping):
        for token, tid in vocab.items():
            if not isinstance(token, str):
                raise TypeError(f"vocab: key {token!r} is {type(token).__name__}, expected str")
            if isinstance(tid, bool) or not isinstance(tid, Integral):
                raise TypeError(
                    f"vocab: id of token {token!r} is {type(tid).__name__}, expected int"
                )
            tid = int(tid)
            if not 0 <= tid < MAX_VOCAB:
                raise ValueError(f"vocab: id of token {token!r} is {tid}, outside [0, {MAX_VOCAB})")
            entries.append((token, tid))
    elif isinstance(vocab, (list, tuple)):
        if len(vocab) > MAX_VOCAB:
            raise ValueError(f"vocab: {len(vocab)} tokens, more than {MAX_VOCAB}")
        for tid, token in enumerate(vocab):
            if token is None:
                continue  # a hole
            if not isinstance(token, str):
                raise TypeError(f"vocab[{tid}] is {type(token).__name__}, expected str or None")
            entries.append((token, tid))
    else:
        raise TypeError(
            "vocab must be a list of token strings (index = id), a dict token -> id, or an "
            f"object with get_vocab() such as a tokenizer; got {type(vocab).__name__}"
        )
    return entries, source


def _marker_counts(tokens: Iterable[str]) -> Dict[str, int]:
    counts = {"wordpiece": 0, "sentencepiece": 0, "bytelevel": 0}
    for token in tokens:
        if len(token) > 2 and token.startswith(WORDPIECE_PREFIX):
            counts["wordpiece"] += 1
        elif token.startswith(METASPACE):
            counts["sentencepiece"] += 1
        elif token.startswith(BYTELEVEL_SPACE):
            counts["bytelevel"] += 1
    return counts


def _detect(tokens: Iterable[str]) -> str:
    counts = _marker_counts(tokens)
    ranked = sorted(counts.items(), key=lambda kv: kv[1], reverse=True)
    (best, n_best), (_, n_second) = ranked[0], ranked[1]
    if n_best > 0 and n_best >= _DOMINANCE * n_second:
        return best
    raise ValueError(
        "cannot tell the vocabulary's subword convention: "
        f"{counts['wordpiece']} tokens start with '##' (wordpiece), "
        f"{counts['sentencepiece']} with '\u2581' U+2581 (sentencepiece), "
        f"{counts['bytelevel']} with '\u0120' U+0120 (bytelevel); "
        "pass convention='wordpiece', 'sentencepiece' or 'bytelevel'"
    )


def detect_convention(vocab: VocabLike) -> str:
    """Guess the subword convention of a vocabulary from its word-boundary markers.

    Counts the tokens that start with ``##`` (WordPiece continuation), ``▁`` U+2581
    (SentencePiece word start) and ``Ġ`` U+0120 (byte-level word start) and returns the
    convention whose marker is clearly the most frequent (at least four times the runner-up).

    Raises:
        ValueError: when no marker clearly dominates; the message lists the counts.
        TypeError: when ``vocab`` is not a vocabulary.
    """
    entries, _ = _vocab_entries(vocab)
    return _detect(token for token, _ in entries)


def _added_standalone_ids(source: Any) -> List[int]:
    """Ids of the non-special added tokens of a tokenizer, when it reports them.

    Tokenizers cut added tokens out of the text before anything else, so each is a word of its
    own. Special added tokens are left to the masking core, which never lets them into a word.
    """
    decoder: Any = None
    getter = getattr(source, "get_added_tokens_decoder", None)  # tokenizers.Tokenizer
    if callable(getter):
        decoder = getter()
    else:
        decoder = getattr(source, "added_tokens_decoder", None)  # transformers tokenizers
    if not isinstance(decoder, Mapping):
        return []
    ids = []
    for tid, added in decoder.items():
        if isinstance(tid, Integral) and not getattr(added, "special", True):
            ids.append(int(tid))
    return ids


def word_table(
    vocab: VocabLike, convention: str = "auto", vocab_size: Optional[int] = None
) -> bytes:
    """The word table of a vocabulary: one byte per id, 0/1/2 (see the module docstring).

    Args:
        vocab: the tokens, as a list of strings (index = id; ``None`` for an unused id), a
            dict token -> id, or any object with ``get_vocab()`` (a ``tokenizers.Tokenizer``,
            a Hugging Face tokenizer). A tokenizer's non-special added tokens get 2, since
            tokenizers always cut them out as words of their own.
        convention: how subword pieces mark word boundaries:

            * ``"wordpiece"`` (BERT): a ``##`` piece continues a word, any other piece starts
              one (a single CJK character included);
            * ``"sentencepiece"`` (Metaspace, Unigram/BPE): a piece starting with ``▁`` starts
              a word, any other piece continues one;
            * ``"bytelevel"`` (GPT-2/RoBERTa BPE): a piece starting with ``Ġ`` (a space) or
              another whitespace byte (``Ċ`` newline, ``ĉ`` tab, ...) starts a word, any other
              piece continues one;
            * ``"auto"`` (default): picked by :func:`detect_convention`.

            In every convention a piece made only of punctuation, symbols (Unicode categories
            P* and S*) or whitespace, once its marker is removed, stands alone (2): ``","``,
            ``"▁("``, ``"Ġ--"``, ``"Ċ"``. The exception is a WordPiece ``##`` piece, which
            always continues (0). A bare marker (``"▁"``, ``"Ġ"``) starts a word that the next
            piece continues (1).
        vocab_size: length of the table; defaults to the largest id + 1. Pass a larger value
            to cover ids the vocabulary does not list (e.g. a model's padded embedding rows).
            Ids without a token get 1.

    Returns:
        ``bytes`` of length ``vocab_size``.

    Raises:
        TypeError: ``vocab``, ``convention`` or ``vocab_size`` has the wrong type.
        ValueError: unknown convention, undetectable convention, an id out of range,
            ``vocab_size`` too small, or two tokens with one id that disagree.

    Notes:
        With ``"bytelevel"`` the table keeps together what a GPT-2 pre-tokenizer splits apart
        inside a run of non-space characters: contractions (``"don" "'t"``) and letters
        followed by digits (``"x" "2"``) are one word for the table.
    """
    if not isinstance(convention, str):
        raise TypeError(f"convention must be a str, got {type(convention).__name__}")
    if convention != "auto" and convention not in _CLASSIFIERS:
        raise ValueError(
            f"convention must be 'auto', 'wordpiece', 'sentencepiece' or 'bytelevel', "
            f"got {convention!r}"
        )
    entries, source = _vocab_entries(vocab)
    max_id = max((tid for _, tid in entries), default=-1)
    if vocab_size is None:
        if max_id < 0:
            raise ValueError("vocab is empty; pass vocab_size to build a table of holes")
        size = max_id + 1
    else:
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, Integral):
            raise TypeError(f"vocab_size must be an int, got {type(vocab_size).__name__}")
        size = int(vocab_size)
        if not 1 <= size <= MAX_VOCAB:
            raise ValueError(f"vocab_size must be in [1, {MAX_VOCAB}], got {size}")
        if size <= max_id:
            raise ValueError(
                f"vocab_size={size} does not cover the vocabulary: its largest id is {max_id}"
            )
    if convention == "auto":
        convention = _detect(token for token, _ in entries)
    classify = _CLASSIFIERS[convention]

    table = bytearray([WORD_STARTS]) * size
    owner: Dict[int, str] = {}
    for token, tid in entries:
        value = classify(token) if token else WORD_STARTS
        other = owner.get(tid)
        if other is not None and table[tid] != value:
            raise ValueError(
                f"vocab: tokens {other!r} and {token!r} share id {tid} but one "
                f"{_VALUE_NAMES[table[tid]]} and the other {_VALUE_NAMES[value]}"
            )
        owner[tid] = token
        table[tid] = value
    for tid in _added_standalone_ids(source):
        if 0 <= tid < size:
            table[tid] = WORD_STANDS_ALONE
    return bytes(table)


_VALUE_NAMES = {
    WORD_CONTINUES: "continues a word",
    WORD_STARTS: "starts a word",
    WORD_STANDS_ALONE: "stands alone",
}


# =================================================================================================
# Per-example flags
# =================================================================================================


def _table_array(table: Union[bytes, bytearray, memoryview, np.ndarray]) -> np.ndarray:
    if isinstance(table, np.ndarray):
        if table.ndim != 1 or table.dtype != np.uint8:
            raise TypeError(
                "table must be bytes or a 1-D uint8 array, "
                f"got a {table.ndim}-D {table.dtype} array"
            )
        arr = table
    elif isinstance(table, (bytes, bytearray, memoryview)):
        arr = np.frombuffer(table, dtype=np.uint8)
    else:
        raise TypeError(f"table must be bytes or a 1-D uint8 array, got {type(table).__name__}")
    if arr.size == 0:
        raise ValueError("table is empty")
    if arr.max() > WORD_STANDS_ALONE:
        bad = int(np.argmax(arr > WORD_STANDS_ALONE))
        raise ValueError(f"table[{bad}] = {int(arr[bad])}; word-table values are 0, 1 or 2")
    return arr


def starts_from_table(
    ids: Union[Sequence[int], np.ndarray],
    table: Union[bytes, bytearray, memoryview, np.ndarray],
) -> np.ndarray:
    """Word-start flags of token ids read from a word table (docs/semantics.md, section 6).

    ``f[j] = 1`` when ``j == 0``, ``table[ids[j]] >= 1``, or ``table[ids[j-1]] == 2``.

    Args:
        ids: one sequence of token ids (1-D), or a 2-D array whose rows are sequences.
        table: a word table from :func:`word_table` (bytes or a 1-D uint8 array).

    Returns:
        A ``uint8`` array of the shape of ``ids``, values 0 and 1.
    """
    tab = _table_array(table)
    arr = np.asarray(ids)
    if arr.dtype == object or arr.ndim not in (1, 2):
        raise TypeError("ids must be a 1-D sequence of ints or a 2-D integer array")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"ids must be integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    width = arr.shape[-1] if arr.ndim == 2 else arr.shape[0]
    rows = np.arange(0, arr.size + 1, max(width, 1), dtype=np.int64) if arr.ndim == 2 else None
    flags, rc, pos = flat_starts(TABLE, arr, rows, np.ascontiguousarray(tab))
    if rc == _core.ERR_ID_RANGE:
        where = np.unravel_index(pos, arr.shape)
        raise ValueError(
            f"ids[{', '.join(str(int(i)) for i in where)}] = {int(arr[where])} is outside the "
            f"table's [0, {tab.size})"
        )
    return flags.reshape(arr.shape)
