"""``fastmask show``: masks text and prints it with colours (or as JSON)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .args import (
    PROG,
    Formatter,
    UsageError,
    add_masking_options,
    masker_error,
    min_int,
    resolve_seed,
    span_selection,
    unigram_counts,
    wrap,
)
from .text import TextTokenizer, load_text_tokenizer

__all__ = ["Style", "legend", "render", "mask_texts", "cmd_show", "add_show_parser",
           "add_color_options", "use_color", "summary"]

#: The masking options of ``show`` (see fastmask.cli.args.MASKING_OPTIONS).
SHOW_MASKING = ("whole_word", "mlm_probability", "mask_replace_prob", "random_replace_prob",
                "selection", "span_lengths", "max_predictions", "action", "random_ids",
                "unigram_counts", "seed", "epoch")

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


def use_color(choice: str, stream: Any) -> bool:
    if choice == "always":
        return True
    if choice == "never":
        return False
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return bool(getattr(stream, "isatty", lambda: False)()) and os.environ.get("TERM") != "dumb"


def add_color_options(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="colour the output: auto (on a terminal, unless NO_COLOR is set), "
                        "always or never (default: auto)")
    g.add_argument("--no-color", dest="color", action="store_const", const="never",
                   help="same as --color never")



def legend(style: Style) -> str:
    if style.color:
        return (f"legend: {style('mask', '[MASK]')} masked   "
                f"{style('random', 'word')}{style('dim', '(orig)')} random replacement   "
                f"{style('kept', 'word')} kept but predicted   "
                f"'{style('dim', style.joiner)}' joins the pieces of a word")
    return ("legend: [MASK] masked   {new/orig} random replacement   _word_ kept but predicted"
            f"   '{style.joiner}' joins the pieces of a word")



def _word_flags(ids: Sequence[int], table: bytes, special: Sequence[bool]) -> List[bool]:
    """Where a word starts: the word-table rule (fastmask.words.starts_from_table), and at
    and after every special token."""
    from ..words import starts_from_table

    flags = starts_from_table(list(ids), table).tolist() if len(ids) else []
    return [bool(f) or special[j] or (j > 0 and special[j - 1]) for j, f in enumerate(flags)]



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


def summary(kinds: Sequence[str]) -> str:
    c = Counter(kinds)
    real = len(kinds) - c["special"]
    picked = c["mask"] + c["random"] + c["kept"]
    pct = f" ({100.0 * picked / real:.0f} %)" if real else ""
    return (f"picked {picked} of {real} tokens{pct}: {c['mask']} [MASK], {c['random']} random, "
            f"{c['kept']} kept")



def masker_from_args(args: argparse.Namespace, tok: TextTokenizer):
    """The Masker (C core or the reference) that ``args`` describe, for ``tok``."""
    import fastmask

    cls = fastmask.Masker
    if getattr(args, "impl", "c") == "reference":
        from .. import reference

        cls = reference.Masker
    selection, span_lengths = span_selection(args)
    opts: Dict[str, Any] = dict(
        pad_token_id=tok.pad_id, special_ids=tok.special_ids,
        mlm_probability=args.mlm_probability, mask_replace_prob=args.mask_replace_prob,
        random_replace_prob=args.random_replace_prob, selection=selection,
        max_predictions=args.max_predictions, seed=resolve_seed(args), action=args.action,
        random_ids=getattr(args, "random_ids", "non_special"),
        unigram_counts=unigram_counts(args))
    if selection == "span":
        opts["span_lengths"] = span_lengths
    if args.whole_word:
        try:
            table = tok.word_table
        except (ValueError, TypeError) as e:
            raise UsageError(f"--whole-word needs a word table, and this tokenizer's "
                             f"vocabulary does not give one: {e}") from None
        opts.update(whole_word=True, word_table=table)
    try:
        return cls(tok.vocab_size, tok.mask_id, **opts)
    except (ValueError, TypeError) as e:
        raise masker_error(e, {"max_length": "--max-length"}) from None


def mask_texts(texts: Sequence[str], tok: TextTokenizer, args: argparse.Namespace,
               style: Style, max_length: Optional[int] = None
               ) -> Tuple[List[str], List[Dict[str, Any]], List[str]]:
    """Tokenizes and masks ``texts`` as one batch; returns lines, per-text records, warnings."""
    masker = masker_from_args(args, tok)
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
        raise masker_error(e, {"max_length": "--max-length"}) from None
    lines, records = [], []
    for k, (t, (ids, offsets)) in enumerate(zip(texts, enc)):
        n = len(ids)
        row_ids = out["input_ids"][k][:n].tolist()
        row_labels = out["labels"][k][:n].tolist()
        line, info = render(t, tok, ids, offsets, row_ids, row_labels, style)
        lines.append(line)
        info.update(text=t, input_ids=list(ids), masked_ids=row_ids, labels=row_labels,
                    summary=summary(info["kinds"]))
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


SHOW_DESCRIPTION = """Tokenizes text (arguments, --file, or stdin; one sequence per line),
masks it and prints it with [MASK], random replacements and kept-but-predicted tokens coloured
and word boundaries visible. Each run draws a fresh seed and prints it: --seed N repeats it."""


def add_show_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "show", formatter_class=Formatter, help="mask your text and show the result in colour",
        description=wrap(SHOW_DESCRIPTION),
        epilog="examples:\n  fastmask show \"The quick brown fox jumps over the lazy dog.\"\n"
               "  fastmask show --whole-word --file notes.txt\n"
               "  fastmask show --seed 7 \"the same masks every time\"\n"
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
    p.add_argument("--max-length", type=min_int(2), metavar="N", default=None,
                   help="cut each line to N tokens (special tokens included)")
    p.add_argument("--impl", choices=("c", "reference"), default="c",
                   help="C core or the pure-Python reference (same output; default: c)")
    p.add_argument("--json", action="store_true",
                   help="print tokens, ids, labels and what happened to each token as JSON")
    add_color_options(p)
    add_masking_options(p, SHOW_MASKING)
    p.set_defaults(func=cmd_show)
    return p


def cmd_show(args: argparse.Namespace) -> int:
    text = _read_text(args)
    texts = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not texts:
        raise UsageError("the text is empty")
    notes: List[str] = []
    tok = load_text_tokenizer(args.tokenizer, mask_token=args.mask_token,
                              builtin=args.builtin_tokenizer, notes=notes)
    style = Style(use_color(args.color, sys.stdout))
    seed = resolve_seed(args)
    lines, records, warn = mask_texts(texts, tok, args, style, args.max_length)
    for n in notes + warn:
        print(f"{PROG} show: note: {n}", file=sys.stderr)
    if args.json:
        for r in records:
            r.pop("summary", None)
        json.dump({"tokenizer": tok.name, "mask_token_id": tok.mask_id,
                   "special_ids": list(tok.special_ids), "seed": seed, "epoch": args.epoch,
                   "sequences": records}, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return 0
    selection, _ = span_selection(args)
    mode = "whole-word" if args.whole_word else "token"
    print(style("dim", f"tokenizer: {tok.name}"))
    print(style("dim", f"masking: {mode}, {selection}, p={args.mlm_probability}, "
                       f"{args.mask_replace_prob:g}/{args.random_replace_prob:g}/"
                       f"{1 - args.mask_replace_prob - args.random_replace_prob:.2g} "
                       f"mask/random/keep, seed {seed} (--seed {seed} repeats this), "
                       f"epoch {args.epoch}"))
    print(legend(style))
    for line, r in zip(lines, records):
        print()
        print(line)
        print(style("dim", f"  {r['summary']}"))
    return 0
