"""Word boundaries for whole-word masking.

Whole-word masking (docs/semantics.md, section 6) needs to know, for every token, whether it
starts a word. fastmask takes that knowledge in one of two forms:

* a **word table**: one byte per vocabulary id, built once per tokenizer by :func:`word_table`.
  ``0`` = the token continues a word, ``1`` = it starts a word, ``2`` = it stands alone (it
  starts a word and the next token starts a word too; used for punctuation, symbols and line
  breaks, so that they are never glued to a neighbouring word);
* **per-example flags** ``f[j]`` (``uint8``, 0 or 1, one per token), derived from what a
  tokenizer reports about an encoding: :func:`starts_from_word_ids`,
  :func:`starts_from_offsets`, :func:`starts_from_chinese_ref` (with :func:`chinese_ref` to
  build Chinese whole-word references with a word segmenter), or from a word table with
  :func:`starts_from_table`.

Special tokens and padding never belong to a word, and the first real token after a special
token always starts a word; the masking core enforces that itself, so the flags computed here
only need to be right for ordinary tokens.

Only NumPy is required. ``jieba`` is imported lazily, when :func:`chinese_ref` needs it.
"""

from __future__ import annotations

import unicodedata
from numbers import Integral
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)

import numpy as np

from fastmask._config import MAX_VOCAB

__all__ = [
    "CONVENTIONS",
    "WORD_CONTINUES",
    "WORD_STARTS",
    "WORD_STANDS_ALONE",
    "detect_convention",
    "word_table",
    "starts_from_table",
    "starts_from_word_ids",
    "starts_from_offsets",
    "starts_from_chinese_ref",
    "chinese_ref",
    "chinese_word_starts",
]

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
Offsets = Union[Sequence[Sequence[int]], np.ndarray]
WordIds = Union[Sequence[Optional[int]], np.ndarray]


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


def _is_cjk_char(ch: str) -> bool:
    """True for a CJK unified ideograph (the ranges BERT's tokenizer treats as Chinese)."""
    cp = ord(ch)
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B820 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


def _is_cjk_text(text: str) -> bool:
    return bool(text) and all(_is_cjk_char(ch) for ch in text)


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
    out_of_range = (arr < 0) | (arr >= tab.size)
    if out_of_range.any():
        where = np.argwhere(out_of_range)[0]
        pos = ", ".join(str(int(i)) for i in where)
        raise ValueError(
            f"ids[{pos}] = {int(arr[tuple(where)])} is outside the table's [0, {tab.size})"
        )
    values = tab[arr]
    flags = values >= WORD_STARTS
    flags[..., 1:] |= values[..., :-1] == WORD_STANDS_ALONE
    if arr.shape[-1]:
        flags[..., 0] = True
    return flags.astype(np.uint8)


def _word_ids_array(word_ids: Sequence[Any], where: str) -> np.ndarray:
    """int64 array of one example's word ids, ``None`` (and negatives) as -1."""
    if isinstance(word_ids, np.ndarray):
        if word_ids.ndim != 1:
            raise ValueError(f"{where} must be 1-D, got shape {word_ids.shape}")
        if word_ids.dtype != object:
            if word_ids.size and not np.issubdtype(word_ids.dtype, np.integer):
                raise TypeError(f"{where} must hold ints or None, got dtype {word_ids.dtype}")
            return np.where(word_ids < 0, -1, word_ids).astype(np.int64)
    if len(word_ids) == 0:
        return np.zeros(0, dtype=np.int64)
    try:
        fast = np.array([-1 if w is None else w for w in word_ids])
    except (TypeError, ValueError, OverflowError):
        fast = None
    if fast is not None and fast.ndim == 1 and fast.dtype.kind in "iu":
        return np.where(fast < 0, -1, fast).astype(np.int64, copy=False)
    out = np.empty(len(word_ids), dtype=np.int64)
    for j, w in enumerate(word_ids):
        if w is None:
            out[j] = -1
        elif isinstance(w, Integral) and not isinstance(w, bool):
            value = int(w)
            if value >= 1 << 63:
                raise ValueError(f"{where}[{j}] = {value} does not fit in 64 bits")
            out[j] = value if value >= 0 else -1
        else:
            raise TypeError(f"{where}[{j}] is {type(w).__name__} {w!r}, expected int or None")
    return out


def _flags_from_word_ids(ids: np.ndarray) -> np.ndarray:
    flags = np.ones(ids.shape, dtype=np.uint8)
    if ids.size > 1:
        flags[1:] = (ids[1:] < 0) | (ids[1:] != ids[:-1])
    return flags


def _is_sequence(x: Any) -> bool:
    return isinstance(x, (list, tuple, np.ndarray))


