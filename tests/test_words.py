"""Tests of fastmask.words: word tables and per-example word-start flags.

The tokenizers are trained here, with the ``tokenizers`` package, on English text that every
Python installation ships (the documentation topics of ``pydoc_data``); nothing is downloaded.
"""

from __future__ import annotations

import sys
import unicodedata
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import pytest

from fastmask.words import (
    WORD_CONTINUES,
    WORD_STANDS_ALONE,
    WORD_STARTS,
    chinese_ref,
    chinese_word_starts,
    detect_convention,
    starts_from_chinese_ref,
    starts_from_offsets,
    starts_from_table,
    starts_from_word_ids,
    word_table,
)

# =================================================================================================
# Real text and locally trained tokenizers
# =================================================================================================


def _corpus_lines() -> List[str]:
    import pydoc_data.topics

    lines = []
    for doc in pydoc_data.topics.topics.values():
        for line in doc.splitlines():
            line = line.strip()
            if len(line) >= 20:
                lines.append(line)
    return lines


@pytest.fixture(scope="module")
def corpus() -> List[str]:
    lines = _corpus_lines()
    assert len(lines) > 3000
    return lines


@pytest.fixture(scope="module")
def sample(corpus) -> List[str]:
    """Real prose lines spread over the whole corpus (not the tables and "*****" rules)."""
    prose = [line for line in corpus if sum(ch.isalpha() for ch in line) >= 0.7 * len(line)]
    return prose[::3]


def _with_template(tok, first: str, last: str, pair: Optional[str] = None):
    """Adds a post-processor that wraps a text in ``first ... last`` (and a pair as ``pair``)."""
    from tokenizers import processors

    a, b = tok.token_to_id(first), tok.token_to_id(last)
    extra = {} if pair is None else {"pair": pair}
    tok.post_processor = processors.TemplateProcessing(
        single=f"{first} $A {last}", special_tokens=[(first, a), (last, b)], **extra
    )
    return tok


def _bert_wordpiece(lines, vocab_size: int):
    """A lower-casing BERT-style WordPiece tokenizer trained on ``lines``, without specials
    around the text yet."""
    tk = pytest.importorskip("tokenizers")
    from tokenizers import models, normalizers, pre_tokenizers, trainers

    tok = tk.Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(
        lines, trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials)
    )
    return tok


def _train_wordpiece(lines):
    return _with_template(_bert_wordpiece(lines, 4000), "[CLS]", "[SEP]",
                          "[CLS] $A [SEP] $B:1 [SEP]:1")


def _train_unigram(lines):
    tk = pytest.importorskip("tokenizers")
    from tokenizers import decoders, models, pre_tokenizers, trainers

    tok = tk.Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    specials = ["<pad>", "<unk>", "<s>", "</s>", "<mask>"]
    tok.train_from_iterator(
        lines,
        trainers.UnigramTrainer(vocab_size=4000, special_tokens=specials, unk_token="<unk>"),
    )
    return _with_template(tok, "<s>", "</s>", "<s> $A </s> </s> $B </s>")


def _train_bytelevel(lines):
    tk = pytest.importorskip("tokenizers")
    from tokenizers import decoders, models, pre_tokenizers, processors, trainers

    tok = tk.Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok.train_from_iterator(
        lines,
        trainers.BpeTrainer(
            vocab_size=4000,
            special_tokens=specials,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        ),
    )
    tok.post_processor = processors.RobertaProcessing(
        ("</s>", tok.token_to_id("</s>")),
        ("<s>", tok.token_to_id("<s>")),
        trim_offsets=True,
        add_prefix_space=False,
    )
    return tok


TRAINERS: Dict[str, Callable] = {
    "wordpiece": _train_wordpiece,
    "sentencepiece": _train_unigram,
    "bytelevel": _train_bytelevel,
}


@pytest.fixture(scope="module", params=sorted(TRAINERS))
def trained(request, corpus):
    """(convention, tokenizer) for each convention, trained once per module."""
    return request.param, _trained_once(request.param, corpus)


_TRAINED: dict = {}


def _trained_once(convention, corpus):
    if convention not in _TRAINED:
        _TRAINED[convention] = TRAINERS[convention](corpus)
    return _TRAINED[convention]


