"""What every ``fastmask`` subcommand shares: the argument types, the one :class:`UsageError`,
the masking and vocabulary options (one definition each, with one name and one default), and
the translation of the library's option names into flag names in messages."""

from __future__ import annotations

import argparse
import os
import re
import textwrap
from typing import Any, Callable, Dict, Iterable, Optional, Sequence, Tuple, TypeVar

__all__ = ["PROG", "UsageError", "positive_int", "nonneg_int", "min_int", "probability",
           "seconds", "int_list", "choice_list", "Formatter", "wrap", "add_masking_options",
           "add_vocab_options", "fresh_seed", "resolve_seed", "span_selection", "flag_message",
           "check_writable", "masker_error", "seed_int", "MASKING_OPTIONS", "VOCAB_OPTIONS",
           "FLAG_NAMES", "read_unigram_counts", "unigram_counts"]

PROG = "fastmask"


class UsageError(ValueError):
    """A problem with what the user asked for (options, files); the command prints
    ``fastmask CMD: error: ...`` and exits with status 2."""


# -------------------------------------------------------------------------------------------------
# argument types


_Number = TypeVar("_Number", int, float)


def _number(text: str, kind: Callable[[str], _Number], what: str) -> _Number:
    """``text`` read by ``kind`` (``int`` or ``float``); an argparse error says ``what`` was
    expected."""
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None


def positive_int(text: str) -> int:
    v = _number(text, int, "a positive integer")
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v}")
    return v


def nonneg_int(text: str) -> int:
    v = _number(text, int, "an integer >= 0")
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {v}")
    return v


def min_int(minimum: int):
    def parse(text: str) -> int:
        v = _number(text, int, "an integer")
        if v < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {v}")
        return v
    return parse


def seed_int(text: str) -> int:
    v = _number(text, int, "a seed in [0, 2**64)")
    if not 0 <= v < 1 << 64:
        raise argparse.ArgumentTypeError(f"expected a seed in [0, 2**64), got {v}")
    return v


def probability(text: str) -> float:
    v = _number(text, float, "a number in [0, 1]")
    if not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {v}")
    return v


def seconds(text: str) -> float:
    v = _number(text, float, "a number of seconds")
    if not v >= 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return v


def int_list(minimum: int):
    """Comma-separated integers ``>= minimum`` (spaces allowed), duplicates dropped."""
    def parse(text: str) -> Tuple[int, ...]:
        out = []
        for part in text.replace(",", " ").split():
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


def choice_list(choices: Sequence[str]):
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


class Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30)


def wrap(text: str) -> str:
    """A paragraph wrapped for ``--help`` (the formatter keeps line breaks as written)."""
    return textwrap.fill(" ".join(text.split()), 79)


# -------------------------------------------------------------------------------------------------
# the shared options: each defined once; a subcommand takes the ones that apply to it


def _spec(flags: Sequence[str], **kw: Any) -> Tuple[Tuple[str, ...], Dict[str, Any]]:
    return tuple(flags), kw


#: name -> (flags, argparse keywords). The first flag is the documented one; others are aliases.
MASKING_OPTIONS: Dict[str, Tuple[Tuple[str, ...], Dict[str, Any]]] = {
    "whole_word": _spec(("--whole-word", "-w"), action="store_true",
                        help="mask whole words (word boundaries from the input, else the "
                             "vocabulary's word table)"),
    "mlm_probability": _spec(("--mlm-probability", "-p"), type=probability, default=0.15,
                             metavar="P", help="share of tokens to predict (default: 0.15)"),
    "mask_replace_prob": _spec(("--mask-replace-prob",), type=probability, default=0.8,
                               metavar="P",
                               help="share of picked tokens replaced by [MASK] (default: 0.8)"),
    "random_replace_prob": _spec(("--random-replace-prob",), type=probability, default=0.1,
                                 metavar="P", help="share of picked tokens replaced by a "
                                                   "random token (default: 0.1)"),
    "selection": _spec(("--selection",), choices=("bernoulli", "exact", "span"), default=None,
                       help="bernoulli (each token/word on its own, as Hugging Face), exact "
                            "(BERT's fixed budget) or span (default: bernoulli; span when "
                            "--span-lengths is given)"),
    "span_lengths": _spec(("--span-lengths", "--span"), choices=("spanbert", "albert"),
                          default=None, metavar="NAME",
                          help="span-length law: spanbert (geometric spans of words) or albert "
                               "(n-grams); implies --selection span (default: spanbert)"),
    "max_predictions": _spec(("--max-predictions",), type=nonneg_int, default=None,
                             metavar="N", help="at most N picked tokens per sequence"),
    "action": _spec(("--action",), choices=("token", "unit"), default="token",
                    help="decide 80/10/10 per token or per word/span (default: token)"),
    "random_ids": _spec(("--random-ids",), choices=("non_special", "all", "unigram"),
                        default="non_special",
                        help="ids random replacements come from: non_special, all, or unigram "
                             "(in proportion to --unigram-counts) (default: non_special)"),
    "unigram_counts": _spec(("--unigram-counts",), default=None, metavar="FILE",
                            help="per-id counts for --random-ids unigram: a .npy array or a "
                                 "text file of one count per line, line i for id i"),
    "seed": _spec(("--seed",), type=seed_int, default=None,
                  help="random seed (default: a fresh one, printed, so --seed repeats a run)"),
    "epoch": _spec(("--epoch",), type=nonneg_int, default=0, help="epoch number (default: 0)"),
    "dtype": _spec(("--dtype",), choices=("int64", "int32"), default="int64",
                   help="integer type of the ids and labels (default: int64, what PyTorch "
                        "losses expect)"),
}