def starts_from_word_ids(
    word_ids: Union[WordIds, Sequence[WordIds]],
) -> Union[np.ndarray, List[np.ndarray]]:
    """Word-start flags from a fast tokenizer's ``encoding.word_ids()``.

    ``f[j] = 1`` when ``word_ids[j]`` is ``None`` (a special token), or ``j == 0``, or
    ``word_ids[j] != word_ids[j-1]``. A negative id counts as ``None`` (the usual way to store
    word ids in an integer array).

    For a pair of sequences the tokenizer restarts word ids at 0 in the second one; the special
    token between them (``[SEP]``, ``</s>``) keeps the first word of the second sequence apart.

    Args:
        word_ids: one example (a list of ints/``None`` or a 1-D integer array), a batch of
            examples (a list of such lists, each with its own length), or a 2-D integer array
            whose rows are examples.

    Returns:
        A ``uint8`` array of the example's length; for a list batch a list of them; for a 2-D
        array a 2-D array.
    """
    if isinstance(word_ids, np.ndarray) and word_ids.ndim == 2 and word_ids.dtype != object:
        flags = np.empty(word_ids.shape, dtype=np.uint8)
        for i, row in enumerate(word_ids):
            flags[i] = _flags_from_word_ids(_word_ids_array(row, f"word_ids[{i}]"))
        return flags
    if not _is_sequence(word_ids):
        raise TypeError(
            f"word_ids must be a list of ints/None, a list of such lists or an integer array, "
            f"got {type(word_ids).__name__}"
        )
    first = next((w for w in word_ids if w is not None), None)
    if _is_sequence(first):
        out = []
        for i, example in enumerate(word_ids):
            if not _is_sequence(example):
                raise TypeError(
                    f"word_ids[{i}] is {type(example).__name__}; a batch holds one list per example"
                )
            out.append(_flags_from_word_ids(_word_ids_array(example, f"word_ids[{i}]")))
        return out
    return _flags_from_word_ids(_word_ids_array(word_ids, "word_ids"))  # type: ignore[arg-type]


def _offsets_array(offsets: Any, where: str) -> np.ndarray:
    """``(n, 2)`` int64 array of one example's ``(start, end)`` pairs, validated."""
    if not _is_sequence(offsets):
        raise TypeError(
            f"{where} must be a list of (start, end) pairs or an (n, 2) array, "
            f"got {type(offsets).__name__}"
        )
    if len(offsets) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    arr: Optional[np.ndarray] = None
    if isinstance(offsets, np.ndarray):
        arr = offsets
    else:
        try:
            arr = np.asarray(offsets)
        except ValueError:  # ragged pairs
            arr = None
    well_formed = (
        arr is not None
        and arr.ndim == 2
        and arr.shape[1] == 2
        and np.issubdtype(arr.dtype, np.integer)
    )
    if arr is None or not well_formed:
        if isinstance(offsets, np.ndarray):
            if offsets.ndim != 2 or offsets.shape[1] != 2:
                raise ValueError(f"{where} must have shape (n, 2), got {offsets.shape}")
            raise TypeError(f"{where} must hold integers, got dtype {offsets.dtype}")
        for j, pair in enumerate(offsets):
            if not _is_sequence(pair) or len(pair) != 2:
                raise ValueError(f"{where}[{j}] = {pair!r} is not a (start, end) pair")
            for v in pair:
                if isinstance(v, bool) or not isinstance(v, Integral):
                    raise TypeError(
                        f"{where}[{j}] = {pair!r}: offsets must be ints, not {type(v).__name__}"
                    )
        arr = np.array(offsets, dtype=np.int64)
    arr = arr.astype(np.int64, copy=False)
    starts, ends = arr[:, 0], arr[:, 1]
    bad = (starts < 0) | (ends < starts)
    if bad.any():
        j = int(np.argmax(bad))
        raise ValueError(
            f"{where}[{j}] = ({int(starts[j])}, {int(ends[j])}): need 0 <= start <= end"
        )
    return arr


def _flags_from_offsets(arr: np.ndarray, text: Optional[str], where: str) -> np.ndarray:
    n = arr.shape[0]
    flags = np.ones(n, dtype=np.uint8)
    if n == 0:
        return flags
    starts, ends = arr[:, 0], arr[:, 1]
    empty = starts == ends
    if n > 1:
        s, ps, pe = starts[1:], starts[:-1], ends[:-1]
        gap = s > pe  # whitespace (or anything dropped) between the two tokens
        restart = s < ps  # offsets went back: a new sequence of a pair
        after_special = empty[:-1] & (pe == 0)  # (0, 0): a special token added around the text
        flags[1:] = gap | restart | after_special | empty[1:]
    if text is not None:
        if int(ends.max()) > len(text):
            j = int(np.argmax(ends > len(text)))
            raise ValueError(
                f"{where}[{j}] = ({int(starts[j])}, {int(ends[j])}) goes past the end of the "
                f"text ({len(text)} characters)"
            )
        for k in np.flatnonzero(~empty & (flags == 0)):
            if text[int(starts[k])].isspace():  # offsets that include the leading space
                flags[k] = 1
    return flags


