"""The ``fastmask`` command line: ``demo``, ``bench``, ``show`` (and ``prep`` when present).

Exit codes: 0 on success, 2 for a usage problem (a bad option, a file that cannot be read),
1 when something fails while running, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import importlib.util
import json
import os
import re
import sys
import tempfile
import time
from collections import Counter
from typing import Any, Dict, List, Optional, Sequence, Tuple

__all__ = ["main", "build_parser", "load_text_tokenizer", "TextTokenizer", "SimpleWordPiece"]

PROG = "fastmask"


class UsageError(Exception):
    """A problem with what the user asked for; reported as ``fastmask CMD: error: ...``."""


# =================================================================================================
# Option parsing helpers
# =================================================================================================


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v}")
    return v


def _nonneg_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {v}")
    return v


def _min_int(minimum: int):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if v < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {v}")
        return v
    return parse


def _probability(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}") from None
    if not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {v}")
    return v


def _seconds(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not v >= 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return v


def _int_list(minimum: int):
    def parse(text: str) -> Tuple[int, ...]:
        out = []
        for part in text.split(","):
            part = part.strip()
            if not part:
                continue
            try:
                v = int(part)
            except ValueError:
                raise argparse.ArgumentTypeError(
                    f"expected comma-separated integers, got {text!r}") from None
            if v < minimum:
                raise argparse.ArgumentTypeError(f"values must be >= {minimum}, got {v}")
            out.append(v)
        if not out:
            raise argparse.ArgumentTypeError("expected at least one value")
        return tuple(dict.fromkeys(out))
    return parse


def _choice_list(choices: Sequence[str]):
    def parse(text: str) -> Tuple[str, ...]:
        out = [p.strip() for p in text.split(",") if p.strip()]
        bad = [p for p in out if p not in choices]
        if bad:
            raise argparse.ArgumentTypeError(
                f"unknown value {bad[0]!r}; choose from {', '.join(choices)}")
        if not out:
            raise argparse.ArgumentTypeError("expected at least one value")
        return tuple(dict.fromkeys(out))
    return parse


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30)


def _wrap(text: str) -> str:
    """A paragraph wrapped for ``--help`` (the formatter keeps line breaks as written)."""
    import textwrap

    return textwrap.fill(" ".join(text.split()), 79)


# =================================================================================================
# Colours
# =================================================================================================


class Style:
    """ANSI styling for the masked-text view (all no-ops when colours are off)."""

    RESET = "\x1b[0m"
    CODES = {
        "mask": "\x1b[1;97;41m",  # bold white on red
        "random": "\x1b[30;43m",  # black on yellow
        "kept": "\x1b[4;32m",  # underlined green
        "special": "\x1b[2;36m",  # dim cyan
        "dim": "\x1b[2m",
        "bold": "\x1b[1m",
    }

    def __init__(self, color: bool, stream: Any = None) -> None:
        self.color = color
        self.joiner = "·" if _can_encode(stream or sys.stdout, "·") else "+"

    def __call__(self, kind: str, text: str) -> str:
        if not self.color:
            return text
        return f"{self.CODES[kind]}{text}{self.RESET}"


def _can_encode(stream: Any, text: str) -> bool:
    enc = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(enc)
        return True
    except (UnicodeEncodeError, LookupError):
        return False


def _use_color(choice: str, stream: Any) -> bool:
    if choice == "always":
        return True
    if choice == "never":
        return False
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return bool(getattr(stream, "isatty", lambda: False)()) and os.environ.get("TERM") != "dumb"


def _add_color_options(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="colour the output: auto (on a terminal, unless NO_COLOR is set), "
                        "always or never (default: auto)")
    g.add_argument("--no-color", dest="color", action="store_const", const="never",
                   help="same as --color never")


# =================================================================================================
# Tokenizers for `show` and `demo`
# =================================================================================================

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

    def __init__(self, name: str, tokens: List[Optional[str]], encode, special_ids: Sequence[int],
                 mask_id: int, pad_id: int, convention: str, source: Any) -> None:
        self.name = name
        self.tokens = tokens
        self._encode = encode
        self.special_ids = tuple(sorted(set(special_ids) | {mask_id, pad_id}))
        self.mask_id = mask_id
        self.pad_id = pad_id
        self.convention = convention
        self.source = source
        self._table: Optional[bytes] = None

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
            from . import words

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
    vocab = tok.get_vocab(with_added_tokens=True)
    size = max(tok.get_vocab_size(with_added_tokens=True), max(vocab.values()) + 1)
    tokens: List[Optional[str]] = [None] * size
    for t, i in vocab.items():
        tokens[i] = t
    if mask_token is not None:
        if mask_token not in vocab:
            raise UsageError(f"--mask-token {mask_token!r} is not in the tokenizer's vocabulary")
        mask_id = vocab[mask_token]
    else:
        mask_id = next((vocab[t] for t in ("[MASK]", "<mask>", "<MASK>", "[mask]")
                        if t in vocab), None)
        if mask_id is None:
            raise UsageError("the tokenizer has no [MASK] or <mask> token; name one with "
                             "--mask-token")
    pad_id = next((vocab[t] for t in ("[PAD]", "<pad>", "<PAD>") if t in vocab), mask_id)
    specials = [i for i, t in tok.get_added_tokens_decoder().items() if t.special]
    from . import words

    try:
        convention = words.detect_convention(tok)
    except Exception:
        convention = "wordpiece"

    def encode(text: str):
        e = tok.encode(text)
        return list(e.ids), [tuple(o) for o in e.offsets]

    return TextTokenizer(name, tokens, encode, specials, mask_id, pad_id, convention, tok)


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
        if not os.path.exists(path):
            raise UsageError(f"tokenizer file {path!r} does not exist")
        if os.path.isdir(path):
            cand = os.path.join(path, "tokenizer.json")
            if not os.path.isfile(cand):
                raise UsageError(f"{path!r} is a directory without a tokenizer.json")
            path = cand
        from tokenizers import Tokenizer

        try:
            tok = Tokenizer.from_file(path)
        except Exception as e:
            msg = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise UsageError(f"cannot load tokenizer file {path!r}: {msg}") from None
        return _from_tokenizers(tok, os.path.basename(path), mask_token)

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


# =================================================================================================
# Masked-text view
# =================================================================================================


def legend(style: Style) -> str:
    if style.color:
        return (f"legend: {style('mask', '[MASK]')} masked   "
                f"{style('random', 'word')}{style('dim', '(orig)')} random replacement   "
                f"{style('kept', 'word')} kept but predicted   "
                f"'{style('dim', style.joiner)}' joins the pieces of a word")
    return ("legend: [MASK] masked   {new/orig} random replacement   _word_ kept but predicted"
            f"   '{style.joiner}' joins the pieces of a word")


def _word_flags(ids: Sequence[int], table: bytes, special: Sequence[bool]) -> List[bool]:
    """Where a word starts (the rule of docs/semantics.md, section 6, with a word table)."""
    out = []
    for j, t in enumerate(ids):
        if j == 0 or special[j] or special[j - 1]:
            out.append(True)
        else:
            out.append(table[t] >= 1 or table[ids[j - 1]] == 2)
    return out


def render(text: str, tok: TextTokenizer, ids: Sequence[int], offsets: Sequence[Tuple[int, int]],
           masked: Sequence[int], labels: Sequence[int], style: Style,
           ignore_index: int = -100) -> Tuple[str, Dict[str, Any]]:
    """One masked sequence as a line of text, and what happened to each token."""
    special = [t in tok.special_ids for t in ids]
    try:
        table = tok.word_table
    except Exception:
        table = bytes([1]) * tok.vocab_size
    starts = _word_flags(ids, table, special)
    parts: List[str] = []
    kinds: List[str] = []
    surface: List[str] = []
    for j, tid in enumerate(ids):
        s, e = offsets[j]
        word = text[s:e] if e > s and not special[j] else tok.piece(tid)
        surface.append(word)
        if labels[j] == ignore_index:
            kind = "special" if special[j] else "plain"
        elif masked[j] == tok.mask_id:
            kind = "mask"
        elif masked[j] == tid:
            kind = "kept"
        else:
            kind = "random"
        kinds.append(kind)
        if kind == "mask":
            cell = style("mask", "[MASK]")
        elif kind == "random":
            new = tok.piece(masked[j])
            cell = (style("random", new) + style("dim", f"({word})") if style.color
                    else f"{{{new}/{word}}}")
        elif kind == "kept":
            cell = style("kept", word) if style.color else f"_{word}_"
        elif kind == "special":
            cell = style("special", word)
        else:
            cell = word
        if j > 0:
            parts.append(" " if starts[j] else style("dim", style.joiner))
        parts.append(cell)
    info = {"tokens": surface, "kinds": kinds, "word_starts": [int(b) for b in starts]}
    return "".join(parts), info


def _summary(kinds: Sequence[str]) -> str:
    c = Counter(kinds)
    real = len(kinds) - c["special"]
    picked = c["mask"] + c["random"] + c["kept"]
    pct = f" ({100.0 * picked / real:.0f} %)" if real else ""
    return (f"picked {picked} of {real} tokens{pct}: {c['mask']} [MASK], {c['random']} random, "
            f"{c['kept']} kept")


def _masker_from_args(args: argparse.Namespace, tok: TextTokenizer):
    import fastmask

    cls = fastmask.Masker
    if getattr(args, "impl", "c") == "reference":
        from . import reference

        cls = reference.Masker
    opts: Dict[str, Any] = dict(
        pad_token_id=tok.pad_id, special_ids=tok.special_ids,
        mlm_probability=args.mlm_probability, mask_replace_prob=args.mask_replace_prob,
        random_replace_prob=args.random_replace_prob, selection=args.selection,
        max_predictions=args.max_predictions, seed=args.seed, action=args.action)
    if args.selection == "span":
        opts["span_lengths"] = args.span_lengths
    if args.whole_word:
        try:
            table = tok.word_table
        except (ValueError, TypeError) as e:
            raise UsageError(f"whole-word masking needs a word table, and this tokenizer's "
                             f"vocabulary does not give one: {e}") from None
        opts.update(whole_word=True, word_table=table)
    try:
        return cls(tok.vocab_size, tok.mask_id, **opts)
    except (ValueError, TypeError) as e:
        raise UsageError(str(e)) from None


def mask_texts(texts: Sequence[str], tok: TextTokenizer, args: argparse.Namespace,
               style: Style, max_length: Optional[int] = None
               ) -> Tuple[List[str], List[Dict[str, Any]], List[str]]:
    """Tokenizes and masks ``texts`` as one batch; returns lines, per-text records, warnings."""
    masker = _masker_from_args(args, tok)
    enc = []
    warn = []
    for k, t in enumerate(texts):
        ids, offsets, cut = tok.encode(t, max_length)
        if cut:
            warn.append(f"text {k + 1} was cut to {max_length} tokens (--max-length)")
        enc.append((ids, offsets))
    try:
        out = masker([e[0] for e in enc], epoch=args.epoch)
    except (ValueError, TypeError) as e:
        raise UsageError(str(e)) from None
    lines, records = [], []
    for k, (t, (ids, offsets)) in enumerate(zip(texts, enc)):
        n = len(ids)
        row_ids = out["input_ids"][k][:n].tolist()
        row_labels = out["labels"][k][:n].tolist()
        line, info = render(t, tok, ids, offsets, row_ids, row_labels, style)
        lines.append(line)
        info.update(text=t, input_ids=list(ids), masked_ids=row_ids, labels=row_labels,
                    summary=_summary(info["kinds"]))
        records.append(info)
    return lines, records, warn


def _read_text(args: argparse.Namespace) -> str:
    if args.text and args.file:
        raise UsageError("give the text as arguments or with --file, not both")
    if args.text:
        return " ".join(args.text)
    if args.file:
        if args.file == "-":
            return sys.stdin.read()
        try:
            with open(args.file, encoding="utf-8") as f:
                return f.read()
        except FileNotFoundError:
            raise UsageError(f"cannot read {args.file!r}: no such file") from None
        except IsADirectoryError:
            raise UsageError(f"cannot read {args.file!r}: it is a directory") from None
        except PermissionError:
            raise UsageError(f"cannot read {args.file!r}: permission denied") from None
        except UnicodeDecodeError as e:
            raise UsageError(f"cannot read {args.file!r}: not UTF-8 text ({e.reason} at byte "
                             f"{e.start})") from None
        except OSError as e:
            raise UsageError(f"cannot read {args.file!r}: {e.strerror or e}") from None
    if not sys.stdin.isatty():
        return sys.stdin.read()
    raise UsageError("no text: pass it as an argument, with --file PATH, or on stdin")


def _add_masking_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("masking")
    g.add_argument("--whole-word", "-w", action="store_true",
                   help="mask whole words (word boundaries from the vocabulary's word table)")
    g.add_argument("--mlm-probability", "-p", type=_probability, default=0.15, metavar="P",
                   help="share of tokens to predict (default: 0.15)")
    g.add_argument("--mask-replace-prob", type=_probability, default=0.8, metavar="P",
                   help="share of picked tokens replaced by [MASK] (default: 0.8)")
    g.add_argument("--random-replace-prob", type=_probability, default=0.1, metavar="P",
                   help="share of picked tokens replaced by a random token (default: 0.1)")
    g.add_argument("--selection", choices=("bernoulli", "exact", "span"), default="bernoulli",
                   help="bernoulli (each token/word on its own, as Hugging Face), exact "
                        "(BERT's fixed budget) or span (default: bernoulli)")
    g.add_argument("--span-lengths", choices=("spanbert", "albert"), default="spanbert",
                   help="span-length law for --selection span (default: spanbert)")
    g.add_argument("--max-predictions", type=_nonneg_int, default=None, metavar="N",
                   help="at most N picked tokens per sequence")
    g.add_argument("--action", choices=("token", "unit"), default="token",
                   help="decide 80/10/10 per token or per word (default: token)")
    g.add_argument("--seed", type=_nonneg_int, default=0, help="random seed (default: 0)")
    g.add_argument("--epoch", type=_nonneg_int, default=0, help="epoch number (default: 0)")


# =================================================================================================
# Commands
# =================================================================================================


def cmd_show(args: argparse.Namespace) -> int:
    text = _read_text(args)
    texts = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not texts:
        raise UsageError("the text is empty")
    notes: List[str] = []
    tok = load_text_tokenizer(args.tokenizer, mask_token=args.mask_token,
                              builtin=args.builtin_tokenizer, notes=notes)
    style = Style(_use_color(args.color, sys.stdout))
    lines, records, warn = mask_texts(texts, tok, args, style, args.max_length)
    for n in notes + warn:
        print(f"{PROG} show: note: {n}", file=sys.stderr)
    if args.json:
        for r in records:
            r.pop("summary", None)
        json.dump({"tokenizer": tok.name, "mask_token_id": tok.mask_id,
                   "special_ids": list(tok.special_ids), "sequences": records},
                  sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return 0
    mode = "whole-word" if args.whole_word else "token"
    print(style("dim", f"tokenizer: {tok.name}"))
    print(style("dim", f"masking: {mode}, {args.selection}, p={args.mlm_probability}, "
                       f"{args.mask_replace_prob:g}/{args.random_replace_prob:g}/"
                       f"{1 - args.mask_replace_prob - args.random_replace_prob:.2g} "
                       f"mask/random/keep, seed {args.seed}, epoch {args.epoch}"))
    print(legend(style))
    for k, (line, r) in enumerate(zip(lines, records)):
        print()
        print(line)
        print(style("dim", f"  {r['summary']}"))
    return 0


DEMO_SENTENCES = (
    "Masked language models learn by guessing the words hidden behind a mask token.",
    "The quick brown fox jumps over the lazy dog, then naps under an apple tree.",
    "Tokenizers split uncommon words like photosynthesis or unbelievably into smaller pieces.",
    "Python ships with its own documentation, which makes a handy little training corpus.",
)


def _section(title: str, style: Style) -> str:
    return style("bold", title)


def cmd_demo(args: argparse.Namespace) -> int:
    from . import benchmarking as bm

    t_start = time.perf_counter()
    style = Style(_use_color(args.color, sys.stdout))
    info = bm.machine_info()
    print(style("bold", f"fastmask {info['fastmask']}") +
          " — fast, reproducible batches for masked-language-model pretraining")
    print(style("dim", f"machine: {bm.machine_line(info)}"))
    print()

    notes: List[str] = []
    tok = load_text_tokenizer(None, builtin=args.builtin_tokenizer, notes=notes)
    for n in notes:
        print(style("dim", f"note: {n}"))
    print(_section("1. What masking does to text", style))
    print(style("dim", f"   tokenizer: {tok.name}"))
    print("   " + legend(style))
    base = dict(mlm_probability=0.15, mask_replace_prob=0.8, random_replace_prob=0.1,
                selection="bernoulli", max_predictions=None, action="token", epoch=0,
                span_lengths="spanbert", seed=args.seed, impl="c")
    for title, extra in (("token masking (15 %, 80/10/10)", {}),
                         ("whole-word masking (15 %, 80/10/10)", {"whole_word": True}),
                         ("SpanBERT span masking (15 % of each sequence in spans of words)",
                          {"whole_word": True, "selection": "span"})):
        opts = dict(base, whole_word=False)
        opts.update(extra)
        ns = argparse.Namespace(**opts)
        lines, records, _ = mask_texts(DEMO_SENTENCES, tok, ns, style)
        print()
        print(f"   {title}")
        for line in lines:
            print(f"     {line}")
        total = Counter(k for r in records for k in r["kinds"])
        print(style("dim", "     " + _summary(list(total.elements()))))

    if args.no_bench:
        return 0
    print()
    print(_section("2. Speed on this machine", style))
    if args.quick:
        settings = bm.Settings(batch_sizes=(32,), max_lengths=(128,),
                               maskings=("tokens",), inputs=("list",),
                               peers=("fastmask", "numpy", "reference", "pad-floor",
                                      "copy-floor"),
                               timing=bm.Timing(repeat=3, warmup=1, min_time=0.0, max_time=0.3),
                               fresh="none", seed=args.seed, command="fastmask demo --quick")
    else:
        settings = bm.Settings(batch_sizes=(256,), max_lengths=(512,),
                               maskings=("tokens", "words"), inputs=("list",),
                               timing=bm.Timing(repeat=args.repeat, warmup=2, min_time=0.2,
                                                max_time=1.0),
                               fresh="none", seed=args.seed, command="fastmask demo")
    doc = bm.run(settings, progress=not args.no_progress)
    for sc in doc["scenarios"]:
        print()
        for line in bm.headline_table(doc, sc["id"]):
            print("   " + line)
    share = doc["machine"].get("other_cpu_share")
    if share is not None and share > 0.05:
        print(f"   warning: other processes used {100 * share:.0f} % of the CPU time during the "
              "benchmark, so the times may be inflated")
    for p in doc["peers"]:
        if not p["available"]:
            print(style("dim", f"   skipped {p['label']}: {p['note']}"))
    failed = [s for s in doc["skipped"] if s["reason"].startswith("failed")]
    for s in failed:
        print(style("dim", f"   {s['peer']} {s['reason']}"))
    print()
    print(style("dim", "   " + bm.timing_line(doc["settings"]) + "."))
    print(style("dim", "   time / fastmask divides each time by fastmask's, both measured in "
                       "this run."))
    print()
    print(f"Next: `{PROG} show \"your own text\"` masks your text, `{PROG} bench` runs the full "
          "report (all scenarios, fresh-process timings, scaling, JSON and a chart).")
    print(style("dim", f"(demo took {time.perf_counter() - t_start:.1f} s)"))
    return 0


def _settings_from_args(args: argparse.Namespace):
    from . import benchmarking as bm

    if args.quick:
        timing = bm.Timing(repeat=5, warmup=1, min_time=0.0, max_time=0.5)
        sizes = (32, 256)
        lengths = (128, 512)
        inputs = ("list",)
        fresh_runs = 1
    else:
        timing = bm.Timing()
        sizes, lengths, inputs = bm.BATCH_SIZES, bm.MAX_LENGTHS, bm.DEFAULT_INPUTS
        fresh_runs = 3
    if args.repeat is not None:
        timing.repeat = args.repeat
    if args.warmup is not None:
        timing.warmup = args.warmup
    if args.min_time is not None:
        timing.min_time = args.min_time
    if args.max_time is not None:
        timing.max_time = args.max_time
    peers = args.peers or tuple(bm.PEERS)
    if args.skip_peers:
        peers = tuple(p for p in peers if p not in args.skip_peers)
    if args.threads is None:
        threads = bm.default_threads()
    elif args.threads == "none":
        threads = ()
    else:
        threads = tuple(sorted(set((1,) + args.threads)))
    return bm.Settings(
        batch_sizes=args.batch_sizes or sizes, max_lengths=args.max_lengths or lengths,
        maskings=args.masking or bm.MASKINGS, inputs=args.inputs or inputs, peers=peers,
        timing=timing, fresh=args.fresh,
        fresh_runs=args.fresh_runs if args.fresh_runs is not None else fresh_runs,
        threads=threads, seed=args.seed, dtype=args.dtype,
        reference_max_tokens=args.reference_max_tokens,
        hf_wwm_max_cells=args.hf_wwm_max_cells,
        command=" ".join([PROG] + list(args._argv)))


def _threads_arg(text: str):
    if text.strip().lower() == "none":
        return "none"
    return _int_list(1)(text)


def cmd_bench(args: argparse.Namespace) -> int:
    from . import benchmarking as bm

    if args.from_json:
        try:
            doc = bm.load_json(args.from_json)
        except bm.BenchError as e:
            raise UsageError(str(e)) from None
        print(bm.format_report(doc))
        if args.chart and not args.no_chart and args._chart_given:
            _write_chart(bm, doc, args.chart)
        return 0
    for name in ("tokens", "tokenizer"):
        path = getattr(args, name)
        if path is not None and not os.path.exists(path):
            raise UsageError(f"--{name}: {path!r} does not exist")
    if args.tokenizer and not args.tokens:
        raise UsageError("--tokenizer describes a --tokens file; pass --tokens too")
    settings = _settings_from_args(args)
    try:
        if args.tokens:
            source = bm.DataSource.from_file(args.tokens, tokenizer=args.tokenizer,
                                             vocab_size=args.vocab_size, mask_id=args.mask_id,
                                             pad_id=args.pad_id, special_ids=args.special_ids)
        else:
            source = bm.DataSource.synthetic(args.seed)
    except bm.BenchError as e:
        raise UsageError(str(e)) from None
    if not args.no_json and args.json:
        _check_writable(args.json, "--json")
    if not args.no_chart and args.chart:
        _check_writable(args.chart, "--chart")

    def log(msg: str) -> None:
        print(f"{PROG} bench: warning: {msg}", file=sys.stderr)

    doc = bm.run(settings, source, progress=not args.no_progress, log=log)
    print(bm.format_report(doc))
    print()
    if not args.no_json and args.json:
        bm.save_json(doc, args.json)
        print(f"results: {args.json}")
    if not args.no_chart and args.chart:
        _write_chart(bm, doc, args.chart)
    return 0


def _write_chart(bm, doc, path: str) -> None:
    try:
        bm.plot_chart(doc, path)
    except bm.BenchError as e:
        print(f"chart skipped: {e}")
    else:
        print(f"chart: {path}")


def _check_writable(path: str, option: str) -> None:
    d = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError(f"{option}: {path!r} is a directory")
    if not os.path.isdir(d):
        raise UsageError(f"{option}: directory {d!r} does not exist")
    if not os.access(d, os.W_OK):
        raise UsageError(f"{option}: cannot write to {d!r}")


# =================================================================================================
# Parser
# =================================================================================================


DEMO_DESCRIPTION = """Masks a few sentences with a demo tokenizer trained on text that ships with
Python, then times fastmask against the installed peers on one batch of 256 sequences of up to
512 tokens. Needs no data; about 10-30 s."""

BENCH_DESCRIPTION = """Times fastmask against every installed peer - Hugging Face's
DataCollatorForLanguageModeling (plain and whole-word), the pure-Python reference, a
NumPy-vectorized implementation and two memory floors - on synthetic data with a realistic
length distribution, or on your token file. Prints a table (medians, Mtokens/s, ratios measured
in the same run, the machine), scaling with tokens and threads, and writes JSON and a PNG
chart."""

SHOW_DESCRIPTION = """Tokenizes text (arguments, --file, or stdin; one sequence per line),
masks it and prints it with [MASK], random replacements and kept-but-predicted tokens coloured
and word boundaries visible."""


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog=PROG, formatter_class=_Formatter,
        description=_wrap("fastmask: fast, reproducible masked-language-model batches "
                          "(80/10/10, whole-word and span masking, padding)."),
        epilog=f"Start with `{PROG} demo`. `{PROG} COMMAND --help` describes a command.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    # -- demo -----------------------------------------------------------------------------
    p = sub.add_parser(
        "demo", formatter_class=_Formatter, help="masked sample sentences and a short benchmark",
        description=_wrap(DEMO_DESCRIPTION))
    p.add_argument("--quick", action="store_true",
                   help="a tiny benchmark (32 x 128 tokens, no Hugging Face) in a few seconds")
    p.add_argument("--no-bench", action="store_true", help="only show the masked sentences")
    p.add_argument("--repeat", type=_positive_int, default=10, metavar="N",
                   help="timed calls per implementation (default: 10)")
    p.add_argument("--seed", type=_nonneg_int, default=0, help="random seed (default: 0)")
    p.add_argument("--builtin-tokenizer", action="store_true",
                   help="use the small built-in tokenizer even when 'tokenizers' is installed")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_color_options(p)
    p.set_defaults(func=cmd_demo)

    # -- bench ----------------------------------------------------------------------------
    from . import benchmarking as bm

    p = sub.add_parser(
        "bench", formatter_class=_Formatter,
        help="benchmark fastmask against the installed peers (table, JSON, chart)",
        description=_wrap(BENCH_DESCRIPTION),
        epilog="peers: " + ", ".join(f"{k} ({v.label})" for k, v in bm.PEERS.items()) +
               "\n\nexamples:\n  fastmask bench --quick\n"
               "  fastmask bench --batch-sizes 256 --max-lengths 512 --masking tokens\n"
               "  fastmask bench --tokens my_ids.jsonl --tokenizer tokenizer.json\n"
               "  fastmask bench --from-json fastmask-bench.json --chart bench.png")
    g = p.add_argument_group("what to run")
    g.add_argument("--quick", action="store_true",
                   help="a small run: batches 32,256 x lengths 128,512, list inputs, 5 calls")
    g.add_argument("--batch-sizes", type=_int_list(1), metavar="LIST",
                   help="comma-separated batch sizes (default: 32,256,1024)")
    g.add_argument("--max-lengths", type=_int_list(2), metavar="LIST",
                   help="comma-separated maximum lengths (default: 128,512,2048)")
    g.add_argument("--masking", type=_choice_list(bm.MASKINGS), metavar="LIST",
                   help="tokens, words or both (default: tokens,words)")
    g.add_argument("--inputs", type=_choice_list(bm.INPUT_FORMS), metavar="LIST",
                   help="input forms: list (Python lists), arrays (list of 1-D arrays), ndarray "
                        "(padded 2-D array + lengths), ragged (values + offsets) "
                        "(default: list,ndarray,ragged)")
    g.add_argument("--peers", type=_choice_list(tuple(bm.PEERS)), metavar="LIST",
                   help="implementations to run (default: all installed; fastmask always runs)")
    g.add_argument("--skip-peers", type=_choice_list(tuple(bm.PEERS)), metavar="LIST",
                   help="implementations to leave out")
    g.add_argument("--threads", type=_threads_arg, metavar="LIST",
                   help="thread counts for the scaling table, or 'none' (default: 1, 2, 4, ... "
                        "up to the usable CPUs)")
    g.add_argument("--dtype", choices=("int64", "int32"), default="int64",
                   help="output dtype (default: int64)")
    g.add_argument("--seed", type=_nonneg_int, default=0, help="seed of data and masks")
    g = p.add_argument_group("timing")
    g.add_argument("--repeat", type=_positive_int, metavar="N",
                   help="timed calls per measurement (default: 20; --quick: 5)")
    g.add_argument("--warmup", type=_nonneg_int, metavar="N",
                   help="untimed calls first (default: 2; --quick: 1)")
    g.add_argument("--min-time", type=_seconds, metavar="S",
                   help="keep timing small cases for at least S seconds (default: 0.2)")
    g.add_argument("--max-time", type=_seconds, metavar="S",
                   help="stop a measurement after S seconds, once 3 calls are done (default: 2)")
    g.add_argument("--fresh", choices=("headline", "all", "none"), default="headline",
                   help="also time the first calls in fresh processes: for the headline "
                        "scenario (256 x 512, token masking, lists), all, or none "
                        "(default: headline)")
    g.add_argument("--fresh-runs", type=_positive_int, metavar="N",
                   help="fresh processes per measurement (default: 3; --quick: 1)")
    g.add_argument("--reference-max-tokens", type=_positive_int, default=100_000, metavar="N",
                   help="run the pure-Python reference only on batches of up to about N tokens "
                        "(default: 100000)")
    g.add_argument("--hf-wwm-max-cells", type=_positive_int, default=1 << 28, metavar="N",
                   help="run HF whole-word masking only when B x L x L <= N; it builds such an "
                        "array (default: 268435456)")
    g = p.add_argument_group("your own data")
    g.add_argument("--tokens", metavar="FILE",
                   help="token ids to benchmark on: .txt (one sequence of ids per line), "
                        ".jsonl, .json or .npz (values + offsets)")
    g.add_argument("--tokenizer", metavar="FILE",
                   help="tokenizer.json of the --tokens file (vocabulary, special and mask ids, "
                        "word table for whole-word masking)")
    g.add_argument("--vocab-size", type=_positive_int, metavar="N",
                   help="vocabulary size of the --tokens file (default: from --tokenizer, "
                        "else the largest id + 1)")
    g.add_argument("--mask-id", type=_nonneg_int, metavar="ID", help="id of [MASK]")
    g.add_argument("--pad-id", type=_nonneg_int, metavar="ID", help="id of [PAD] (default: 0)")
    g.add_argument("--special-ids", type=_int_list(0), metavar="LIST",
                   help="comma-separated ids never to mask")
    g = p.add_argument_group("output")
    g.add_argument("--json", default="fastmask-bench.json", metavar="FILE",
                   help="where to write the results (default: fastmask-bench.json)")
    g.add_argument("--no-json", action="store_true", help="do not write JSON")
    g.add_argument("--chart", default="fastmask-bench.png", metavar="FILE",
                   help="where to write the PNG chart, if matplotlib is installed "
                        "(default: fastmask-bench.png)")
    g.add_argument("--no-chart", action="store_true", help="do not draw the chart")
    g.add_argument("--from-json", metavar="FILE",
                   help="print the report of saved results instead of running (with --chart, "
                        "draw their chart)")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_bench)

    # -- show -----------------------------------------------------------------------------
    p = sub.add_parser(
        "show", formatter_class=_Formatter, help="mask your text and show the result in colour",
        description=_wrap(SHOW_DESCRIPTION),
        epilog="examples:\n  fastmask show \"The quick brown fox jumps over the lazy dog.\"\n"
               "  fastmask show --whole-word --file notes.txt\n"
               "  echo 'some text' | fastmask show --tokenizer tokenizer.json --no-color")
    p.add_argument("text", nargs="*", help="the text (default: --file, else stdin)")
    p.add_argument("--file", "-f", metavar="PATH", help="read the text from PATH ('-' = stdin)")
    p.add_argument("--tokenizer", "-t", metavar="FILE",
                   help="a tokenizer.json (or a directory holding one); default: the demo "
                        "WordPiece trained on text that ships with Python")
    p.add_argument("--mask-token", metavar="TOKEN",
                   help="the mask token, if not [MASK] or <mask>")
    p.add_argument("--builtin-tokenizer", action="store_true",
                   help="use fastmask's small built-in tokenizer instead of 'tokenizers'")
    p.add_argument("--max-length", type=_min_int(2), metavar="N", default=None,
                   help="cut each line to N tokens (special tokens included)")
    p.add_argument("--impl", choices=("c", "reference"), default="c",
                   help="C core or the pure-Python reference (same output; default: c)")
    p.add_argument("--json", action="store_true",
                   help="print tokens, ids, labels and what happened to each token as JSON")
    _add_color_options(p)
    _add_masking_options(p)
    p.set_defaults(func=cmd_show)

    _add_prep(sub)
    return parser


def _add_prep(sub) -> None:
    """Registers ``fastmask prep`` when the corpus-preparation module is present."""
    try:
        found = importlib.util.find_spec("fastmask.prep") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        return
    try:
        prep = importlib.import_module("fastmask.prep")
    except Exception as e:
        err = f"{type(e).__name__}: {e}"
        p = sub.add_parser("prep", help="prepare a corpus (unavailable: see --help)",
                           description=f"fastmask.prep failed to import: {err}")

        def broken(args):
            raise UsageError(f"fastmask.prep failed to import: {err}")

        p.set_defaults(func=broken)
        return
    add = getattr(prep, "add_parser", None)
    if add is None:
        return
    p = add(sub)
    if p is None:
        p = sub.choices.get("prep")
    if p is not None and p.get_default("func") is None and hasattr(prep, "run"):
        p.set_defaults(func=prep.run)


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    args._argv = argv
    args._chart_given = any(a == "--chart" or a.startswith("--chart=") for a in argv)
    try:
        rc = args.func(args)
    except UsageError as e:
        print(f"{PROG} {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    return 0 if rc is None else int(rc)