#: Vocabulary facts given by hand (otherwise read from --tokenizer by fastmask.vocab).
VOCAB_OPTIONS: Dict[str, Tuple[Tuple[str, ...], Dict[str, Any]]] = {
    "vocab_size": _spec(("--vocab-size",), type=positive_int, default=None, metavar="N",
                        help="number of ids (default: from --tokenizer)"),
    "mask_token_id": _spec(("--mask-token-id", "--mask-id"), type=nonneg_int, default=None,
                           metavar="ID", help="id of [MASK] (default: from --tokenizer)"),
    "pad_token_id": _spec(("--pad-token-id", "--pad-id"), type=nonneg_int, default=None,
                          metavar="ID", help="id of [PAD] (default: from --tokenizer, else 0)"),
    "cls_token_id": _spec(("--cls-token-id",), type=nonneg_int, default=None, metavar="ID",
                          help="id of [CLS] (default: from --tokenizer)"),
    "sep_token_id": _spec(("--sep-token-id",), type=nonneg_int, default=None, metavar="ID",
                          help="id of [SEP] (default: from --tokenizer)"),
    "special_ids": _spec(("--special-ids",), type=int_list(0), default=None, metavar="IDS",
                         help="comma-separated ids never to mask (default: the tokenizer's "
                              "special tokens)"),
}


def _add(group, table, names: Iterable[str], help_overrides: Optional[Dict[str, str]]) -> None:
    for name in names:
        flags, kw = table[name]
        kw = dict(kw, dest=name)
        if help_overrides and name in help_overrides:
            kw["help"] = help_overrides[name]
        group.add_argument(*flags, **kw)


def add_masking_options(parser: argparse.ArgumentParser, names: Iterable[str] = tuple(
        MASKING_OPTIONS), title: str = "masking", group: Any = None,
        help: Optional[Dict[str, str]] = None) -> Any:
    """Adds the masking options ``names`` (keys of :data:`MASKING_OPTIONS`) as a group (or
    to ``group``); ``help`` replaces the help text of some, for what they mean there."""
    g = group if group is not None else parser.add_argument_group(title)
    _add(g, MASKING_OPTIONS, names, help)
    return g


def add_vocab_options(parser: argparse.ArgumentParser, names: Iterable[str] = tuple(
        VOCAB_OPTIONS), title: str = "vocabulary", group: Any = None,
        help: Optional[Dict[str, str]] = None) -> Any:
    """Adds the vocabulary options ``names`` (keys of :data:`VOCAB_OPTIONS`)."""
    g = group if group is not None else parser.add_argument_group(title)
    _add(g, VOCAB_OPTIONS, names, help)
    return g


def fresh_seed() -> int:
    """A new random seed in [0, 2**63) from the operating system."""
    return int.from_bytes(os.urandom(8), "little") >> 1


def resolve_seed(args: argparse.Namespace) -> int:
    """``--seed``, or a fresh one stored back into ``args.seed`` (so it can be printed)."""
    if getattr(args, "seed", None) is None:
        args.seed = fresh_seed()
    return args.seed