@pytest.fixture(scope="module")
def bytelevel_tokenizer(corpus):
    """The byte-level tokenizer alone, for tests that only concern that convention."""
    return _trained_once("bytelevel", corpus)


# =================================================================================================
# Helpers of the comparisons
# =================================================================================================


def _is_separator_text(span: str) -> bool:
    """Punctuation, symbols, runs of whitespace: what the table deliberately keeps out of words
    (a single space is the start of a word, not a separator)."""
    return bool(span) and span != " " and all(
        ch.isspace() or unicodedata.category(ch)[0] in "PS" for ch in span
    )


def _char_class(ch: str) -> str:
    if ch.isalpha():
        return "L"
    if ch.isnumeric():
        return "N"
    return "O"


def _pretokenizer_split(text: str, offsets, j: int) -> bool:
    """True when a GPT-2 style pre-tokenizer split token j from token j-1 inside a run of
    non-space characters: a letter/digit/other class change or a contraction ("'t", "'s")."""
    start = offsets[j][0]
    prev_end = offsets[j - 1][1]
    if start == 0 or start > prev_end or text[start].isspace():
        return False
    return _char_class(text[start - 1]) != _char_class(text[start]) or text[start] == "'"


def _as_core_sees_it(flags: np.ndarray, word_ids: Sequence[Optional[int]]) -> np.ndarray:
    """The flags as the masking core uses them: a special token belongs to no word and the
    token after one always starts a word, whatever its flag."""
    out = flags.copy()
    for j, w in enumerate(word_ids):
        if w is None:
            out[j] = 1
            if j + 1 < len(out):
                out[j + 1] = 1
    return out


def _check_against_word_ids(
    encoding,
    text: str,
    flags: np.ndarray,
    allow_pretokenizer_splits: bool,
) -> Tuple[int, int, int]:
    """Compares flags with the encoding's word_ids() on the real tokens of one text.

    Every disagreement must be at a punctuation/symbol token or right after one (or, when
    allowed, a split that a byte-level pre-tokenizer makes inside a run of non-space
    characters). Returns (disagreements, real tokens, explanations): a separator token explains
    at most two disagreements (its own flag and the next token's), a pre-tokenizer split one.
    """
    expected = starts_from_word_ids(encoding.word_ids)
    flags = _as_core_sees_it(flags, encoding.word_ids)
    offsets = encoding.offsets
    special = [w is None for w in encoding.word_ids]
    separator = [
        not special[j] and _is_separator_text(text[offsets[j][0] : offsets[j][1]])
        for j in range(len(offsets))
    ]
    disagreements = 0
    explanations = 2 * sum(separator)
    for j in range(len(flags)):
        if special[j] or flags[j] == expected[j]:
            continue
        disagreements += 1
        explained = separator[j] or (j > 0 and separator[j - 1])
        if not explained and allow_pretokenizer_splits:
            explained = flags[j] == 0 and _pretokenizer_split(text, offsets, j)
            explanations += 1
        assert explained, (
            f"flag {flags[j]} vs word_ids flag {expected[j]} at token {j} "
            f"{encoding.tokens[j]!r} of {text!r}: {list(zip(encoding.tokens, encoding.word_ids))}"
        )
    return disagreements, sum(1 for s in special if not s), explanations


# =================================================================================================
# Word tables of trained tokenizers
# =================================================================================================


def test_auto_detects_each_convention(trained):
    convention, tok = trained
    assert detect_convention(tok) == convention
    assert detect_convention(tok.get_vocab()) == convention
    table = word_table(tok)
    assert table == word_table(tok, convention=convention)
    assert table == word_table(tok.get_vocab())
    assert isinstance(table, bytes) and len(table) == tok.get_vocab_size()
    assert set(table) <= {WORD_CONTINUES, WORD_STARTS, WORD_STANDS_ALONE}
    # every value occurs in a real vocabulary
    assert {WORD_CONTINUES, WORD_STARTS, WORD_STANDS_ALONE} <= set(table)