def _is_offsets_batch(offsets: Any) -> bool:
    if isinstance(offsets, np.ndarray):
        return offsets.ndim == 3
    if not offsets:
        return False
    first = offsets[0]
    if not _is_sequence(first):
        return False
    return len(first) == 0 or _is_sequence(first[0])


def starts_from_offsets(
    offsets: Union[Offsets, Sequence[Offsets]],
    text: Union[str, Sequence[Optional[str]], None] = None,
) -> Union[np.ndarray, List[np.ndarray]]:
    """Word-start flags from character offsets (a tokenizer's ``offset_mapping``).

    Tokens are grouped into whitespace-separated words: ``f[j] = 1`` when ``j == 0``, when
    something lies between the previous token's end and this token's start
    (``start_j > end_{j-1}``), when the offsets go back (``start_j < start_{j-1}``: the second
    text of a pair), and for a token with an empty span and the token right after a ``(0, 0)``
    special token. Tokens that touch or overlap (several byte-level pieces of one character)
    continue a word.

    Tokenizers whose offsets include the leading space of a piece (SentencePiece ``▁x``,
    byte-level ``Ġx`` without ``trim_offsets``) need ``text``: with it, a token whose span
    starts with a whitespace character also starts a word.

    Args:
        offsets: one example, as ``(start, end)`` pairs or an ``(n, 2)`` integer array; or a
            batch: a list of examples, each with its own length, or a ``(B, n, 2)`` array.
        text: the encoded text (one string, or one per example of a batch; ``None`` to go by
            the offsets alone).

    Returns:
        A ``uint8`` array of the example's length; for a batch a list of them (a 2-D array for
        a 3-D input).
    """
    if not _is_sequence(offsets):
        raise TypeError(
            "offsets must be a list of (start, end) pairs, an (n, 2) array, or a batch of them; "
            f"got {type(offsets).__name__}"
        )
    if _is_offsets_batch(offsets):
        count = len(offsets)
        if text is None or isinstance(text, str):
            if isinstance(text, str):
                raise TypeError("text must be a list of strings (one per example) for a batch")
            texts: Sequence[Optional[str]] = [None] * count
        else:
            texts = text
            if len(texts) != count:
                raise ValueError(f"text has {len(texts)} entries for {count} examples")
        out = []
        for i in range(count):
            t = texts[i]
            if t is not None and not isinstance(t, str):
                raise TypeError(f"text[{i}] is {type(t).__name__}, expected str or None")
            where = f"offsets[{i}]"
            out.append(_flags_from_offsets(_offsets_array(offsets[i], where), t, where))
        if isinstance(offsets, np.ndarray):
            return np.stack(out) if out else np.zeros(offsets.shape[:2], dtype=np.uint8)
        return out
    if text is not None and not isinstance(text, str):
        raise TypeError(f"text must be a str for one example, got {type(text).__name__}")
    return _flags_from_offsets(_offsets_array(offsets, "offsets"), text, "offsets")


def starts_from_chinese_ref(
    n: int,
    chinese_ref: Iterable[int],
    base: Union[Sequence[int], np.ndarray, None] = None,
) -> np.ndarray:
    """Word-start flags from a Chinese whole-word reference (Hugging Face's ``chinese_ref``).

    ``chinese_ref`` lists the positions of tokens that continue a Chinese word. The flags are
    ``base`` (all ones by default: every token starts a word, as for character-level Chinese
    BERT) with those positions set to 0.

    Args:
        n: number of tokens of the example.
        chinese_ref: positions in ``[0, n)``.
        base: flags for the rest of the sequence (e.g. from :func:`starts_from_table` for the
            ``##`` pieces of non-Chinese words); length ``n``, values 0/1. Not modified.

    Returns:
        A ``uint8`` array of length ``n``.
    """
    if isinstance(n, bool) or not isinstance(n, Integral):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    n = int(n)
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if base is None:
        flags = np.ones(n, dtype=np.uint8)
    else:
        arr = np.asarray(base)
        if arr.ndim != 1 or arr.shape[0] != n:
            raise ValueError(f"base must be 1-D of length n={n}, got shape {arr.shape}")
        if arr.size and not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_):
            raise TypeError(f"base must hold 0/1 integers, got dtype {arr.dtype}")
        if arr.size and (arr.min() < 0 or arr.max() > 1):
            j = int(np.argmax((arr < 0) | (arr > 1)))
            raise ValueError(f"base[{j}] = {arr[j]}; flags are 0 or 1")
        flags = arr.astype(np.uint8)  # always a copy
    if isinstance(chinese_ref, (str, bytes)) or not isinstance(chinese_ref, Iterable):
        raise TypeError(
            f"chinese_ref must be a list of positions, got {type(chinese_ref).__name__}"
        )
    for k, pos in enumerate(chinese_ref):
        if isinstance(pos, bool) or not isinstance(pos, Integral):
            raise TypeError(f"chinese_ref[{k}] is {type(pos).__name__}, expected int")
        if not 0 <= pos < n:
            raise ValueError(f"chinese_ref[{k}] = {pos} is outside [0, {n})")
        flags[int(pos)] = 0
    return flags


