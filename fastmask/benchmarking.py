"""The benchmark engine behind ``fastmask bench``, ``fastmask demo`` and ``benches/``.

It builds scenarios (batch size x maximum length x masking x input form) on synthetic data with a
realistic length distribution, or on a user's token file; prepares every installed peer for each
scenario; times them in a steady state (outputs of the last two batches kept alive, as a
DataLoader's prefetch keeps them) and, in fresh processes, their first calls; and turns the
numbers into JSON, a text report and a PNG chart.

Nothing here needs more than NumPy: Hugging Face's collator, torch, tqdm and matplotlib are
used when they are installed and skipped, with a note saying how to install them, when not.
"""

from __future__ import annotations

import collections
import datetime as _dt
import gc
import importlib
import importlib.util
import json
import math
import os
import platform
import subprocess
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    "SCHEMA",
    "BenchError",
    "Settings",
    "Scenario",
    "SyntheticVocab",
    "Progress",
    "PEERS",
    "machine_info",
    "machine_line",
    "synthetic_lengths",
    "load_token_file",
    "make_scenarios",
    "run",
    "format_report",
    "save_json",
    "load_json",
    "plot_chart",
    "validate_results",
    "time_steady",
]

#: Identifies the layout of the JSON results (bumped on incompatible changes).
SCHEMA = "fastmask.bench/1"

BATCH_SIZES = (32, 256, 1024)
MAX_LENGTHS = (128, 512, 2048)
MASKINGS = ("tokens", "words")
INPUT_FORMS = ("list", "arrays", "ndarray", "ragged")
DEFAULT_INPUTS = ("list", "ndarray", "ragged")
HEADLINE = (256, 512, "tokens", "list")

INPUT_DESCRIPTIONS = {
    "list": "Python lists of ints",
    "arrays": "a list of 1-D int64 arrays",
    "ndarray": "a 2-D int64 array padded to the maximum length, with lengths",
    "ragged": "flat int64 values with offsets (the Arrow list layout)",
}


class BenchError(Exception):
    """A problem with the benchmark's inputs (bad file, bad option) that the CLI reports."""


# =================================================================================================
# Machine
# =================================================================================================


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    if sys.platform == "darwin":
        try:
            out = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"],
                                 capture_output=True, text=True, timeout=5)
            if out.returncode == 0 and out.stdout.strip():
                return out.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _version(module: str) -> Optional[str]:
    if importlib.util.find_spec(module) is None:
        return None
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        try:
            return str(getattr(importlib.import_module(module), "__version__", "unknown"))
        except Exception:
            return None


def machine_info() -> Dict[str, Any]:
    """The facts a reader needs to compare benchmark numbers across machines."""
    import fastmask

    info = {
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count() or 1,
        "usable_cpus": _usable_cpus(),
        "machine": platform.machine(),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "numpy": np.__version__,
        "fastmask": getattr(fastmask, "__version__", "unknown"),
    }
    for module in ("torch", "transformers", "tokenizers"):
        info[module] = _version(module)
    try:
        info["load_average"] = round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        info["load_average"] = None
    return info


def _cpu_snapshot() -> Optional[Tuple[float, float, float]]:
    """(CPU seconds the whole machine spent busy, wall-clock CPU seconds available, CPU seconds
    of this process and its finished children), or None where /proc/stat is missing."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    busy = sum(fields[:8]) - idle
    t = os.times()
    own = t.user + t.system + t.children_user + t.children_system
    return busy / hz, sum(fields[:8]) / hz, own


def _other_cpu_share(start, end) -> Optional[float]:
    """Share of the machine's CPU time used by other processes between two snapshots."""
    if start is None or end is None:
        return None
    busy = end[0] - start[0]
    total = end[1] - start[1]
    own = end[2] - start[2]
    if total <= 0:
        return None
    return max(0.0, min(1.0, (busy - own) / total))


def machine_line(info: Dict[str, Any]) -> str:
    """One line: CPU, cores, OS, Python and library versions."""
    parts = [f"{info['cpu']} ({info['logical_cpus']} logical CPUs, {info['usable_cpus']} usable)",
             f"{info['system']} {info['machine']}",
             f"{info['python_implementation']} {info['python']}",
             f"numpy {info['numpy']}", f"fastmask {info['fastmask']}"]
    for module in ("torch", "transformers"):
        if info.get(module):
            parts.append(f"{module} {info[module]}")
    return " · ".join(parts)


# =================================================================================================
# Data
# =================================================================================================


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


@dataclass
class DataSource:
    """Where the batches come from: the synthetic generator or a user's token file."""

    kind: str  # "synthetic" or "file"
    seed: int = 0
    path: Optional[str] = None
    vocab_size: int = SyntheticVocab.SIZE
    mask_id: int = SyntheticVocab.MASK
    pad_id: int = SyntheticVocab.PAD
    special_ids: Tuple[int, ...] = (0, 100, 101, 102, 103)
    tokenizer: Optional[str] = None
    word_table: Optional[bytes] = field(default=None, repr=False)
    notes: List[str] = field(default_factory=list)
    _values: Optional[np.ndarray] = field(default=None, repr=False)
    _offsets: Optional[np.ndarray] = field(default=None, repr=False)
    _vocab: Optional[SyntheticVocab] = field(default=None, repr=False)

    @classmethod
    def synthetic(cls, seed: int = 0) -> "DataSource":
        v = SyntheticVocab()
        return cls("synthetic", seed=seed, vocab_size=v.vocab_size, mask_id=v.MASK,
                   pad_id=v.PAD, special_ids=tuple(v.special_ids), word_table=v.word_table,
                   _vocab=v)

    @classmethod
    def from_file(cls, path: str, *, tokenizer: Optional[str] = None,
                  vocab_size: Optional[int] = None, mask_id: Optional[int] = None,
                  pad_id: Optional[int] = None,
                  special_ids: Optional[Sequence[int]] = None) -> "DataSource":
        values, offsets = load_token_file(path)
        notes: List[str] = []
        top = int(values.max())
        table = None
        specials: List[int] = list(special_ids or [])
        if tokenizer is not None:
            tok = _load_tokenizers_file(tokenizer)
            vocab = tok.get_vocab(with_added_tokens=True)
            tok_size = max(tok.get_vocab_size(with_added_tokens=True), max(vocab.values()) + 1)
            vocab_size = vocab_size or tok_size
            if mask_id is None:
                mask_id = next((vocab[t] for t in ("[MASK]", "<mask>", "<MASK>") if t in vocab),
                               None)
                if mask_id is None:
                    raise BenchError(f"tokenizer {tokenizer!r} has no [MASK]/<mask> token; "
                                     "pass --mask-id")
            if pad_id is None:
                pad_id = next((vocab[t] for t in ("[PAD]", "<pad>") if t in vocab), mask_id)
            if special_ids is None:
                specials = sorted(i for i, t in tok.get_added_tokens_decoder().items()
                                  if t.special)
            try:
                from . import words

                table = words.word_table(tok, vocab_size=vocab_size)
            except Exception as e:  # an unusual vocabulary: whole-word scenarios are skipped
                notes.append(f"no word table for {tokenizer}: {e}")
        if vocab_size is None:
            vocab_size = top + 1 + (1 if mask_id is None else 0)
        if mask_id is None:
            mask_id = vocab_size - 1
            notes.append(f"no --mask-id given: id {mask_id} stands for [MASK]")
        if pad_id is None:
            pad_id = 0
        if top >= vocab_size:
            raise BenchError(f"{path}: id {top} is not below the vocabulary size {vocab_size}")
        for name, v in (("mask id", mask_id), ("pad id", pad_id)):
            if not 0 <= v < vocab_size:
                raise BenchError(f"{name} {v} is outside [0, {vocab_size})")
        bad = [s for s in specials if not 0 <= s < vocab_size]
        if bad:
            raise BenchError(f"special id {bad[0]} is outside [0, {vocab_size})")
        return cls("file", path=path, vocab_size=int(vocab_size), mask_id=int(mask_id),
                   pad_id=int(pad_id), special_ids=tuple(sorted(set(specials))),
                   tokenizer=tokenizer, word_table=table, notes=notes, _values=values,
                   _offsets=offsets)

    def describe(self) -> str:
        if self.kind == "synthetic":
            return (f"synthetic: realistic lengths (log-normal documents, about 43 % cut at "
                    f"the max length, mean 0.68 x max length), BERT vocabulary layout "
                    f"({self.vocab_size} ids, Zipf-like frequencies), seed {self.seed}")
        n = self._offsets.shape[0] - 1
        return (f"token file {self.path} ({n} sequences, {self._values.shape[0]} tokens, "
                f"vocabulary {self.vocab_size})")

    def to_spec(self) -> Dict[str, Any]:
        return {"kind": self.kind, "seed": self.seed, "path": self.path,
                "vocab_size": self.vocab_size, "mask_id": self.mask_id, "pad_id": self.pad_id,
                "special_ids": list(self.special_ids), "tokenizer": self.tokenizer}

    @classmethod
    def from_spec(cls, spec: Dict[str, Any]) -> "DataSource":
        if spec["kind"] == "synthetic":
            return cls.synthetic(spec["seed"])
        return cls.from_file(spec["path"], tokenizer=spec.get("tokenizer"),
                             vocab_size=spec["vocab_size"], mask_id=spec["mask_id"],
                             pad_id=spec["pad_id"], special_ids=spec["special_ids"])

    def batch(self, batch_size: int, max_length: int, index: int) -> RawBatch:
        if self.kind == "synthetic":
            return synthetic_batch(self._vocab, self.seed, batch_size, max_length, index)
        # consecutive sequences of the file, wrapping around, truncated to max_length
        off = self._offsets
        n = off.shape[0] - 1
        rows = (np.arange(batch_size) + index * batch_size) % n
        starts = off[rows]
        lens = np.minimum(off[rows + 1] - starts, max_length)
        out_off = np.zeros(batch_size + 1, dtype=np.int64)
        np.cumsum(lens, out=out_off[1:])
        idx = np.repeat(starts - out_off[:-1], lens) + np.arange(int(out_off[-1]))
        return RawBatch(self._values[idx], out_off)

    def char_offsets(self, raw: RawBatch) -> Optional[np.ndarray]:
        if self._vocab is not None:
            return self._vocab.char_offsets(raw.values, raw.offsets)
        return None