def test_table_values_of_real_tokens(trained):
    convention, tok = trained
    table = word_table(tok)
    vocab = tok.get_vocab()
    for token, tid in vocab.items():
        if convention == "wordpiece":
            if token.startswith("##") and len(token) > 2:
                assert table[tid] == WORD_CONTINUES, token
            elif all(unicodedata.category(c)[0] in "PS" for c in token):
                assert table[tid] == WORD_STANDS_ALONE, token
            else:
                assert table[tid] == WORD_STARTS, token
        elif convention == "sentencepiece":
            body = token[1:] if token.startswith("\u2581") else token
            if body and all(unicodedata.category(c)[0] in "PS" or c.isspace() for c in body):
                assert table[tid] == WORD_STANDS_ALONE, token
            elif token.startswith("\u2581"):
                assert table[tid] == WORD_STARTS, token
            else:
                assert table[tid] == WORD_CONTINUES, token
    if convention == "bytelevel":
        # decode the pieces with the tokenizer's own decoder to find spaces and punctuation
        for token, tid in vocab.items():
            text = tok.decode([tid], skip_special_tokens=False)
            if "\ufffd" in text:  # a piece of a multi-byte character
                assert table[tid] in (WORD_CONTINUES, WORD_STARTS), token
                continue
            body = text[1:] if text.startswith(" ") else text
            if body and all(unicodedata.category(c)[0] in "PS" or c.isspace() for c in body):
                assert table[tid] == WORD_STANDS_ALONE, (token, text)
            elif text[:1].isspace():
                assert table[tid] == WORD_STARTS, (token, text)
            else:
                assert table[tid] == WORD_CONTINUES, (token, text)


def _compare_all(tok, texts, flags_of, allow_pretokenizer_splits) -> Tuple[int, int]:
    total_dis = total_real = 0
    for enc, text in zip(tok.encode_batch(texts), texts):
        flags = flags_of(enc, text)
        assert flags.dtype == np.uint8 and flags.shape == (len(enc.ids),)
        dis, real, explanations = _check_against_word_ids(
            enc, text, flags, allow_pretokenizer_splits
        )
        assert dis <= explanations
        total_dis += dis
        total_real += real
    assert total_real > 20_000
    return total_dis, total_real


def test_table_flags_match_word_ids(trained, sample):
    convention, tok = trained
    table = word_table(tok)
    dis, real = _compare_all(
        tok, sample, lambda enc, text: starts_from_table(enc.ids, table), convention == "bytelevel"
    )
    # Python's documentation is dense with quotes, parentheses and underscores, each of which
    # the table keeps out of the word around it; all other tokens agree
    assert dis / real < 0.15, (dis, real)
    if convention == "wordpiece":
        # BERT's pre-tokenizer splits punctuation off exactly as the table does
        assert dis == 0


def test_offset_flags_match_word_ids(trained, sample):
    convention, tok = trained

    def flags_of(enc, text):
        # the Metaspace offsets of "▁x" include the space: the text tells where spaces are
        return starts_from_offsets(enc.offsets, text if convention == "sentencepiece" else None)

    dis, real = _compare_all(tok, sample, flags_of, convention == "bytelevel")
    # offsets give whitespace-separated words: "value," and "(re)bind" are one word each
    assert dis / real < 0.30, (dis, real)
    if convention == "sentencepiece":
        # Metaspace words are exactly the whitespace-separated words
        assert dis == 0


def test_offsets_with_untrimmed_spaces_need_the_text(bytelevel_tokenizer, sample):
    tok = bytelevel_tokenizer
    from tokenizers import processors

    untrimmed = tok.__class__.from_str(tok.to_str())
    untrimmed.post_processor = processors.RobertaProcessing(
        ("</s>", tok.token_to_id("</s>")),
        ("<s>", tok.token_to_id("<s>")),
        trim_offsets=False,
        add_prefix_space=False,
    )
    texts = sample[:300]
    encodings = untrimmed.encode_batch(texts)
    trimmed = tok.encode_batch(texts)
    with_text = starts_from_offsets([e.offsets for e in encodings], texts)
    expected = starts_from_offsets([e.offsets for e in trimmed])
    for a, b in zip(with_text, expected):
        np.testing.assert_array_equal(a, b)
    # without the text, "Ġword" touches the previous token and looks like a continuation
    without = starts_from_offsets([e.offsets for e in encodings])
    assert sum(int(a.sum()) for a in without) < sum(int(a.sum()) for a in with_text)