Segmenter = Callable[[str], Iterable[str]]


def _jieba_segmenter() -> Segmenter:
    try:
        import jieba  # type: ignore[import-not-found]
    except ImportError as exc:
        raise ImportError(
            "Chinese word segmentation needs jieba: pip install jieba "
            "(or pass segmenter= a function that splits a text into words)"
        ) from exc
    return jieba.lcut


def _word_spans(text: str, words: Iterable[str]) -> List[Tuple[int, int]]:
    """Character spans of a segmenter's words, found in order in ``text``."""
    spans = []
    pos = 0
    for word in words:
        if not isinstance(word, str):
            raise TypeError(f"the segmenter returned {type(word).__name__}, expected str")
        if not word:
            continue
        at = text.find(word, pos)
        if at < 0:
            raise ValueError(f"the segmenter returned {word!r}, not found in text after {pos}")
        spans.append((at, at + len(word)))
        pos = at + len(word)
    return spans


def chinese_ref(
    text: str, offsets: Offsets, *, segmenter: Optional[Segmenter] = None
) -> List[int]:
    """Positions of the tokens that continue a Chinese word (Hugging Face's ``chinese_ref``).

    The text is split into words by ``segmenter`` (jieba by default). A token continues a word
    when its text is made only of CJK ideographs and its span lies inside a word made only of
    CJK ideographs, after that word's first character; this is the rule of Hugging Face's
    ``run_chinese_ref.py`` (with LTP there), applied by position. Tokens with an empty span
    (special tokens) are never listed.

    Args:
        text: the encoded text.
        offsets: the tokens' ``(start, end)`` character offsets in ``text`` (one example; the
            positions returned index this list, so include the special tokens to get positions
            in ``input_ids``).
        segmenter: a function from a text to its words, in order (e.g. ``jieba.lcut``, or an
            LTP wrapper). Words are located in ``text`` in order; characters they skip belong
            to no word.

    Returns:
        The sorted positions, as a list of ints.

    Raises:
        ImportError: jieba is needed and not installed.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    arr = _offsets_array(offsets, "offsets")
    if arr.shape[0] and int(arr[:, 1].max()) > len(text):
        j = int(np.argmax(arr[:, 1] > len(text)))
        raise ValueError(
            f"offsets[{j}] = ({int(arr[j, 0])}, {int(arr[j, 1])}) goes past the end of the "
            f"text ({len(text)} characters)"
        )
    if segmenter is None:
        segmenter = _jieba_segmenter()
    elif not callable(segmenter):
        raise TypeError(f"segmenter must be callable, got {type(segmenter).__name__}")
    # word_end[c] = end of the multi-character Chinese word in which character c is not the
    # first one; 0 where there is none.
    word_end = np.zeros(len(text) + 1, dtype=np.int64)
    for start, end in _word_spans(text, segmenter(text)):
        if end - start > 1 and _is_cjk_text(text[start:end]):
            word_end[start + 1 : end] = end
    refs = []
    for j in range(arr.shape[0]):
        start, end = int(arr[j, 0]), int(arr[j, 1])
        if start < end and end <= word_end[start] and _is_cjk_text(text[start:end]):
            refs.append(j)
    return refs


def chinese_word_starts(
    text: str,
    offsets: Offsets,
    base: Union[Sequence[int], np.ndarray, None] = None,
    *,
    segmenter: Optional[Segmenter] = None,
) -> np.ndarray:
    """Word-start flags of a Chinese example: :func:`chinese_ref` applied to ``base``.

    Equivalent to ``starts_from_chinese_ref(len(offsets), chinese_ref(text, offsets), base)``.
    """
    refs = chinese_ref(text, offsets, segmenter=segmenter)
    return starts_from_chinese_ref(len(offsets), refs, base)