def _load_tokenizers_file(path: str):
    if importlib.util.find_spec("tokenizers") is None:
        raise BenchError("reading a tokenizer.json needs the 'tokenizers' package: "
                         "pip install tokenizers")
    if not os.path.isfile(path):
        raise BenchError(f"tokenizer file {path!r} does not exist")
    from tokenizers import Tokenizer

    try:
        return Tokenizer.from_file(path)
    except Exception as e:
        raise BenchError(f"cannot load tokenizer file {path!r}: {e}") from None


# =================================================================================================
# Scenarios and the data of one scenario
# =================================================================================================


@dataclass(frozen=True)
class Scenario:
    batch_size: int
    max_length: int
    masking: str  # "tokens" or "words"
    inputs: str  # one of INPUT_FORMS

    @property
    def id(self) -> str:
        return f"B{self.batch_size}-L{self.max_length}-{self.masking}-{self.inputs}"

    @property
    def title(self) -> str:
        return (f"{self.batch_size} sequences x <={self.max_length} tokens, "
                f"{'whole-word' if self.masking == 'words' else 'token'} masking, "
                f"{INPUT_DESCRIPTIONS[self.inputs]} in")


def make_scenarios(batch_sizes: Iterable[int] = BATCH_SIZES,
                   max_lengths: Iterable[int] = MAX_LENGTHS,
                   maskings: Iterable[str] = MASKINGS,
                   inputs: Iterable[str] = DEFAULT_INPUTS) -> List[Scenario]:
    """Every combination, ordered by masking, input form, then size."""
    out = []
    for m in maskings:
        for form in inputs:
            for L in max_lengths:
                for B in batch_sizes:
                    out.append(Scenario(int(B), int(L), m, form))
    return out


class ScenarioData:
    """The batches of one scenario in every form a peer may ask for (built lazily, cached)."""

    def __init__(self, source: DataSource, sc: Scenario, n_batches: int):
        self.source = source
        self.scenario = sc
        self.raw = [source.batch(sc.batch_size, sc.max_length, i) for i in range(n_batches)]
        self._cache: Dict[Tuple[str, int], Any] = {}

    def __len__(self) -> int:
        return len(self.raw)

    @property
    def tokens(self) -> float:
        """Mean number of real tokens per batch."""
        return float(np.mean([r.tokens for r in self.raw]))

    @property
    def width(self) -> int:
        return int(max(int(r.lengths.max()) for r in self.raw))

    def _get(self, key: str, i: int, make: Callable[[RawBatch], Any]) -> Any:
        k = (key, i)
        if k not in self._cache:
            self._cache[k] = make(self.raw[i])
        return self._cache[k]

    def lists(self, i: int) -> List[List[int]]:
        def make(r: RawBatch):
            v = r.values.tolist()
            o = r.offsets.tolist()
            return [v[o[j]:o[j + 1]] for j in range(len(o) - 1)]
        return self._get("list", i, make)

    def arrays(self, i: int) -> List[np.ndarray]:
        return self._get("arrays", i, lambda r: [r.values[r.offsets[j]:r.offsets[j + 1]].copy()
                                                 for j in range(len(r.offsets) - 1)])

    def padded(self, i: int) -> Tuple[np.ndarray, np.ndarray]:
        def make(r: RawBatch):
            L = self.scenario.max_length
            B = r.offsets.shape[0] - 1
            arr = np.full((B, L), self.source.pad_id, dtype=np.int64)
            lens = r.lengths
            arr[np.arange(L)[None, :] < lens[:, None]] = r.values
            return arr, lens
        return self._get("ndarray", i, make)

    def ragged(self, i: int) -> Tuple[np.ndarray, np.ndarray]:
        return self._get("ragged", i, lambda r: (r.values, r.offsets))

    def special_masks(self, i: int) -> List[List[int]]:
        def make(r: RawBatch):
            flags = np.isin(r.values, self.source.special_ids).astype(np.int64).tolist()
            o = r.offsets.tolist()
            return [flags[o[j]:o[j + 1]] for j in range(len(o) - 1)]
        return self._get("special", i, make)

    def hf_examples(self, i: int) -> List[Dict[str, Any]]:
        """Dicts with ``input_ids`` and ``special_tokens_mask`` (Hugging Face's fast path)."""
        return self._get("hf", i, lambda r: [
            {"input_ids": ids, "special_tokens_mask": sm}
            for ids, sm in zip(self.lists(i), self.special_masks(i))])

    def hf_wwm_examples(self, i: int) -> Optional[List[Dict[str, Any]]]:
        """Equal-length dicts with ``offset_mapping`` for HF whole-word masking.

        ``tokenizer.pad`` does not pad ``offset_mapping``, so HF whole-word masking only works
        on examples that already have one length; they are padded here, outside the timing, to
        the batch's longest sequence (HF's most favourable case).
        """
        def make(r: RawBatch):
            spans = self.source.char_offsets(r)
            if spans is None:
                return None
            W = int(r.lengths.max())
            pad = self.source.pad_id
            out = []
            o = r.offsets.tolist()
            lists = self.lists(i)
            sms = self.special_masks(i)
            sp = [tuple(x) for x in spans.tolist()]
            for j in range(len(o) - 1):
                n = o[j + 1] - o[j]
                k = W - n
                out.append({"input_ids": lists[j] + [pad] * k,
                            "attention_mask": [1] * n + [0] * k,
                            "special_tokens_mask": sms[j] + [1] * k,
                            "offset_mapping": sp[o[j]:o[j + 1]] + [(0, 0)] * k})
            return out
        return self._get("hf_wwm", i, make)

    def inputs(self, i: int) -> Tuple[tuple, dict]:
        """Positional and keyword arguments of a fastmask-style call in this scenario's form."""
        form = self.scenario.inputs
        if form == "list":
            return (self.lists(i),), {}
        if form == "arrays":
            return (self.arrays(i),), {}
        if form == "ndarray":
            arr, lens = self.padded(i)
            return (arr,), {"lengths": lens}
        values, offsets = self.ragged(i)
        return (values,), {"offsets": offsets}