def test_pairs_restart_words(trained, sample):
    convention, tok = trained
    table = word_table(tok)
    first, second = sample[10], sample[11]
    enc = tok.encode(first, second)
    ids = enc.word_ids
    assert ids.count(None) >= 3
    n_first = enc.sequence_ids.index(1)
    assert ids[n_first] == 0  # word ids restart in the second sequence
    for flags in (starts_from_word_ids(ids), starts_from_offsets(enc.offsets)):
        assert flags[n_first] == 1
        assert flags[1] == 1
    # the table cannot see the restart (a byte-level "se" continues); the core starts a word
    # after every special token, and so the second text's first word is never glued
    assert ids[n_first - 1] is None
    flags = _as_core_sees_it(starts_from_table(enc.ids, table), ids)
    np.testing.assert_array_equal(
        flags[n_first : n_first + 3], starts_from_word_ids(ids)[n_first : n_first + 3]
    )


def test_added_tokens_stand_alone(trained):
    convention, tok = trained
    tok = tok.__class__.from_str(tok.to_str())
    tok.add_tokens(["<newtok>"])
    tok.add_special_tokens(["<extra_special>"])
    table = word_table(tok)
    new_id = tok.token_to_id("<newtok>")
    assert len(table) == tok.get_vocab_size() and new_id < len(table)
    assert table[new_id] == WORD_STANDS_ALONE
    text = "Compare abc<newtok>def with the others"
    enc = tok.encode(text)
    assert tok.token_to_id("<newtok>") in enc.ids
    np.testing.assert_array_equal(
        _as_core_sees_it(starts_from_table(enc.ids, table), enc.word_ids),
        starts_from_word_ids(enc.word_ids),
    )


def test_transformers_tokenizer_object(trained):
    transformers = pytest.importorskip("transformers")
    convention, tok = trained
    hf = transformers.PreTrainedTokenizerFast(tokenizer_object=tok)
    hf.add_tokens(["<newtok>"])
    table = word_table(hf)
    assert len(table) == len(hf)
    assert table[hf.convert_tokens_to_ids("<newtok>")] == WORD_STANDS_ALONE
    assert table[: tok.get_vocab_size()] == word_table(tok)


def test_starts_from_table_matches_reference():
    from fastmask.reference import word_starts_from_table as oracle

    rng = np.random.default_rng(7)
    table = bytes(rng.integers(0, 3, size=50, dtype=np.uint8))
    for n in (0, 1, 2, 5, 40):
        ids = rng.integers(0, 50, size=n)
        assert starts_from_table(ids, table).tolist() == list(oracle(ids.tolist(), table))


# =================================================================================================
# Word tables: conventions, detection, validation
# =================================================================================================


def _table_of(tokens: Sequence[str], convention: str) -> Dict[str, int]:
    table = word_table(list(tokens), convention=convention)
    return {t: table[i] for i, t in enumerate(tokens)}


def test_wordpiece_rules():
    got = _table_of(
        ["[CLS]", "the", "##ing", "##.", "##", ".", "...", "$", "，", "北", "##京", "1", "(a"],
        "wordpiece",
    )
    assert got == {
        "[CLS]": 1, "the": 1, "##ing": 0, "##.": 0, "##": 2, ".": 2, "...": 2, "$": 2,
        "，": 2, "北": 1, "##京": 0, "1": 1, "(a": 1,
    }


def test_sentencepiece_rules():
    got = _table_of(
        ["\u2581the", "ing", "\u2581", "\u2581,", ",", "\u2581\u2581", "\n", "<s>", "\u2581北京",
         "京", "\u2581(a", "\u2581\u2014"],
        "sentencepiece",
    )
    assert got == {
        "\u2581the": 1, "ing": 0, "\u2581": 1, "\u2581,": 2, ",": 2, "\u2581\u2581": 2,
        "\n": 2, "<s>": 0, "\u2581北京": 1, "京": 0, "\u2581(a": 1, "\u2581\u2014": 2,
    }


