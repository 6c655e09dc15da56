"""Shared helpers of the torch tests (no tests here).

A WordPiece tokenizer is trained locally on the Python documentation that ships with Python
(``pydoc_data.topics``) and wrapped as a Hugging Face fast tokenizer; nothing is downloaded.
"""

from __future__ import annotations

import functools
import re

import numpy as np

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


@functools.lru_cache(maxsize=None)
def corpus_lines():
    """Non-trivial lines of the pydoc topics text (real English prose and code)."""
    from pydoc_data.topics import topics

    lines = []
    for key in sorted(topics):
        for line in topics[key].splitlines():
            line = line.strip()
            # skip rulers like "*****" and "====" that carry no language
            if len(line) >= 20 and not re.fullmatch(r"[\W_]+", line):
                lines.append(line)
    return tuple(lines)


@functools.lru_cache(maxsize=None)
def wordpiece_tokenizer(vocab_size: int = 2000, padding_side: str = "right"):
    """A BERT-style fast tokenizer trained on :func:`corpus_lines`."""
    import transformers
    from tokenizers import (
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
        trainers,
    )

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(
        corpus_lines(), trainers.WordPieceTrainer(vocab_size=vocab_size,
                                                  special_tokens=SPECIAL_TOKENS))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    tok.decoder = decoders.WordPiece()
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
        sep_token="[SEP]", mask_token="[MASK]", padding_side=padding_side,
        model_input_names=["input_ids", "token_type_ids", "attention_mask"])


def tokenized_examples(tokenizer, n: int, max_length: int = 128, *, pairs: bool = False,
                       word_ids: bool = False, offsets: bool = False, start: int = 0,
                       padding=False):
    """``n`` dict examples as the tokenizer returns them (lengths vary with the text, unless
    ``padding="max_length"``)."""
    lines = corpus_lines()
    texts = [lines[(start + i) % len(lines)] for i in range(n)]
    if pairs:
        seconds = [lines[(start + i + 7) % len(lines)] for i in range(n)]
        enc = tokenizer(texts, seconds, truncation=True, max_length=max_length, padding=padding,
                        return_special_tokens_mask=True, return_offsets_mapping=offsets)
    else:
        enc = tokenizer(texts, truncation=True, max_length=max_length, padding=padding,
                        return_special_tokens_mask=True, return_offsets_mapping=offsets)
    keys = ["input_ids", "token_type_ids", "attention_mask", "special_tokens_mask"]
    if offsets:
        keys.append("offset_mapping")
    out = []
    for i in range(n):
        ex = {k: enc[k][i] for k in keys}
        if word_ids:
            ex["word_ids"] = enc.word_ids(i)
        out.append(ex)
    return out


def grouped_blocks(tokenizer, block: int, n_blocks: int):
    """BERT-style training blocks: the corpus tokenized, concatenated and cut into
    ``[CLS] ... [SEP]`` blocks of ``block`` tokens (the usual ``group_texts`` recipe)."""
    ids = []
    for line in corpus_lines():
        ids.extend(tokenizer(line, add_special_tokens=False)["input_ids"])
        if len(ids) >= n_blocks * (block - 2):
            break
    body = block - 2
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    n = min(len(ids) // body, n_blocks)
    return [[cls] + ids[k * body:(k + 1) * body] + [sep] for k in range(n)]


def binomial_z(successes: int, trials: int, p: float) -> float:
    """z-score of an observed count against Binomial(trials, p)."""
    return (successes - trials * p) / np.sqrt(trials * p * (1 - p))


def two_sample_z(k1: int, n1: int, k2: int, n2: int) -> float:
    """z-score of the difference of two observed proportions (pooled variance)."""
    p = (k1 + k2) / (n1 + n2)
    se = np.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    return 0.0 if se == 0 else (k1 / n1 - k2 / n2) / se
