"""Token streams to benchmark on: a synthetic corpus with BERT's vocabulary layout and a
realistic length distribution, or a user's token file."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any, List, Tuple

import numpy as np

from .common import BenchError


def synthetic_lengths(rng: np.random.Generator, batch_size: int, max_length: int) -> np.ndarray:
    """Sequence lengths as a corpus of documents tokenized with truncation produces them.

    35 % of the sequences are long documents cut at ``max_length``; the others follow a
    log-normal law with median 0.45 x ``max_length`` and sigma 0.7, clipped to
    ``[min(8, max_length), max_length]`` (its tail reaches the cap too: about 43 % of all
    sequences end up full). The mean is about 0.68 x ``max_length``: a batch of 256 sequences
    of up to 512 tokens holds about 90 000 tokens.
    """
    L = int(max_length)
    n = np.exp(rng.normal(math.log(0.45 * L), 0.7, batch_size))
    n = np.where(rng.random(batch_size) < 0.35, L, n)
    return np.clip(np.rint(n), min(8, L), L).astype(np.int64)


class SyntheticVocab:
    """A vocabulary with BERT's layout (30 522 ids, [PAD]=0, [UNK]=100, [CLS]=101, [SEP]=102,
    [MASK]=103), punctuation pieces, word-start pieces and ``##`` continuation pieces, and the
    0/1/2 word table that goes with it.

    Token streams drawn from it have Zipf-like frequencies, about 16 % continuation pieces and
    10 % punctuation, so whole-word masking sees words of 1 to a few pieces as in English text.
    """

    SIZE = 30522
    PAD, UNK, CLS, SEP, MASK = 0, 100, 101, 102, 103
    PUNCT = (999, 1099)  # [start, stop) of stand-alone punctuation pieces
    WORDS = (1099, 25000)  # word-start pieces
    CONT = (25000, SIZE)  # "##" continuation pieces

    def __init__(self) -> None:
        punct_chars = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
        punct = list(punct_chars)
        for a in punct_chars:
            for b in punct_chars:
                if len(punct) >= self.PUNCT[1] - self.PUNCT[0]:
                    break
                punct.append(a + b)
        tokens: List[str] = []
        for i in range(self.SIZE):
            if i == self.PAD:
                tokens.append("[PAD]")
            elif i in (self.UNK, self.CLS, self.SEP, self.MASK):
                tokens.append({self.UNK: "[UNK]", self.CLS: "[CLS]", self.SEP: "[SEP]",
                               self.MASK: "[MASK]"}[i])
            elif i < self.PUNCT[0]:
                tokens.append(f"[unused{i}]")
            elif i < self.PUNCT[1]:
                tokens.append(punct[i - self.PUNCT[0]])
            elif i < self.WORDS[1]:
                tokens.append(f"w{i}")
            else:
                tokens.append(f"##c{i}")
        self.tokens = tokens
        self.special_ids = (self.PAD, self.UNK, self.CLS, self.SEP, self.MASK)
        table = np.ones(self.SIZE, dtype=np.uint8)
        table[self.PUNCT[0]:self.PUNCT[1]] = 2
        table[self.CONT[0]:self.CONT[1]] = 0
        self.word_table = table.tobytes()
        self._table = table

    @property
    def vocab_size(self) -> int:
        return self.SIZE

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` ordinary token ids (no specials)."""
        kind = rng.random(n)
        u = rng.random(n)
        out = np.empty(n, dtype=np.int64)
        for (lo, hi), sel in ((self.PUNCT, kind < 0.10),
                              (self.CONT, (kind >= 0.10) & (kind < 0.26)),
                              (self.WORDS, kind >= 0.26)):
            size = hi - lo
            # rank r with P(r) roughly proportional to 1/r (Zipf)
            r = np.floor(np.power(float(size), u[sel])).astype(np.int64) - 1
            out[sel] = lo + np.minimum(r, size - 1)
        return out

    def char_offsets(self, values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """``(n, 2)`` character spans of a flat batch, as a fast tokenizer reports them.

        Words are separated by one space; [CLS]/[SEP] get ``(0, 0)``. Each piece is 1-6
        characters long. The spans encode the same word boundaries as the word table.
        """
        values = np.asarray(values, dtype=np.int64)
        t = self._table[values]
        special = np.isin(values, self.special_ids)
        prev_t = np.empty_like(t)
        prev_t[1:] = t[:-1]
        prev_t[:1] = 1
        prev_special = np.empty_like(special)
        prev_special[1:] = special[:-1]
        prev_special[:1] = True
        row_start = np.zeros(values.shape[0], dtype=bool)
        row_start[offsets[:-1][offsets[:-1] < values.shape[0]]] = True
        new_word = (t >= 1) | (prev_t == 2) | prev_special | row_start
        width = 1 + values % 6
        gap = new_word.astype(np.int64)
        step = np.where(special, 0, width + gap)
        # restart the character count in every row
        csum = np.cumsum(step)
        row_of = np.repeat(np.arange(offsets.shape[0] - 1), np.diff(offsets))
        base = np.concatenate(([0], csum))[offsets[:-1]]
        end = csum - base[row_of]
        start = end - np.where(special, 0, width)
        out = np.stack([np.where(special, 0, start), np.where(special, 0, end)], axis=1)
        return out


@dataclass
class RawBatch:
    """One batch as flat values and row offsets (every other form is derived from it)."""

    values: np.ndarray
    offsets: np.ndarray

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def tokens(self) -> int:
        return int(self.values.shape[0])


def synthetic_batch(vocab: SyntheticVocab, seed: int, batch_size: int, max_length: int,
                    index: int) -> RawBatch:
    """Batch ``index`` of a synthetic scenario: ``[CLS] ... [SEP]`` rows, a pure function of
    its arguments."""
    rng = np.random.default_rng([seed, batch_size, max_length, index])
    lens = synthetic_lengths(rng, batch_size, max_length)
    off = np.zeros(batch_size + 1, dtype=np.int64)
    np.cumsum(lens, out=off[1:])
    values = vocab.draw(rng, int(off[-1]))
    if max_length >= 2:
        values[off[:-1]] = vocab.CLS
        values[off[1:] - 1] = vocab.SEP
    return RawBatch(values, off)


def load_token_file(path: str) -> Tuple[np.ndarray, np.ndarray]:
    """Reads token ids from a file; returns flat ``values`` and row ``offsets``.

    Formats, by extension: ``.npz`` with ``values`` (or ``input_ids``) and ``offsets``;
    ``.json`` holding a list of lists of ints; ``.jsonl`` with one list of ints, or one object
    with an ``input_ids`` list, per line; anything else is text with one sequence of
    whitespace-separated ints per line (blank lines are skipped).
    """
    if not os.path.exists(path):
        raise BenchError(f"token file {path!r} does not exist")
    if os.path.isdir(path):
        raise BenchError(f"token file {path!r} is a directory")
    low = path.lower()
    try:
        if low.endswith(".npz"):
            with np.load(path, allow_pickle=False) as z:
                key = "values" if "values" in z else "input_ids" if "input_ids" in z else None
                if key is None or "offsets" not in z:
                    raise BenchError(f"{path}: an .npz token file needs 'values' (or "
                                     f"'input_ids') and 'offsets' arrays, found {sorted(z)}")
                values, offsets = np.asarray(z[key]), np.asarray(z["offsets"])
            if values.ndim != 1 or offsets.ndim != 1 or values.dtype.kind not in "iu" or \
                    offsets.dtype.kind not in "iu":
                raise BenchError(f"{path}: 'values' and 'offsets' must be 1-D integer arrays")
            offsets = offsets.astype(np.int64)
            if offsets.shape[0] < 2 or offsets[0] != 0 or offsets[-1] != values.shape[0] or \
                    (np.diff(offsets) < 0).any():
                raise BenchError(f"{path}: 'offsets' must rise from 0 to len(values)")
            rows = None
        elif low.endswith(".json"):
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
            if not isinstance(doc, list):
                raise BenchError(f"{path}: a .json token file must hold a list of lists of ints")
            rows = [_row(r, path, i + 1) for i, r in enumerate(doc)]
        elif low.endswith(".jsonl"):
            rows = []
            with open(path, encoding="utf-8") as f:
                for lineno, line in enumerate(f, 1):
                    if line.strip():
                        try:
                            item = json.loads(line)
                        except json.JSONDecodeError as e:
                            raise BenchError(f"{path}:{lineno}: not JSON ({e.msg})") from None
                        if isinstance(item, dict):
                            item = item.get("input_ids")
                        rows.append(_row(item, path, lineno))
        else:
            rows = []
            with open(path, encoding="utf-8") as f:
                for lineno, line in enumerate(f, 1):
                    parts = line.split()
                    if parts:
                        try:
                            rows.append([int(p) for p in parts])
                        except ValueError:
                            raise BenchError(f"{path}:{lineno}: expected whitespace-separated "
                                             f"integer ids, got {line.strip()[:40]!r}") from None
    except BenchError:
        raise
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise BenchError(f"cannot read token file {path!r}: {e}") from None
    if rows is not None:
        rows = [r for r in rows if r]
        if not rows:
            raise BenchError(f"{path}: no sequences found")
        lens = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lens, out=offsets[1:])
        values = np.fromiter((v for r in rows for v in r), dtype=np.int64,
                             count=int(offsets[-1]))
    values = values.astype(np.int64)
    if values.shape[0] == 0:
        raise BenchError(f"{path}: no tokens found")
    if int(values.min()) < 0:
        raise BenchError(f"{path}: token ids must be >= 0, found {int(values.min())}")
    return values, offsets


def _row(item: Any, path: str, lineno: int) -> List[int]:
    if not isinstance(item, list) or not all(isinstance(v, int) and not isinstance(v, bool)
                                              for v in item):
        raise BenchError(f"{path}:{lineno}: expected a list of integer ids")
    return item