def test_bytelevel_rules():
    # "ĠâĢĶ" is " —" (em dash) written in the byte-level alphabet; "ðŁĺ" is a piece of an emoji
    got = _table_of(
        ["\u0120the", "ing", "\u0120", "\u0120\u0120", "\u010a", "\u010a\u010a", "\u0109",
         "\u0120(", ",", "'t", "\u0120\u00e2\u0122\u0136", "\u00f0\u0141\u013a",
         "\u0120\u00e2", "\u010athe"],
        "bytelevel",
    )
    assert got == {
        "\u0120the": 1, "ing": 0, "\u0120": 1, "\u0120\u0120": 2, "\u010a": 2,
        "\u010a\u010a": 2, "\u0109": 2, "\u0120(": 2, ",": 2, "'t": 0,
        "\u0120\u00e2\u0122\u0136": 2, "\u00f0\u0141\u013a": 0, "\u0120\u00e2": 1,
        "\u010athe": 1,
    }


def test_holes_and_vocab_size():
    table = word_table({"the": 0, "##ing": 2, "##s": 5}, vocab_size=8)
    assert list(table) == [1, 1, 0, 1, 1, 0, 1, 1]
    assert list(word_table(["\u2581a", None, "b"])) == [1, 1, 0]
    assert len(word_table({"##a": 0, "##b": 3})) == 4


def test_accepts_numpy_ids_and_tuples():
    assert word_table({"##a": np.int64(1), "b": np.int32(0)}) == bytes([1, 0])
    assert word_table(("\u2581a", "b")) == bytes([1, 0])


def test_ambiguous_vocabulary():
    vocab = [f"##{i}" for i in range(10)] + [f"\u2581{i}" for i in range(8)] + ["x"]
    with pytest.raises(ValueError) as err:
        word_table(vocab)
    message = str(err.value)
    assert "10 tokens start with '##'" in message and "8 with" in message
    assert "convention=" in message
    with pytest.raises(ValueError, match="convention="):
        detect_convention(["a", "b", "c"])  # no marker at all
    # the caller can always say which convention it is
    assert word_table(vocab, convention="wordpiece")[0] == WORD_CONTINUES


def test_dominance_threshold():
    vocab = [f"\u0120w{i}" for i in range(40)] + [f"##{i}" for i in range(10)]
    assert detect_convention(vocab) == "bytelevel"
    with pytest.raises(ValueError):
        detect_convention(vocab + [f"##x{i}" for i in range(1)])