# =================================================================================================
# Peers
# =================================================================================================


@dataclass
class Context:
    """Run-wide settings the peers read."""

    seed: int = 0
    dtype: str = "int64"
    threads: int = 1
    reference_max_tokens: int = 100_000
    hf_wwm_max_cells: int = 1 << 28
    _hf_tokenizer: Any = None


class Peer:
    """One implementation under test. ``prepare`` returns a callable ``f(i)`` that processes
    batch ``i`` of the scenario and returns its outputs."""

    name = ""
    label = ""
    kind = "peer"  # "fastmask", "peer" or "floor"
    install = ""
    slow = False  # few calls, no warm-up beyond the first

    def missing(self) -> Optional[str]:
        """None when the peer can run here, else a note saying how to install it."""
        return None

    def skip(self, sc: Scenario, data_source: DataSource, ctx: Context) -> Optional[str]:
        """None when the peer runs this scenario, else why not."""
        return None

    def prepare(self, data: ScenarioData, ctx: Context) -> Callable[[int], Any]:
        raise NotImplementedError


#: Skip reason of a peer that only runs the other masking kind (not listed in the report).
OTHER_MASKING = "runs on the other masking kind"


def _masker_options(data: ScenarioData, ctx: Context, threads: int = 1) -> Dict[str, Any]:
    src = data.source
    words = data.scenario.masking == "words"
    opts = dict(pad_token_id=src.pad_id, special_ids=src.special_ids, seed=ctx.seed,
                dtype=ctx.dtype)
    if words:
        opts.update(whole_word=True, word_table=src.word_table)
    if threads > 1:
        opts["num_threads"] = threads
    return opts


def _call(fn: Callable, data: ScenarioData) -> Callable[[int], Any]:
    args = [data.inputs(i) for i in range(len(data))]

    def run(i: int) -> Any:
        a, kw = args[i]
        return fn(*a, **kw)

    return run


class FastmaskPeer(Peer):
    name = "fastmask"
    label = "fastmask (C core)"
    kind = "fastmask"

    def __init__(self, threads: int = 1):
        self.threads = threads
        if threads > 1:
            self.name = f"fastmask-t{threads}"
            self.label = f"fastmask, {threads} threads"

    def skip(self, sc, source, ctx):
        if sc.masking == "words" and source.word_table is None:
            return "whole-word masking needs a word table (pass --tokenizer)"
        return None

    def prepare(self, data, ctx):
        import fastmask

        src = data.source
        m = fastmask.Masker(src.vocab_size, src.mask_id,
                            **_masker_options(data, ctx, max(self.threads, ctx.threads)))
        return _call(m, data)


class ReferencePeer(Peer):
    name = "reference"
    label = "fastmask.reference (pure Python)"
    install = "part of fastmask"
    slow = True

    def missing(self):
        try:
            from . import reference
        except Exception as e:  # pragma: no cover - a broken checkout
            return f"fastmask.reference does not import: {e}"
        if not hasattr(reference, "Masker"):
            return "fastmask.reference.Masker is not available in this version"
        return None

    def skip(self, sc, source, ctx):
        if sc.masking == "words" and source.word_table is None:
            return "whole-word masking needs a word table"
        if sc.inputs != "list":
            return "run on list inputs only (its cost is the Python loop, not the input form)"
        expect = 0.68 * sc.batch_size * sc.max_length if source.kind == "synthetic" else 0
        if expect > ctx.reference_max_tokens:
            return (f"batches of more than --reference-max-tokens={ctx.reference_max_tokens} "
                    "tokens (it would take seconds per batch)")
        return None

    def prepare(self, data, ctx):
        from . import reference

        src = data.source
        m = reference.Masker(src.vocab_size, src.mask_id, **_masker_options(data, ctx))
        return _call(m, data)


class NumpyPeer(Peer):
    name = "numpy"
    label = "NumPy-vectorized pad + mask"

    def skip(self, sc, source, ctx):
        if sc.masking == "words" and source.word_table is None:
            return "whole-word masking needs a word table"
        return None

    def prepare(self, data, ctx):
        from ._baseline import NumpyMasker

        src = data.source
        words = data.scenario.masking == "words"
        m = NumpyMasker(src.vocab_size, src.mask_id, pad_token_id=src.pad_id,
                        special_ids=src.special_ids, seed=ctx.seed, dtype=ctx.dtype,
                        whole_word=words, word_table=src.word_table if words else None)
        return _call(m, data)


def _hf_missing() -> Optional[str]:
    missing = [m for m in ("transformers", "tokenizers") if importlib.util.find_spec(m) is None]
    if missing:
        return (f"{' and '.join(missing)} not installed: pip install transformers tokenizers "
                "(or pip install 'fastmask[bench]')")
    return None


def _hf_tokenizer(source: DataSource, ctx: Context):
    """A ``PreTrainedTokenizerFast`` over the scenario's vocabulary, built locally."""
    if ctx._hf_tokenizer is not None:
        return ctx._hf_tokenizer
    from transformers import PreTrainedTokenizerFast

    if source.tokenizer is not None:
        tok = PreTrainedTokenizerFast(tokenizer_file=source.tokenizer)
        vocab = tok.get_vocab()
        inv = {v: k for k, v in vocab.items()}
        tok.mask_token = inv[source.mask_id]
        tok.pad_token = inv[source.pad_id]
    else:
        from tokenizers import Tokenizer, models, pre_tokenizers

        vocab = SyntheticVocab()
        wp = Tokenizer(models.WordPiece({t: i for i, t in enumerate(vocab.tokens)},
                                        unk_token="[UNK]"))
        wp.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok = PreTrainedTokenizerFast(tokenizer_object=wp, pad_token="[PAD]", unk_token="[UNK]",
                                      cls_token="[CLS]", sep_token="[SEP]",
                                      mask_token="[MASK]")
    ctx._hf_tokenizer = tok
    return tok


def _hf_return_tensors() -> str:
    return "pt" if importlib.util.find_spec("torch") is not None else "np"


class HFPeer(Peer):
    name = "hf"
    label = "HF DataCollatorForLanguageModeling"
    install = "pip install transformers tokenizers torch"
    whole_word = False

    def missing(self):
        return _hf_missing()

    def skip(self, sc, source, ctx):
        if sc.masking != ("words" if self.whole_word else "tokens"):
            return OTHER_MASKING
        if sc.inputs != "list":
            return "takes a list of dicts; compared on list inputs"
        return None

    def prepare(self, data, ctx):
        from transformers import DataCollatorForLanguageModeling

        tok = _hf_tokenizer(data.source, ctx)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            collator = DataCollatorForLanguageModeling(
                tok, mlm_probability=0.15, whole_word_mask=self.whole_word, seed=ctx.seed,
                return_tensors=_hf_return_tensors())
        examples = [self._examples(data, i) for i in range(len(data))]

        def run(i: int) -> Any:
            return collator(examples[i])

        return run

    def _examples(self, data: ScenarioData, i: int):
        return data.hf_examples(i)


class HFWholeWordPeer(HFPeer):
    name = "hf-wwm"
    label = "HF collator, whole_word_mask=True"
    whole_word = True
    slow = True

    def skip(self, sc, source, ctx):
        why = super().skip(sc, source, ctx)
        if why:
            return why
        if source.kind != "synthetic":
            return "needs offset_mapping (only available for synthetic data)"
        cells = sc.batch_size * sc.max_length * sc.max_length
        if cells > ctx.hf_wwm_max_cells:
            return (f"builds a B x L x L array ({cells / 1e9:.1f} G cells, above "
                    f"--hf-wwm-max-cells={ctx.hf_wwm_max_cells})")
        return None

    def _examples(self, data, i):
        return data.hf_wwm_examples(i)


