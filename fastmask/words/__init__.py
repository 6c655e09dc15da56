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

from .chinese import Segmenter, _is_cjk_char, chinese_ref, chinese_word_starts  # noqa: F401
from .flags import (  # noqa: F401  (the old private names, still importable from here)
    Offsets,
    WordIds,
    _flags_from_offsets,
    _flags_from_word_ids,
    _offsets_array,
    _word_ids_array,
    starts_from_chinese_ref,
    starts_from_offsets,
    starts_from_word_ids,
)
from .tables import (  # noqa: F401  (the marker constants are public too)
    BYTELEVEL_SPACE,
    CONVENTIONS,
    METASPACE,
    WORD_CONTINUES,
    WORD_STANDS_ALONE,
    WORD_STARTS,
    WORDPIECE_PREFIX,
    VocabLike,
    detect_convention,
    starts_from_table,
    word_table,
)

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