class _BadVocab:
    def get_vocab(self):
        return ["a", "b"]


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        (dict(vocab=123), TypeError, "vocab must be"),
        (dict(vocab="##abc"), TypeError, "vocab must be"),
        (dict(vocab=_BadVocab()), TypeError, "get_vocab"),
        (dict(vocab=["a", 3]), TypeError, r"vocab\[1\]"),
        (dict(vocab={3: 1}), TypeError, "key 3"),
        (dict(vocab={"a": 1.0}), TypeError, "'a'"),
        (dict(vocab={"a": True}), TypeError, "'a'"),
        (dict(vocab={"a": -1}), ValueError, "'a'"),
        (dict(vocab=["##a"], convention="bpe"), ValueError, "convention"),
        (dict(vocab=["##a"], convention=None), TypeError, "convention"),
        (dict(vocab={"##a": 4}, vocab_size=4), ValueError, "vocab_size"),
        (dict(vocab=["##a"], vocab_size=0), ValueError, "vocab_size"),
        (dict(vocab=["##a"], vocab_size=2.0), TypeError, "vocab_size"),
        (dict(vocab=["##a"], vocab_size=True), TypeError, "vocab_size"),
        (dict(vocab={}), ValueError, "empty"),
        (dict(vocab={"##a": 0, "b": 0}), ValueError, "share id 0"),
    ],
)
def test_word_table_bad_input(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        word_table(**kwargs)


def test_empty_vocab_with_size():
    assert word_table({}, convention="wordpiece", vocab_size=3) == bytes([1, 1, 1])


# =================================================================================================
# Per-example flags
# =================================================================================================


def test_starts_from_table_rule():
    table = bytes([0, 1, 2])
    ids = [1, 0, 2, 0, 0, 2, 2, 1, 0]
    assert starts_from_table(ids, table).tolist() == [1, 0, 1, 1, 0, 1, 1, 1, 0]
    assert starts_from_table([0], table).tolist() == [1]
    assert starts_from_table([], table).tolist() == []
    batch = np.array([[0, 0, 2], [2, 0, 1]])
    assert starts_from_table(batch, np.frombuffer(table, np.uint8)).tolist() == [
        [1, 0, 1],
        [1, 1, 1],
    ]


def test_starts_from_table_bad_input():
    table = bytes([0, 1, 2])
    with pytest.raises(ValueError, match=r"ids\[2\] = 3"):
        starts_from_table([0, 1, 3], table)
    with pytest.raises(ValueError, match=r"ids\[0\] = -1"):
        starts_from_table([-1], table)
    with pytest.raises(TypeError, match="ids"):
        starts_from_table([0.5, 1.0], table)
    with pytest.raises(ValueError, match=r"table\[1\] = 3"):
        starts_from_table([0], bytes([0, 3]))
    with pytest.raises(TypeError, match="table"):
        starts_from_table([0], [0, 1, 2])
    with pytest.raises(ValueError, match="table is empty"):
        starts_from_table([0], b"")


def test_starts_from_word_ids():
    word_ids = [None, 0, 0, 1, 2, 2, None, 0, 1, None]
    assert starts_from_word_ids(word_ids).tolist() == [1, 1, 0, 1, 1, 0, 1, 1, 1, 1]
    assert starts_from_word_ids([]).tolist() == []
    assert starts_from_word_ids([3, 3]).tolist() == [1, 0]
    as_array = np.array([-1, 0, 0, 1, -1, 0])
    assert starts_from_word_ids(as_array).tolist() == [1, 1, 0, 1, 1, 1]
    batch = starts_from_word_ids([[None, 0, 0, None], [None, 0, 1, 1, 1, None]])
    assert [b.tolist() for b in batch] == [[1, 1, 0, 1], [1, 1, 1, 0, 0, 1]]
    padded = starts_from_word_ids(np.array([[-1, 0, 0], [-1, 0, 1]]))
    assert padded.dtype == np.uint8 and padded.tolist() == [[1, 1, 0], [1, 1, 1]]


@pytest.mark.parametrize(
    "bad, error, pattern",
    [
        ([0, "a"], TypeError, r"word_ids\[1\]"),
        ([0, 1.0], TypeError, r"word_ids\[1\]"),
        ([[0, 0], [0, None, 2.5]], TypeError, r"word_ids\[1\]\[2\]"),
        ([[0], 1], TypeError, r"word_ids\[1\]"),
        (np.array([0.0, 1.0]), TypeError, "dtype"),
        ("abc", TypeError, "word_ids"),
        (None, TypeError, "word_ids"),
    ],
)
def test_starts_from_word_ids_bad_input(bad, error, pattern):
    with pytest.raises(error, match=pattern):
        starts_from_word_ids(bad)


def test_starts_from_offsets():
    #      [CLS]  hello   ,       world    ##s       [SEP]
    offs = [(0, 0), (0, 5), (5, 6), (7, 12), (12, 13), (0, 0)]
    assert starts_from_offsets(offs).tolist() == [1, 1, 0, 1, 0, 1]
    assert starts_from_offsets(np.array(offs)).tolist() == [1, 1, 0, 1, 0, 1]
    assert starts_from_offsets([]).tolist() == []
    # a pair: offsets restart at 0 after [SEP]
    pair = [(0, 0), (0, 3), (0, 0), (0, 2), (2, 4), (0, 0)]
    assert starts_from_offsets(pair).tolist() == [1, 1, 1, 1, 0, 1]
    # a pair without special tokens between the two texts
    assert starts_from_offsets([(0, 3), (3, 5), (0, 2)]).tolist() == [1, 0, 1]
    # several byte-level pieces of one character share its span and continue it;
    # a trimmed lone space (7, 7) starts the word its pieces continue
    emoji = [(0, 6), (7, 7), (7, 8), (7, 8), (7, 8), (9, 12)]
    assert starts_from_offsets(emoji).tolist() == [1, 1, 0, 0, 0, 1]


def test_starts_from_offsets_with_text():
    text = "I am here"
    # Metaspace-like offsets: a piece after a space includes the space: "I", " am", " he", "re"
    offs = [(0, 1), (1, 4), (4, 7), (7, 9)]
    assert starts_from_offsets(offs).tolist() == [1, 0, 0, 0]
    assert starts_from_offsets(offs, text).tolist() == [1, 1, 1, 0]


def test_starts_from_offsets_batches():
    batch = [[(0, 2), (2, 4), (5, 6)], [(0, 1)], []]
    out = starts_from_offsets(batch)
    assert [a.tolist() for a in out] == [[1, 0, 1], [1], []]
    out = starts_from_offsets(batch, ["abcd e", "x", ""])
    assert [a.tolist() for a in out] == [[1, 0, 1], [1], []]
    cube = np.array([[[0, 0], [0, 3], [3, 4]], [[0, 0], [0, 1], [2, 3]]])
    out = starts_from_offsets(cube)
    assert isinstance(out, np.ndarray) and out.tolist() == [[1, 1, 0], [1, 1, 1]]


@pytest.mark.parametrize(
    "args, error, pattern",
    [
        (([(0, 1, 2)],), ValueError, r"offsets\[0\]"),
        (([(0, 1), (3, 2)],), ValueError, r"offsets\[1\] = \(3, 2\)"),
        (([(-1, 2)],), ValueError, r"offsets\[0\]"),
        (([(0, 1.5)],), TypeError, r"offsets\[0\]"),
        (([[(0, 1)], [(0, 1), (1, "2")]],), TypeError, r"offsets\[1\]\[1\]"),
        ((np.zeros((3, 3), dtype=np.int64),), ValueError, "shape"),
        ((np.zeros((3, 2)),), TypeError, "dtype"),
        (([(0, 4)], "abc"), ValueError, "past the end"),
        (([(0, 4)], ["abcd"]), TypeError, "text must be a str"),
        (([[(0, 1)], [(0, 1)]], "ab"), TypeError, "one per example"),
        (([[(0, 1)], [(0, 1)]], ["a"]), ValueError, "1 entries for 2 examples"),
        ((5,), TypeError, "offsets"),
    ],
)
def test_starts_from_offsets_bad_input(args, error, pattern):
    with pytest.raises(error, match=pattern):
        starts_from_offsets(*args)


def test_starts_from_chinese_ref():
    assert starts_from_chinese_ref(6, [2, 3, 5]).tolist() == [1, 1, 0, 0, 1, 0]
    base = np.array([1, 1, 0, 1, 1, 1], dtype=np.uint8)
    out = starts_from_chinese_ref(6, [4], base)
    assert out.tolist() == [1, 1, 0, 1, 0, 1]
    assert base.tolist() == [1, 1, 0, 1, 1, 1]  # not modified
    assert starts_from_chinese_ref(3, [], [True, False, True]).tolist() == [1, 0, 1]
    assert starts_from_chinese_ref(0, []).tolist() == []


@pytest.mark.parametrize(
    "args, error, pattern",
    [
        ((3, [3]), ValueError, r"chinese_ref\[0\] = 3"),
        ((3, [0, -1]), ValueError, r"chinese_ref\[1\] = -1"),
        ((3, [1.0]), TypeError, r"chinese_ref\[0\]"),
        ((3, 1), TypeError, "chinese_ref"),
        ((3, [0], [1, 1]), ValueError, "base"),
        ((3, [0], [1, 2, 1]), ValueError, r"base\[1\] = 2"),
        ((3, [0], [1.0, 0.0, 1.0]), TypeError, "base"),
        ((-1, []), ValueError, "n must be"),
        ((2.0, []), TypeError, "n must be"),
    ],
)
def test_starts_from_chinese_ref_bad_input(args, error, pattern):
    with pytest.raises(error, match=pattern):
        starts_from_chinese_ref(*args)


# =================================================================================================
# Chinese whole-word references
# =================================================================================================

CHINESE = "我们使用Python处理自然语言，中文分词是自然语言处理的基础任务之一。"


def _greedy_refs(tokens: List[str], words: List[str]) -> List[int]:
    """Positions Hugging Face's run_chinese_ref.py marks: the multi-character Chinese words of
    the sentence are matched greedily (longest first) over the tokens, left to right; every
    token after the first of a match is a continuation."""
    chinese_words = {w for w in words if len(w) > 1 and all(words_is_cjk(c) for c in w)}
    longest = max((len(w) for w in chinese_words), default=0)
    refs = []
    i = 0
    while i < len(tokens):
        step = 1
        if words_is_cjk(tokens[i][:1]):
            for size in range(min(longest, len(tokens) - i), 1, -1):
                if "".join(tokens[i : i + size]) in chinese_words:
                    refs.extend(range(i + 1, i + size))
                    step = size
                    break
        i += step
    return [j for j in refs if len(tokens[j]) == 1 and words_is_cjk(tokens[j])]


def words_is_cjk(ch: str) -> bool:
    from fastmask.words.chinese import _is_cjk_char

    return len(ch) == 1 and _is_cjk_char(ch)


@pytest.fixture(scope="module")
def chinese_tokenizer():
    return _with_template(_bert_wordpiece([CHINESE] + _corpus_lines()[:500], 2000),
                          "[CLS]", "[SEP]")


def test_chinese_ref_marks_non_initial_characters_of_jieba_words(chinese_tokenizer):
    jieba = pytest.importorskip("jieba")
    enc = chinese_tokenizer.encode(CHINESE)
    # character-level: every Chinese character is a token of its own
    chinese_tokens = [t for t in enc.tokens if words_is_cjk(t)]
    assert len(chinese_tokens) == sum(words_is_cjk(c) for c in CHINESE)

    refs = chinese_ref(CHINESE, enc.offsets)

    segmented = jieba.lcut(CHINESE)
    assert any(len(w) > 1 for w in segmented)
    continuing_chars = set()
    pos = 0
    for w in segmented:
        if len(w) > 1 and all(words_is_cjk(c) for c in w):
            continuing_chars.update(range(pos + 1, pos + len(w)))
        pos += len(w)
    expected = [j for j, (s, e) in enumerate(enc.offsets) if e > s and s in continuing_chars]
    assert refs == expected
    assert len(refs) > 10
    # the same positions Hugging Face's greedy matching over the tokens gives
    assert refs == _greedy_refs(enc.tokens, segmented)
    # specials and the English word are never continuations of a Chinese word
    for j in refs:
        assert words_is_cjk(enc.tokens[j])

    table = word_table(chinese_tokenizer)
    base = starts_from_table(enc.ids, table)
    flags = chinese_word_starts(CHINESE, enc.offsets, base)
    assert flags.tolist() == starts_from_chinese_ref(len(enc.ids), refs, base).tolist()
    # every jieba word made of Chinese characters is one unit
    starts = [j for j in range(len(flags)) if flags[j]]
    assert flags[refs].sum() == 0 and len(starts) == len(flags) - len(refs)


def test_chinese_ref_with_a_custom_segmenter():
    text = "我爱北京天安门"
    offsets = [(0, 0)] + [(i, i + 1) for i in range(len(text))] + [(0, 0)]
    refs = chinese_ref(text, offsets, segmenter=lambda t: ["我", "爱", "北京", "天安门"])
    assert refs == [4, 6, 7]
    # tokens covering several characters, and words the segmenter spaces out
    text = "北京 天安门 and more"
    offsets = [(0, 2), (3, 4), (4, 6), (7, 10), (11, 15)]
    refs = chinese_ref(text, offsets, segmenter=lambda t: ["北京", "天安门", "and", "more"])
    assert refs == [2]  # (0, 2) starts 北京, (3, 4) starts 天安门, (4, 6) continues it


def test_chinese_ref_bad_input(monkeypatch):
    seg = lambda t: [t]  # noqa: E731
    with pytest.raises(ValueError, match="not found"):
        chinese_ref("北京", [(0, 1)], segmenter=lambda t: ["上海"])
    with pytest.raises(ValueError, match="past the end"):
        chinese_ref("北京", [(0, 3)], segmenter=seg)
    with pytest.raises(TypeError, match="text"):
        chinese_ref(b"abc", [(0, 1)], segmenter=seg)
    with pytest.raises(TypeError, match="segmenter"):
        chinese_ref("北京", [(0, 1)], segmenter="jieba")
    monkeypatch.setitem(sys.modules, "jieba", None)
    with pytest.raises(ImportError, match="pip install jieba"):
        chinese_ref("北京", [(0, 1)])