class PadFloorPeer(Peer):
    name = "pad-floor"
    label = "floor: pad only (fastmask.pad, no masking)"
    kind = "floor"

    def prepare(self, data, ctx):
        import fastmask

        pad_id = data.source.pad_id
        dtype = ctx.dtype

        def pad(*a, **kw):
            return fastmask.pad(*a, pad_token_id=pad_id, dtype=dtype, **kw)

        return _call(pad, data)


class CopyFloorPeer(Peer):
    name = "copy-floor"
    label = "floor: copy the 3 output arrays"
    kind = "floor"

    def prepare(self, data, ctx):
        import fastmask

        src = data.source
        m = fastmask.Masker(src.vocab_size, src.mask_id, **_masker_options(data, ctx))
        outs = []
        for i in range(len(data)):
            a, kw = data.inputs(i)
            o = m(*a, **kw)
            outs.append((o["input_ids"], o["labels"], o["attention_mask"]))

        def run(i: int) -> Any:
            ids, labels, attention = outs[i]
            block = np.empty((3,) + ids.shape, dtype=ids.dtype)
            np.copyto(block[0], ids)
            np.copyto(block[1], labels)
            np.copyto(block[2], attention)
            return block

        return run


#: Every peer, by name, in report order.
PEERS: Dict[str, Peer] = {p.name: p for p in (FastmaskPeer(), HFPeer(), HFWholeWordPeer(),
                                              NumpyPeer(), ReferencePeer(), PadFloorPeer(),
                                              CopyFloorPeer())}


def get_peer(name: str) -> Peer:
    if name.startswith("fastmask-t"):
        return FastmaskPeer(int(name[len("fastmask-t"):]))
    return PEERS[name]


# =================================================================================================
# Timing
# =================================================================================================


@dataclass
class Timing:
    """How many calls a measurement makes."""

    repeat: int = 20  # timed calls wanted
    warmup: int = 2
    min_time: float = 0.2  # keep calling (up to 10 x repeat) until this much time was timed
    max_time: float = 2.0  # stop once this much was timed (after at least min(3, repeat) calls)
    keep: int = 2  # outputs of the last `keep` batches stay alive


def time_steady(fn: Callable[[int], Any], n_batches: int, timing: Timing,
                slow: bool = False) -> List[float]:
    """Times calls of ``fn`` in a steady state; returns seconds per call.

    Batches are used in turn; the outputs of the last ``timing.keep`` calls stay alive while
    the next one runs, as a DataLoader's prefetch keeps them.
    """
    kept: collections.deque = collections.deque(maxlen=max(timing.keep, 1))
    clock = time.perf_counter
    warm = 1 if slow else timing.warmup
    spent = 0.0
    for k in range(warm):
        t0 = clock()
        kept.append(fn(k % n_batches))
        dt = clock() - t0
        spent += dt
        if dt > timing.max_time / 4 or spent > timing.max_time / 2:
            break
    times: List[float] = []
    total = 0.0
    least = min(3, timing.repeat)
    cap = max(timing.repeat, 1) * 10
    k = warm
    while True:
        i = k % n_batches
        t0 = clock()
        out = fn(i)
        dt = clock() - t0
        kept.append(out)
        del out
        times.append(dt)
        total += dt
        k += 1
        n = len(times)
        if n >= least and total >= timing.max_time:
            break
        if n >= timing.repeat and (total >= timing.min_time or n >= cap):
            break
    kept.clear()
    return times


def _stats(times: Sequence[float]) -> Dict[str, Any]:
    ms = np.asarray(times, dtype=np.float64) * 1e3
    return {"median_ms": float(np.median(ms)), "min_ms": float(ms.min()),
            "q1_ms": float(np.percentile(ms, 25)), "q3_ms": float(np.percentile(ms, 75)),
            "calls": int(ms.shape[0])}


def _n_batches(tokens_estimate: float) -> int:
    """Distinct batches cycled through in a measurement (fewer for big ones, to save memory)."""
    if tokens_estimate > 600_000:
        return 2
    if tokens_estimate > 150_000:
        return 3
    return 4


# ---- fresh processes ------------------------------------------------------------------------


