"""Chinese whole-word references: words from a segmenter (jieba by default), turned into the
positions of the tokens that continue a word (Hugging Face's ``chinese_ref``)."""

from __future__ import annotations

from typing import Callable, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from .flags import Offsets, _offsets_array, starts_from_chinese_ref


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



Segmenter = Callable[[str], Iterable[str]]


def _jieba_segmenter() -> Segmenter:
    try:
        import jieba
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
