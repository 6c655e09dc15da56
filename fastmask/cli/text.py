"""Tokenizers for ``show`` and ``demo``: a ``tokenizer.json``, the demo WordPiece trained on text
that ships with Python, or a small built-in word-piece tokenizer when ``tokenizers`` is missing.
Vocabulary facts (mask, pad and special ids) come from :mod:`fastmask.vocab`."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import re
import sys
import tempfile
from collections import Counter
from typing import Any, List, Optional, Sequence, Tuple

from .. import vocab as _vocab
from .args import UsageError

__all__ = ["TextTokenizer", "SimpleWordPiece", "load_text_tokenizer", "cache_dir",
           "demo_corpus", "SPECIALS"]

SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
_WORD_RE = re.compile(r"\w+|[^\w\s]")


def cache_dir() -> str:
    """Where the demo tokenizer is cached: ``$FASTMASK_CACHE_DIR``, else the platform's user
    cache directory (``~/.cache/fastmask`` on Linux)."""
    env = os.environ.get("FASTMASK_CACHE_DIR")
    if env:
        return env
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~\\AppData\\Local")
        return os.path.join(base, "fastmask", "cache")
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Caches/fastmask")
    return os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                        "fastmask")


def demo_corpus() -> Tuple[List[str], str]:
    """Training text that ships with Python: the pydoc topic pages (or, when a distribution
    leaves them out, the docstrings of a few standard modules)."""
    try:
        from pydoc_data.topics import topics

        return [topics[k] for k in sorted(topics)], "Python's bundled pydoc topics"
    except ImportError:
        docs = []
        for name in ("builtins", "collections", "itertools", "functools", "os", "re", "json",
                     "argparse", "pathlib", "string", "textwrap", "typing", "datetime"):
            try:
                mod = importlib.import_module(name)
            except ImportError:
                continue
            for obj in [mod] + [getattr(mod, a, None) for a in dir(mod)]:
                d = getattr(obj, "__doc__", None)
                if isinstance(d, str):
                    docs.append(d)
        return docs, "docstrings of Python's standard library"


def _write_cache(path: str, write) -> None:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        os.close(fd)
        write(tmp)
        os.replace(tmp, path)
    except OSError:
        pass  # no writable cache: the tokenizer is rebuilt next time


class SimpleWordPiece:
    """A small built-in WordPiece-style tokenizer for when ``tokenizers`` is not installed.

    Lower-cases, splits on whitespace and punctuation, then cuts each word greedily into the
    longest known pieces (``##`` marks a piece that continues a word), as BERT's tokenizer does.
    The vocabulary holds the special tokens, every character, the most frequent words and
    frequent word beginnings and endings of the training text.
    """

    FORMAT = "fastmask-simple-wordpiece/1"

    def __init__(self, vocab: Sequence[str]) -> None:
        self.vocab = list(vocab)
        self.ids = {t: i for i, t in enumerate(self.vocab)}
        self.max_piece = max(len(t) for t in self.vocab)
        self.unk = self.ids["[UNK]"]

    @classmethod
    def train(cls, docs: Sequence[str], size: int = 8000) -> "SimpleWordPiece":
        words = Counter(m.group().lower() for d in docs for m in _WORD_RE.finditer(d))
        chars = sorted({c for w in words for c in w})
        vocab = list(SPECIALS) + chars + ["##" + c for c in chars if c.isalnum()]
        seen = set(vocab)
        budget = max(size - len(vocab), 0)
        # half of the room for whole words, the rest for frequent word beginnings and endings
        whole = [w for w, _ in words.most_common() if len(w) > 1][: budget // 2]
        vocab += [w for w in whole if w not in seen]
        seen.update(whole)
        parts: Counter = Counter()
        for w, c in words.items():
            for k in range(2, min(7, len(w))):
                parts[w[:k]] += c
                parts["##" + w[-k:]] += c
                if k < len(w) - 1:
                    parts["##" + w[k - 1:k + 1]] += c
        room = size - len(vocab)
        vocab += [p for p, _ in parts.most_common() if p not in seen][:max(room, 0)]
        return cls(vocab)

    def _pieces(self, word: str) -> List[Tuple[int, int, int]]:
        if len(word) > 100:
            return [(self.unk, 0, len(word))]
        out = []
        start = 0
        while start < len(word):
            end = min(len(word), start + self.max_piece)
            found = None
            while end > start:
                sub = word[start:end] if start == 0 else "##" + word[start:end]
                tid = self.ids.get(sub)
                if tid is not None:
                    found = tid
                    break
                end -= 1
            if found is None:
                return [(self.unk, 0, len(word))]
            out.append((found, start, end))
            start = end
        return out

    def encode(self, text: str) -> Tuple[List[int], List[Tuple[int, int]]]:
        ids = [self.ids["[CLS]"]]
        offsets = [(0, 0)]
        for m in _WORD_RE.finditer(text):
            word = m.group()
            low = word.lower()
            if len(low) != len(word):  # a few characters change length when lower-cased
                low = word
            for tid, s, e in self._pieces(low):
                ids.append(tid)
                offsets.append((m.start() + s, m.start() + e))
        ids.append(self.ids["[SEP]"])
        offsets.append((0, 0))
        return ids, offsets


class TextTokenizer:
    """What ``show`` and ``demo`` need from a tokenizer, whichever one is behind it."""

    def __init__(self, name: str, tokens: Sequence[Optional[str]], encode,
                 special_ids: Sequence[int], mask_id: int, pad_id: int, convention: str,
                 source: Any) -> None:
        self.name = name
        self.tokens = list(tokens)
        self._encode = encode
        self.special_ids = tuple(sorted(set(special_ids) | {mask_id, pad_id}))
        self.mask_id = mask_id
        self.pad_id = pad_id
        self.convention = convention
        self.source = source
        self._table: Optional[bytes] = None

    @classmethod
    def from_facts(cls, facts: "_vocab.VocabFacts", encode, name: str) -> "TextTokenizer":
        mask_id = facts.require_mask("name one with --mask-token")
        # show draws word boundaries even when the vocabulary hides its convention
        return cls(name, facts.tokens, encode, facts.special_ids, mask_id, facts.padding_id,
                   facts.convention or "wordpiece", facts.source)

    @property
    def vocab_size(self) -> int:
        return len(self.tokens)

    def encode(self, text: str, max_length: Optional[int] = None
               ) -> Tuple[List[int], List[Tuple[int, int]], bool]:
        """ids, character offsets and whether the text was cut at ``max_length``."""
        ids, offsets = self._encode(text)
        cut = False
        if max_length is not None and len(ids) > max_length:
            cut = True
            last = ids[-1] if ids and ids[-1] in self.special_ids else None
            keep = max_length - (1 if last is not None else 0)
            ids = ids[:keep] + ([last] if last is not None else [])
            offsets = offsets[:keep] + ([(0, 0)] if last is not None else [])
        return ids, offsets, cut

    @property
    def word_table(self) -> bytes:
        """The 0/1/2 word table of the vocabulary (fastmask.words)."""
        if self._table is None:
            from .. import words

            self._table = words.word_table(self.source, convention=self.convention,
                                           vocab_size=self.vocab_size)
        return self._table

    def piece(self, tid: int) -> str:
        """A vocabulary piece as text, without its subword marker."""
        t = self.tokens[tid] if 0 <= tid < len(self.tokens) else None
        if t is None:
            return f"<{tid}>"
        for marker in ("##", "\u2581", "\u0120"):
            if t.startswith(marker) and len(t) > len(marker):
                return t[len(marker):]
        return t


def _from_tokenizers(tok, name: str, mask_token: Optional[str]) -> TextTokenizer:
    try:
        facts = _vocab.read_vocab(tok, mask_token=mask_token)
    except _vocab.VocabError as e:
        raise UsageError(str(e).replace("mask token ", "--mask-token ", 1)) from None

    def encode(text: str):
        e = tok.encode(text)
        return list(e.ids), [tuple(o) for o in e.offsets]

    try:
        return TextTokenizer.from_facts(facts, encode, name)
    except _vocab.VocabError as e:
        raise UsageError(str(e)) from None


def _train_demo_tokenizers(docs: List[str]):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=8000, special_tokens=list(SPECIALS),
                                        show_progress=False)
    tok.train_from_iterator(docs, trainer)
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)])
    return tok


def load_text_tokenizer(path: Optional[str] = None, *, mask_token: Optional[str] = None,
                        builtin: bool = False, notes: Optional[List[str]] = None
                        ) -> TextTokenizer:
    """A tokenizer for ``show``/``demo``: a ``tokenizer.json`` file, or the demo WordPiece
    trained on text that ships with Python (cached), or, without the ``tokenizers`` package or
    with ``builtin=True``, fastmask's small built-in word-piece tokenizer."""
    notes = notes if notes is not None else []
    have_tokenizers = importlib.util.find_spec("tokenizers") is not None
    if path is not None:
        if not have_tokenizers:
            raise UsageError("reading a tokenizer.json needs the 'tokenizers' package: "
                             "pip install tokenizers")
        try:
            tok = _vocab.load_tokenizer_file(path)
        except _vocab.VocabError as e:
            raise UsageError(str(e)) from None
        name = os.path.basename(path if not os.path.isdir(path)
                                else os.path.join(path, "tokenizer.json"))
        return _from_tokenizers(tok, name, mask_token)

    docs, corpus_name = demo_corpus()
    digest = hashlib.sha1("\x00".join(docs).encode("utf-8", "replace")).hexdigest()[:12]
    if have_tokenizers and not builtin:
        from tokenizers import Tokenizer

        cache = os.path.join(cache_dir(), f"demo-wordpiece-v1-{digest}.json")
        tok = None
        if os.path.isfile(cache):
            try:
                tok = Tokenizer.from_file(cache)
            except Exception:
                tok = None
        if tok is None:
            tok = _train_demo_tokenizers(docs)
            _write_cache(cache, tok.save)
        name = f"demo WordPiece ({tok.get_vocab_size()} pieces, trained on {corpus_name})"
        return _from_tokenizers(tok, name, mask_token)

    if not builtin:
        notes.append("the 'tokenizers' package is not installed, so fastmask uses its small "
                     "built-in word-piece tokenizer; pip install tokenizers for a real "
                     "WordPiece (and to read tokenizer.json files)")
    cache = os.path.join(cache_dir(), f"demo-simple-wordpiece-v1-{digest}.json")
    wp = None
    if os.path.isfile(cache):
        try:
            with open(cache, encoding="utf-8") as f:
                doc = json.load(f)
            if doc.get("format") == SimpleWordPiece.FORMAT:
                wp = SimpleWordPiece(doc["vocab"])
        except (OSError, ValueError, KeyError, TypeError):
            wp = None
    if wp is None:
        wp = SimpleWordPiece.train(docs)

        def write(tmp: str) -> None:
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump({"format": SimpleWordPiece.FORMAT, "vocab": wp.vocab}, f)

        _write_cache(cache, write)
    if mask_token is not None and mask_token not in wp.ids:
        raise UsageError(f"--mask-token {mask_token!r} is not in the built-in vocabulary")
    mask_id = wp.ids[mask_token or "[MASK]"]
    name = f"built-in word-piece tokenizer ({len(wp.vocab)} pieces, trained on {corpus_name})"
    return TextTokenizer(name, list(wp.vocab), wp.encode, [wp.ids[t] for t in SPECIALS],
                         mask_id, wp.ids["[PAD]"], "wordpiece", list(wp.vocab))