def read_unigram_counts(path: str, option: str = "--unigram-counts") -> Any:
    """The per-id counts in ``path``: a ``.npy`` integer array, or text with one non-negative
    integer per line (line i for id i; blank lines and ``#`` comments skipped). Problems raise
    a :class:`UsageError` naming ``option``, the file and the line."""
    import numpy as np

    try:
        if path.endswith(".npy"):
            try:
                arr = np.load(path, allow_pickle=False)
            except ValueError as e:
                raise UsageError(f"{option}: {path!r} is not a NumPy .npy array ({e})") from None
            if arr.dtype.kind not in "iu" or arr.ndim != 1:
                raise UsageError(f"{option}: {path!r} must hold a 1-D integer array, got "
                                 f"dtype {arr.dtype} and shape {arr.shape}")
            return arr
        counts = []
        with open(path, encoding="utf-8") as f:
            for line_no, line in enumerate(f, 1):
                text = line.split("#", 1)[0].strip()
                if not text:
                    continue
                try:
                    v = int(text)
                except ValueError:
                    raise UsageError(f"{option}: {path}:{line_no}: expected one integer count, "
                                     f"got {text!r}") from None
                if v < 0:
                    raise UsageError(f"{option}: {path}:{line_no}: count {v} is negative")
                counts.append(v)
    except OSError as e:
        raise UsageError(f"{option}: cannot read {path!r}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{option}: {path!r} is neither a .npy file nor text") from None
    if counts and max(counts) >= 1 << 64:
        raise UsageError(f"{option}: {path!r}: counts must be below 2**64")
    return np.array(counts, dtype=np.uint64)


def unigram_counts(args: argparse.Namespace) -> Any:
    """The counts of ``--unigram-counts FILE`` (``None`` when not given), checked against
    ``--random-ids``: the Masker option ``unigram_counts``."""
    path = getattr(args, "unigram_counts", None)
    random_ids = getattr(args, "random_ids", "non_special")
    if path is None:
        if random_ids == "unigram":
            raise UsageError("--random-ids unigram needs --unigram-counts FILE")
        return None
    if random_ids != "unigram":
        raise UsageError("--unigram-counts is only used with --random-ids unigram")
    return read_unigram_counts(path)


def span_selection(args: argparse.Namespace) -> Tuple[str, str]:
    """(selection, span_lengths): ``--span-lengths`` alone means ``--selection span``."""
    span = getattr(args, "span_lengths", None)
    selection = getattr(args, "selection", None) or ("span" if span else "bernoulli")
    return selection, span or "spanbert"


# -------------------------------------------------------------------------------------------------
# messages in flag names


#: Masker keyword -> flag, for the options every subcommand spells the same way.
FLAG_NAMES: Dict[str, str] = {name: flags[0] for name, (flags, _) in
                              list(MASKING_OPTIONS.items()) + list(VOCAB_OPTIONS.items())}


def flag_message(message: str, flags: Optional[Dict[str, str]] = None) -> str:
    """``message`` with the library's option names replaced by the command's flags.

    ``flags`` maps keyword names to flags (added to :data:`FLAG_NAMES`). ``name=True`` becomes
    the flag alone (``truncation=True`` -> ``--truncate``), ``name=value`` becomes
    ``flag value`` and a bare ``name`` the flag. A ``(name=value, flag)`` entry with the
    value in the key (``"padding='max_length'"``) replaces that exact text.
    """
    table = dict(FLAG_NAMES)
    table.update(flags or {})
    exact = {k: v for k, v in table.items() if "=" in k}
    for k in sorted(exact, key=len, reverse=True):
        message = message.replace(k, exact[k])
    names = [k for k in table if "=" not in k]
    if not names:
        return message
    # not inside a longer name, a flag or a path (``/data/seed/x.jsonl``, ``seed.txt``)
    pattern = re.compile(r"(?<![\w\-./\\\[])(" + "|".join(sorted(map(re.escape, names), key=len,
                                                                  reverse=True)) +
                         r")(?:=(True|False|[^\s,;)]+))?(?![\w\[/\\]|\.\w)")

    def sub(m: "re.Match[str]") -> str:
        flag, value = table[m.group(1)], m.group(2)
        if value is None or value == "True":
            return flag
        if value == "False":
            return f"no {flag}"
        return f"{flag} {value}"

    return pattern.sub(sub, message)


def check_writable(path: str, option: str) -> None:
    """A ``UsageError`` naming ``option`` when ``path`` cannot be written as a file."""
    d = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError(f"{option}: {path!r} is a directory")
    if not os.path.isdir(d):
        raise UsageError(f"{option}: directory {d!r} does not exist")
    if not os.access(d, os.W_OK):
        raise UsageError(f"{option}: cannot write to {d!r}")


def masker_error(e: Exception, flags: Optional[Dict[str, str]] = None,
                 prefix: str = "") -> UsageError:
    """A :class:`UsageError` from an error of ``fastmask.Masker(...)``, in flag names."""
    return UsageError(prefix + flag_message(str(e), flags))