def _worker(spec: Dict[str, Any]) -> Dict[str, Any]:
    """Runs in a fresh interpreter: builds the scenario's data and the peer, then times its
    first calls."""
    source = DataSource.from_spec(spec["source"])
    sc = Scenario(**spec["scenario"])
    ctx = Context(seed=spec["seed"], dtype=spec["dtype"])
    peer = get_peer(spec["peer"])
    data = ScenarioData(source, sc, spec["batches"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fn = peer.prepare(data, ctx)
        kept: collections.deque = collections.deque(maxlen=2)
        times = []
        for k in range(spec["calls"]):
            t0 = time.perf_counter()
            kept.append(fn(k % len(data)))
            times.append(time.perf_counter() - t0)
    return {"times": times}


def _child_env() -> Dict[str, str]:
    import fastmask

    root = os.path.dirname(os.path.dirname(os.path.abspath(fastmask.__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return env


def time_fresh(peer: str, sc: Scenario, source: DataSource, ctx: Context, runs: int,
               calls: int = 5, timeout: float = 600) -> List[List[float]]:
    """Times the first ``calls`` calls in each of ``runs`` fresh Python processes."""
    spec = {"source": source.to_spec(), "scenario": asdict(sc), "peer": peer,
            "seed": ctx.seed, "dtype": ctx.dtype, "batches": min(calls, 2), "calls": calls}
    out = []
    for _ in range(runs):
        proc = subprocess.run([sys.executable, "-m", "fastmask.benchmarking", "--worker"],
                              input=json.dumps(spec), capture_output=True, text=True,
                              timeout=timeout, env=_child_env())
        if proc.returncode != 0:
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise RuntimeError(f"fresh process failed: {tail}")
        out.append(json.loads(proc.stdout.strip().splitlines()[-1])["times"])
    return out


# =================================================================================================
# Progress bar
# =================================================================================================


class Progress:
    """tqdm when it is installed, else a one-line bar on stderr (only on a terminal)."""

    def __init__(self, total: int, desc: str = "", enabled: bool = True,
                 stream: Any = None) -> None:
        self.total = max(int(total), 1)
        self.n = 0
        self.stream = stream or sys.stderr
        self._bar = None
        self._enabled = enabled
        self._last = 0.0
        self._desc = desc
        if not enabled:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            tqdm = None
        if tqdm is not None:
            # disable=None: quiet when stderr is not a terminal
            self._bar = tqdm(total=self.total, desc=desc, file=self.stream, leave=False,
                             dynamic_ncols=True, unit="step", disable=None)
        else:
            self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def set(self, what: str) -> None:
        if not self._enabled:
            return
        if self._bar is not None:
            self._bar.set_postfix_str(what, refresh=True)
        else:
            self._draw(what)

    def update(self, n: int = 1) -> None:
        self.n = min(self.n + n, self.total)
        if not self._enabled:
            return
        if self._bar is not None:
            self._bar.update(n)
        else:
            self._draw("")

    def _draw(self, what: str) -> None:
        if not self._tty:
            return
        now = time.monotonic()
        if what == "" and now - self._last < 0.1 and self.n < self.total:
            return
        self._last = now
        width = 24
        done = int(width * self.n / self.total)
        line = (f"\r{self._desc} [{'#' * done}{'.' * (width - done)}] {self.n}/{self.total} "
                f"{what}")[:110]
        self.stream.write(line.ljust(110))
        self.stream.flush()

    def close(self) -> None:
        if not self._enabled:
            return
        if self._bar is not None:
            self._bar.close()
        elif self._tty:
            self.stream.write("\r" + " " * 110 + "\r")
            self.stream.flush()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# =================================================================================================
# The run
# =================================================================================================


@dataclass
class Settings:
    """Everything that shapes a benchmark run (the CLI maps its options onto this)."""

    batch_sizes: Tuple[int, ...] = BATCH_SIZES
    max_lengths: Tuple[int, ...] = MAX_LENGTHS
    maskings: Tuple[str, ...] = MASKINGS
    inputs: Tuple[str, ...] = DEFAULT_INPUTS
    peers: Tuple[str, ...] = tuple(PEERS)
    timing: Timing = field(default_factory=Timing)
    fresh: str = "headline"  # "headline", "all" or "none"
    fresh_runs: int = 3
    fresh_calls: int = 5
    threads: Tuple[int, ...] = ()  # thread counts for the scaling table; () = none
    seed: int = 0
    dtype: str = "int64"
    reference_max_tokens: int = 100_000
    hf_wwm_max_cells: int = 1 << 28
    command: str = ""


def default_threads() -> Tuple[int, ...]:
    """1, 2, 4, ... up to the usable CPUs (always including that number)."""
    n = _usable_cpus()
    out = []
    k = 1
    while k < n:
        out.append(k)
        k *= 2
    out.append(n)
    return tuple(out)


def _headline(scenarios: Sequence[Scenario]) -> Optional[Scenario]:
    if not scenarios:
        return None
    want = Scenario(*HEADLINE)
    if want in scenarios:
        return want
    pool = [s for s in scenarios if s.masking == "tokens" and s.inputs == "list"] or list(
        scenarios)
    return min(pool, key=lambda s: (abs(math.log(s.batch_size / 256)) +
                                    abs(math.log(s.max_length / 512))))


def _thread_scenarios(scenarios: Sequence[Scenario]) -> List[Scenario]:
    """The largest batches of the run (token masking; list and ragged inputs)."""
    toks = [s for s in scenarios if s.masking == "tokens"]
    if not toks:
        return []
    B = max(s.batch_size for s in toks)
    if B < 64:
        return []
    out = [s for s in toks if s.batch_size == B and s.inputs in ("list", "ragged")]
    return sorted(out, key=lambda s: (s.inputs, s.max_length))


def run(settings: Settings, source: Optional[DataSource] = None,
        progress: bool = True, log: Callable[[str], None] = lambda s: None) -> Dict[str, Any]:
    """Runs the benchmark; returns the results document (see :func:`validate_results`)."""
    machine = machine_info()  # before the run: the load average must not count the run itself
    cpu_start = _cpu_snapshot()
    source = source or DataSource.synthetic(settings.seed)
    scenarios = make_scenarios(settings.batch_sizes, settings.max_lengths, settings.maskings,
                               settings.inputs)
    ctx = Context(seed=settings.seed, dtype=settings.dtype,
                  reference_max_tokens=settings.reference_max_tokens,
                  hf_wwm_max_cells=settings.hf_wwm_max_cells)
    names = list(dict.fromkeys(["fastmask"] + [p for p in settings.peers if p in PEERS]))
    peers_doc = []
    active: List[Peer] = []
    for name in names:
        p = PEERS[name]
        miss = p.missing()
        peers_doc.append({"name": p.name, "label": p.label, "kind": p.kind,
                          "available": miss is None, "note": miss})
        if miss is None:
            active.append(p)
    headline = _headline(scenarios)
    fresh_set = [] if settings.fresh == "none" else (
        list(scenarios) if settings.fresh == "all" else [headline] if headline else [])
    thread_scs = _thread_scenarios(scenarios) if len(settings.threads) > 1 else []

    # plan: (scenario, peer) pairs that run, and the ones skipped with a reason
    skipped: List[Dict[str, Any]] = []
    plan: List[Tuple[Scenario, List[Peer]]] = []
    for sc in scenarios:
        run_here = []
        for p in active:
            why = p.skip(sc, source, ctx)
            if why is None:
                run_here.append(p)
            elif why != OTHER_MASKING:
                skipped.append({"scenario": sc.id, "peer": p.name, "reason": why})
        plan.append((sc, run_here))
    steps = sum(len(ps) for _, ps in plan)
    steps += sum(len([p for p in ps if sc in fresh_set]) for sc, ps in plan)
    steps += len(thread_scs) * len(settings.threads)

    scen_doc: List[Dict[str, Any]] = []
    results: List[Dict[str, Any]] = []
    thread_doc: List[Dict[str, Any]] = []
    with warnings.catch_warnings(), Progress(steps, "fastmask bench", progress) as bar:
        warnings.simplefilter("ignore")
        for sc, ps in plan:
            est = 0.68 * sc.batch_size * sc.max_length
            data = ScenarioData(source, sc, _n_batches(est))
            scen_doc.append({"id": sc.id, "batch_size": sc.batch_size,
                             "max_length": sc.max_length, "masking": sc.masking,
                             "inputs": sc.inputs, "tokens": data.tokens,
                             "padded_width": data.width, "batches": len(data)})
            for p in ps:
                bar.set(f"{sc.id} · {p.name}")
                try:
                    fn = p.prepare(data, ctx)
                    times = time_steady(fn, len(data), settings.timing, slow=p.slow)
                except Exception as e:  # a peer failing must not sink the whole report
                    skipped.append({"scenario": sc.id, "peer": p.name,
                                    "reason": f"failed: {type(e).__name__}: {e}"})
                    log(f"{p.name} failed on {sc.id}: {type(e).__name__}: {e}")
                else:
                    r = {"scenario": sc.id, "peer": p.name, "mode": "steady", "threads": 1}
                    r.update(_stats(times))
                    results.append(r)
                fn = None
                bar.update()
            if sc in thread_scs:
                for t in settings.threads:
                    bar.set(f"{sc.id} · {t} threads")
                    try:
                        fn = FastmaskPeer(t).prepare(data, ctx)
                        times = time_steady(fn, len(data), settings.timing)
                    except Exception as e:
                        log(f"threads={t} failed on {sc.id}: {e}")
                    else:
                        r = {"scenario": sc.id, "threads": t}
                        r.update(_stats(times))
                        thread_doc.append(r)
                    fn = None
                    bar.update()
            del data
            gc.collect()
        for sc, ps in plan:
            if sc not in fresh_set:
                continue
            for p in ps:
                bar.set(f"{sc.id} · {p.name} (fresh process)")
                try:
                    runs = time_fresh(p.name, sc, source, ctx, settings.fresh_runs,
                                      settings.fresh_calls if not p.slow else 2)
                except Exception as e:
                    skipped.append({"scenario": sc.id, "peer": p.name + " (fresh)",
                                    "reason": f"failed: {e}"})
                    log(f"fresh {p.name} failed on {sc.id}: {e}")
                else:
                    first = [r[0] for r in runs]
                    later = [t for r in runs for t in r[1:]]
                    r = {"scenario": sc.id, "peer": p.name, "mode": "fresh", "threads": 1}
                    r.update(_stats(first))
                    r["first_call_ms"] = [t * 1e3 for t in first]
                    r["later_calls_median_ms"] = (float(np.median(later)) * 1e3 if later
                                                  else None)
                    r["processes"] = len(runs)
                    results.append(r)
                bar.update()

    _add_ratios(results, scen_doc)
    share = _other_cpu_share(cpu_start, _cpu_snapshot())
    machine["other_cpu_share"] = None if share is None else round(share, 4)
    doc = {
        "schema": SCHEMA,
        "created": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "command": settings.command,
        "machine": machine,
        "data": {"source": source.kind, "description": source.describe(),
                 "vocab_size": source.vocab_size, "notes": list(source.notes)},
        "settings": {
            "repeat": settings.timing.repeat, "warmup": settings.timing.warmup,
            "min_time_s": settings.timing.min_time, "max_time_s": settings.timing.max_time,
            "kept_outputs": settings.timing.keep, "fresh": settings.fresh,
            "fresh_runs": settings.fresh_runs, "seed": settings.seed, "dtype": settings.dtype,
            "threads": list(settings.threads),
            "reference_max_tokens": settings.reference_max_tokens,
            "hf_wwm_max_cells": settings.hf_wwm_max_cells,
            "hf_return_tensors": _hf_return_tensors(),
        },
        "headline": headline.id if headline else None,
        "peers": peers_doc,
        "scenarios": scen_doc,
        "results": results,
        "skipped": skipped,
        "scaling": {"tokens": token_scaling(results, scen_doc),
                    "threads": _thread_speedups(thread_doc)},
        "notes": _notes(peers_doc),
    }
    return doc


def _add_ratios(results: List[Dict[str, Any]], scenarios: List[Dict[str, Any]]) -> None:
    tokens = {s["id"]: s["tokens"] for s in scenarios}
    base = {(r["scenario"], r["mode"]): r["median_ms"] for r in results
            if r["peer"] == "fastmask"}
    for r in results:
        ms = r["median_ms"]
        r["mtok_per_s"] = tokens[r["scenario"]] / (ms * 1e3) if ms > 0 else None
        b = base.get((r["scenario"], r["mode"]))
        r["vs_fastmask"] = ms / b if b else None


def token_scaling(results: Sequence[Dict[str, Any]],
                  scenarios: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """How time grows with the number of tokens, per peer, over the steady token-masking
    list-input scenarios: a fit ``ms = a + b * tokens`` minimising relative errors (R² is
    computed on relative errors too), and the exponent ``k`` of a power law
    ``ms ~ tokens^k`` (1 = linear)."""
    info = {s["id"]: s for s in scenarios}
    out = []
    by_peer: Dict[str, List[Tuple[float, float]]] = {}
    for r in results:
        s = info.get(r["scenario"])
        if r["mode"] != "steady" or s is None or s["masking"] != "tokens" or \
                s["inputs"] != "list":
            continue
        by_peer.setdefault(r["peer"], []).append((s["tokens"], r["median_ms"]))
    for peer, pts in by_peer.items():
        pts.sort()
        x = np.array([p[0] for p in pts])
        y = np.array([p[1] for p in pts])
        entry: Dict[str, Any] = {"peer": peer, "points": [[float(a), float(b)] for a, b in pts]}
        per_tok = y * 1e6 / x  # ns per token
        entry["ns_per_token_min"] = float(per_tok.min())
        entry["ns_per_token_max"] = float(per_tok.max())
        if len(pts) >= 3 and np.ptp(x) > 0:
            # weighted by 1/ms, so that relative errors count: small batches matter as much as
            # big ones (a plain fit is decided by the largest batches alone)
            b, a = np.polyfit(x, y, 1, w=1.0 / y)
            pred = a + b * x
            ss_res = float((((y - pred) / y) ** 2).sum())
            ym = np.average(y, weights=1.0 / y ** 2)
            ss_tot = float((((y - ym) / y) ** 2).sum())
            entry["ns_per_token"] = float(b * 1e6)
            entry["intercept_us"] = float(a * 1e3)
            entry["r2"] = 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0
            # exponent of a power law ms ~ tokens^k: 1 means linear
            entry["exponent"] = float(np.polyfit(np.log(x), np.log(y), 1)[0])
        out.append(entry)
    return out


def _thread_speedups(rows: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    one = {r["scenario"]: r["median_ms"] for r in rows if r["threads"] == 1}
    for r in rows:
        b = one.get(r["scenario"])
        r["speedup"] = b / r["median_ms"] if b and r["median_ms"] > 0 else None
    return rows


def _notes(peers_doc: List[Dict[str, Any]]) -> List[str]:
    names = {p["name"] for p in peers_doc if p["available"]}
    notes = ["Steady state: median over calls; the outputs of the last 2 batches stay alive, "
             "as a DataLoader's prefetch keeps them. Fresh: first call in a new Python process "
             "(median over processes).",
             "Ratios divide a peer's median time by fastmask's median time in the same run and "
             "scenario: above 1, fastmask is faster; for the floors, below 1."]
    if "hf" in names or "hf-wwm" in names:
        notes.append("HF gets dicts with input_ids and special_tokens_mask (its documented "
                     f"fast path) and returns {_hf_return_tensors()!r} tensors.")
    if "hf-wwm" in names:
        notes.append("HF whole-word masking needs offset_mapping, which tokenizer.pad does "
                     "not pad: its examples are pre-padded to the batch's longest sequence "
                     "outside the timing. It also forces mask_replace_prob=1.")
    if "reference" in names:
        notes.append("The pure-Python reference runs only on list inputs and small batches "
                     "(--reference-max-tokens).")
    return notes


# =================================================================================================
# JSON
# =================================================================================================


def save_json(doc: Dict[str, Any], path: str) -> None:
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def load_json(path: str) -> Dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except OSError as e:
        raise BenchError(f"cannot read results file {path!r}: {e.strerror or e}") from None
    except json.JSONDecodeError as e:
        raise BenchError(f"{path} is not JSON: {e.msg} (line {e.lineno})") from None
    problems = validate_results(doc)
    if problems:
        raise BenchError(f"{path} is not a fastmask benchmark result: {problems[0]}")
    return doc


_RESULT_KEYS = {"scenario": str, "peer": str, "mode": str, "median_ms": float,
                "min_ms": float, "q1_ms": float, "q3_ms": float, "calls": int}
_SCENARIO_KEYS = {"id": str, "batch_size": int, "max_length": int, "masking": str,
                  "inputs": str, "tokens": float, "padded_width": int}


def validate_results(doc: Any) -> List[str]:
    """Problems found in a results document (an empty list when it is well-formed)."""
    problems: List[str] = []
    if not isinstance(doc, dict):
        return ["the document is not a JSON object"]
    if doc.get("schema") != SCHEMA:
        problems.append(f"schema is {doc.get('schema')!r}, expected {SCHEMA!r}")
    for key, typ in (("created", str), ("machine", dict), ("settings", dict),
                     ("peers", list), ("scenarios", list), ("results", list),
                     ("skipped", list), ("scaling", dict), ("notes", list), ("data", dict)):
        if not isinstance(doc.get(key), typ):
            problems.append(f"{key!r} is missing or not a {typ.__name__}")
    if problems:
        return problems
    for key in ("cpu", "logical_cpus", "python", "numpy", "fastmask"):
        if key not in doc["machine"]:
            problems.append(f"machine.{key} is missing")
    ids = set()
    for i, s in enumerate(doc["scenarios"]):
        for key, typ in _SCENARIO_KEYS.items():
            v = s.get(key) if isinstance(s, dict) else None
            if not isinstance(v, (int, float) if typ is float else typ) or isinstance(v, bool):
                problems.append(f"scenarios[{i}].{key} is missing or not a {typ.__name__}")
        if isinstance(s, dict):
            ids.add(s.get("id"))
    for i, r in enumerate(doc["results"]):
        if not isinstance(r, dict):
            problems.append(f"results[{i}] is not an object")
            continue
        for key, typ in _RESULT_KEYS.items():
            v = r.get(key)
            if not isinstance(v, (int, float) if typ is float else typ) or isinstance(v, bool):
                problems.append(f"results[{i}].{key} is missing or not a {typ.__name__}")
        if r.get("scenario") not in ids:
            problems.append(f"results[{i}] refers to an unknown scenario {r.get('scenario')!r}")
        if r.get("mode") not in ("steady", "fresh"):
            problems.append(f"results[{i}].mode must be 'steady' or 'fresh'")
    for key in ("tokens", "threads"):
        if not isinstance(doc["scaling"].get(key), list):
            problems.append(f"scaling.{key} is missing or not a list")
    return problems


# =================================================================================================
# Text report
# =================================================================================================


def _fmt_ms(ms: Optional[float]) -> str:
    if ms is None:
        return "—"
    if ms >= 1000:
        return f"{ms:,.0f}"
    if ms >= 100:
        return f"{ms:.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    if ms >= 1:
        return f"{ms:.2f}"
    return f"{ms:.3f}"


def _fmt_ratio(x: Optional[float]) -> str:
    if x is None:
        return ""
    if x >= 100:
        return f"{x:,.0f}x"
    if x >= 10:
        return f"{x:.0f}x"
    return f"{x:.2f}x" if x < 1 else f"{x:.1f}x"


def _fmt_tokens(n: float) -> str:
    if n >= 1e6:
        return f"{n / 1e6:.2f}M"
    if n >= 1e3:
        return f"{n / 1e3:.1f}k"
    return f"{n:.0f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> List[str]:
    widths = [max(len(h), *(len(r[k]) for r in rows)) if rows else len(h)
              for k, h in enumerate(header)]

    def line(cells):
        out = []
        for k, c in enumerate(cells):
            out.append(c.ljust(widths[k]) if align[k] == "l" else c.rjust(widths[k]))
        return "  " + "  ".join(out).rstrip()

    return [line(header), "  " + "  ".join("-" * w for w in widths)] + [line(r) for r in rows]


def _label(doc: Dict[str, Any], name: str) -> str:
    for p in doc["peers"]:
        if p["name"] == name:
            return p["label"]
    return name


SHORT = {"fastmask": "fastmask", "hf": "HF", "hf-wwm": "HF wwm", "numpy": "NumPy",
         "reference": "reference", "pad-floor": "pad floor", "copy-floor": "copy floor"}


def headline_table(doc: Dict[str, Any], scenario_id: Optional[str] = None) -> List[str]:
    """Rows of the detailed table for one scenario: every peer, steady and fresh."""
    sid = scenario_id or doc.get("headline")
    sc = next((s for s in doc["scenarios"] if s["id"] == sid), None)
    if sc is None:
        return []
    steady = {r["peer"]: r for r in doc["results"] if r["scenario"] == sid and
              r["mode"] == "steady"}
    fresh = {r["peer"]: r for r in doc["results"] if r["scenario"] == sid and
             r["mode"] == "fresh"}
    order = [p["name"] for p in doc["peers"]]
    with_fresh = bool(fresh)
    rows = []
    for name in order:
        r = steady.get(name)
        if r is None:
            continue
        f = fresh.get(name)
        ratio = r.get("vs_fastmask")
        if name == "fastmask":
            rel = "1.00"
        elif ratio is None:
            rel = ""
        elif ratio >= 1:
            rel = f"{_fmt_ratio(ratio)} slower"
        else:
            rel = f"{_fmt_ratio(ratio)} (fastmask = {_fmt_ratio(1 / ratio)})"
        row = [_label(doc, name), _fmt_ms(r["median_ms"]),
               f"{r['mtok_per_s']:.1f}" if r.get("mtok_per_s") else "—"]
        if with_fresh:
            row += [_fmt_ms(f["median_ms"]) if f else "—",
                    _fmt_ms(f.get("later_calls_median_ms")) if f else "—"]
        row += [f"{r['q1_ms']:.3g}–{r['q3_ms']:.3g}", str(r["calls"]), rel]
        rows.append(row)
    title = (f"{sc['batch_size']} sequences x <={sc['max_length']} tokens "
             f"({_fmt_tokens(sc['tokens'])} tokens per batch), "
             f"{'whole-word' if sc['masking'] == 'words' else 'token'} masking, "
             f"{INPUT_DESCRIPTIONS.get(sc['inputs'], sc['inputs'])} in")
    out = [title]
    header = ["implementation", "ms/batch", "Mtok/s"]
    if with_fresh:
        header += ["fresh 1st", "fresh next"]
    header += ["IQR ms", "calls", "time / fastmask"]
    out += _table(header, rows, "lrr" + ("rr" if with_fresh else "") + "rrl")
    return out


def matrix_table(doc: Dict[str, Any], masking: str) -> List[str]:
    """One line per scenario: fastmask's time and throughput, then each peer's time and its
    ratio to fastmask."""
    scs = [s for s in doc["scenarios"] if s["masking"] == masking]
    if not scs:
        return []
    steady = {(r["scenario"], r["peer"]): r for r in doc["results"] if r["mode"] == "steady"}
    peers = [p["name"] for p in doc["peers"] if p["name"] != "fastmask" and any(
        (s["id"], p["name"]) in steady for s in scs)]
    header = ["B", "L", "inputs", "tokens", "fastmask ms", "Mtok/s"] + [SHORT.get(p, p)
                                                                        for p in peers]
    rows = []
    for s in scs:
        base = steady.get((s["id"], "fastmask"))
        row = [str(s["batch_size"]), str(s["max_length"]), s["inputs"], _fmt_tokens(s["tokens"]),
               _fmt_ms(base["median_ms"]) if base else "—",
               f"{base['mtok_per_s']:.0f}" if base and base.get("mtok_per_s") else "—"]
        for p in peers:
            r = steady.get((s["id"], p))
            if r is None:
                row.append("—")
            else:
                row.append(f"{_fmt_ms(r['median_ms'])} ({_fmt_ratio(r.get('vs_fastmask'))})")
        rows.append(row)
    kind = "whole-word masking" if masking == "words" else "token masking"
    return [f"All scenarios, {kind}: ms per batch (peer time / fastmask time)"] + _table(
        header, rows, "rrlrrr" + "r" * len(peers))


def scaling_lines(doc: Dict[str, Any]) -> List[str]:
    out = []
    tok = [e for e in doc["scaling"]["tokens"] if "ns_per_token" in e]
    if tok:
        out.append("Time against the number of tokens (token masking, list inputs): fit "
                   "ms = a + b x tokens on relative errors; k = exponent of ms ~ tokens^k "
                   "(1 = linear)")
        rows = []
        order = {p["name"]: k for k, p in enumerate(doc["peers"])}
        for e in sorted(tok, key=lambda e: order.get(e["peer"], 99)):
            rows.append([_label(doc, e["peer"]), f"{e['ns_per_token']:.2f}",
                         f"{e['intercept_us']:.0f}", f"{e['r2']:.4f}", f"{e['exponent']:.2f}",
                         f"{e['ns_per_token_min']:.2f}–{e['ns_per_token_max']:.2f}",
                         str(len(e["points"]))])
        out += _table(["implementation", "b ns/token", "a µs", "R²", "k", "ns/token range",
                       "sizes"], rows, "lrrrrrr")
    th = doc["scaling"]["threads"]
    if th:
        counts = sorted({r["threads"] for r in th})
        ids = list(dict.fromkeys(r["scenario"] for r in th))
        rows = []
        for sid in ids:
            row = [sid]
            for t in counts:
                r = next((x for x in th if x["scenario"] == sid and x["threads"] == t), None)
                if r is None:
                    row.append("—")
                elif t == 1:
                    row.append(_fmt_ms(r["median_ms"]))
                else:
                    row.append(f"{_fmt_ms(r['median_ms'])} ({r['speedup']:.2f}x)"
                               if r.get("speedup") else _fmt_ms(r["median_ms"]))
            rows.append(row)
        if out:
            out.append("")
        out.append("Threads: Masker(num_threads=N), ms per batch (speedup over 1 thread)")
        out += _table(["scenario"] + [f"{t} thread{'s' if t > 1 else ''}" for t in counts],
                      rows, "l" + "r" * len(counts))
    return out


def timing_line(st: Dict[str, Any]) -> str:
    """How the numbers were taken, in one line."""
    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    line = f"median ms per batch over {plural(st['repeat'], 'call')} or more"
    if st["min_time_s"] > 0:
        line += f" (fast cases: enough to fill {st['min_time_s']:g} s)"
    line += (f", stopping after {st['max_time_s']:g} s once {min(3, st['repeat'])} are done; "
             f"{plural(st['warmup'], 'warm-up call')} first; steady state (outputs of the last "
             f"{st['kept_outputs']} batches alive); dtype {st['dtype']}")
    if st.get("fresh") and st["fresh"] != "none":
        line += (f"; fresh = first call (1st) and calls 2-5 (next) in {st['fresh_runs']} new "
                 "processes")
    return line


def format_report(doc: Dict[str, Any], sections: Sequence[str] = ("headline", "matrix",
                                                                    "scaling", "notes")) -> str:
    """The text report of a results document."""
    lines = [f"machine: {machine_line(doc['machine'])}",
             f"data: {doc['data']['description']}",
             "timing: " + timing_line(doc["settings"])]
    for n in doc["data"].get("notes", []):
        lines.append(f"note: {n}")
    share = doc["machine"].get("other_cpu_share")
    load = doc["machine"].get("load_average")
    if share is not None:
        if share > 0.05:
            lines.append(f"warning: other processes used {100 * share:.0f} % of the machine's "
                         "CPU time during the run, so times may be inflated")
    elif load is not None and load > 0.5:
        lines.append(f"warning: the 1-minute load average was {load:.2f} when the run started; "
                     "other processes were using the CPUs, so times may be inflated")
    if "headline" in sections and doc.get("headline"):
        lines.append("")
        lines += headline_table(doc)
    if "matrix" in sections:
        for m in ("tokens", "words"):
            ids = {s["id"] for s in doc["scenarios"] if s["masking"] == m}
            if ids and ids != {doc.get("headline")}:  # not just the headline again
                lines.append("")
                lines += matrix_table(doc, m)
    if "scaling" in sections:
        s = scaling_lines(doc)
        if s:
            lines.append("")
            lines += s
    if "notes" in sections:
        missing = [p for p in doc["peers"] if not p["available"]]
        if missing or doc["skipped"]:
            lines.append("")
        for p in missing:
            lines.append(f"skipped {p['label']}: {p['note']}")
        reasons: Dict[Tuple[str, str], List[str]] = {}
        for s in doc["skipped"]:
            reasons.setdefault((s["peer"], s["reason"]), []).append(s["scenario"])
        for (peer, why), scs in reasons.items():
            where = scs[0] if len(scs) == 1 else f"{len(scs)} scenarios"
            lines.append(f"skipped {SHORT.get(peer, peer)} in {where}: {why}")
        lines.append("")
        lines += [f"note: {n}" for n in doc["notes"]]
    return "\n".join(lines)


# =================================================================================================
# Chart
# =================================================================================================


def plot_chart(doc: Dict[str, Any], path: str) -> str:
    """Writes a PNG: throughput against batch size and sequence length, time against tokens,
    and thread scaling. Needs matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise BenchError("the chart needs matplotlib: pip install matplotlib "
                         "(or pip install 'fastmask[plot]')") from None
    info = {s["id"]: s for s in doc["scenarios"]}
    steady = [r for r in doc["results"] if r["mode"] == "steady"]
    order = [p["name"] for p in doc["peers"]]
    colors = {"fastmask": "#d62728", "hf": "#1f77b4", "hf-wwm": "#17becf", "numpy": "#2ca02c",
              "reference": "#9467bd", "pad-floor": "#7f7f7f", "copy-floor": "#bcbd22"}

    def series(masking, inputs, fixed_key, fixed_val, x_key):
        out: Dict[str, List[Tuple[int, float]]] = {}
        for r in steady:
            s = info[r["scenario"]]
            if s["masking"] == masking and s["inputs"] == inputs and s[fixed_key] == fixed_val:
                out.setdefault(r["peer"], []).append((s[x_key], r["mtok_per_s"]))
        return {k: sorted(v) for k, v in out.items()}

    def pick(values, want):
        return min(values, key=lambda v: abs(math.log(v / want))) if values else None

    masking = "tokens" if any(s["masking"] == "tokens" for s in doc["scenarios"]) else "words"
    inputs = "list" if any(s["inputs"] == "list" for s in doc["scenarios"]) else \
        doc["scenarios"][0]["inputs"] if doc["scenarios"] else "list"
    Ls = sorted({s["max_length"] for s in doc["scenarios"]})
    Bs = sorted({s["batch_size"] for s in doc["scenarios"]})
    L0, B0 = pick(Ls, 512), pick(Bs, 256)

    fig, axes = plt.subplots(2, 2, figsize=(12, 9))
    m = doc["machine"]
    fig.suptitle(f"fastmask {m['fastmask']} benchmark — {m['cpu']}, {m['usable_cpus']} CPUs, "
                 f"Python {m['python']}, numpy {m['numpy']} ({doc['created'][:10]}); "
                 "steady-state medians", fontsize=11)

    for ax, (fixed_key, fixed_val, x_key, xlabel, title) in zip(
            (axes[0][0], axes[0][1]),
            (("max_length", L0, "batch_size", "batch size (sequences)",
              f"throughput vs batch size (max length {L0})"),
             ("batch_size", B0, "max_length", "max sequence length (tokens)",
              f"throughput vs sequence length (batch {B0})"))):
        data = series(masking, inputs, fixed_key, fixed_val, x_key)
        for name in order:
            pts = data.get(name)
            if not pts:
                continue
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o",
                    label=SHORT.get(name, name), color=colors.get(name),
                    linestyle="--" if name.endswith("floor") else "-",
                    linewidth=2.5 if name == "fastmask" else 1.5)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("Mtokens/s (higher is better)")
        ax.set_title(f"{title}, {masking} masking, {inputs} in", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        if data:
            ax.legend(fontsize=8)

    ax = axes[1][0]
    for e in doc["scaling"]["tokens"]:
        pts = e["points"]
        name = e["peer"]
        x = [p[0] for p in pts]
        ax.plot(x, [p[1] for p in pts], marker="o", linestyle="none",
                color=colors.get(name), label=SHORT.get(name, name))
        if "ns_per_token" in e:
            xs = np.geomspace(min(x), max(x), 50)
            ys = e["intercept_us"] / 1e3 + e["ns_per_token"] * 1e-6 * xs
            ok = ys > 0  # a negative intercept cannot be drawn on a log scale
            ax.plot(xs[ok], ys[ok], color=colors.get(name), alpha=0.6, linewidth=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("real tokens per batch")
    ax.set_ylabel("ms per batch")
    ax.set_title("time against tokens (lines: linear fit a + b x tokens)", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    if doc["scaling"]["tokens"]:
        ax.legend(fontsize=8)

    ax = axes[1][1]
    th = doc["scaling"]["threads"]
    if th:
        for sid in dict.fromkeys(r["scenario"] for r in th):
            pts = sorted((r["threads"], r["speedup"]) for r in th
                         if r["scenario"] == sid and r.get("speedup"))
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=sid)
        top = max(r["threads"] for r in th)
        ax.plot([1, top], [1, top], color="#999999", linestyle=":", label="ideal")
        ax.set_xticks(sorted({r["threads"] for r in th}))
        ax.set_xlabel("threads (Masker(num_threads=N))")
        ax.set_ylabel("speedup over 1 thread")
        ax.set_title("thread scaling, largest batches", fontsize=10)
        ax.legend(fontsize=8)
        ax.grid(True, alpha=0.3)
    else:
        ax.axis("off")
        ax.text(0.5, 0.5, "no thread-scaling data\n(runs with batches >= 64 and "
                "more than one CPU)", ha="center", va="center")
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# =================================================================================================
# Fresh-process worker entry point
# =================================================================================================


def _worker_main(argv: Sequence[str]) -> int:
    if list(argv) != ["--worker"]:
        sys.stderr.write("usage: python -m fastmask.benchmarking --worker < spec.json\n"
                         "(internal: times the first calls of one peer in a fresh process; "
                         "use `fastmask bench` instead)\n")
        return 2
    spec = json.loads(sys.stdin.read())
    print(json.dumps(_worker(spec)))
    return 0


if __name__ == "__main__":
    sys.exit(_worker_main(sys.argv[1:]))
