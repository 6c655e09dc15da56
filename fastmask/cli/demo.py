"""``fastmask demo``: masked sample sentences, then a short benchmark on this machine."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from typing import List

from .args import MASKING_OPTIONS, PROG, Formatter, positive_int, wrap
from .bench import engine
from .show import Style, add_color_options, legend, mask_texts, summary, use_color
from .text import load_text_tokenizer

__all__ = ["cmd_demo", "add_demo_parser"]

DEMO_DESCRIPTION = """Masks a few sentences with a demo tokenizer trained on text that ships with
Python, then times fastmask against the installed peers on one batch of 256 sequences of up to
512 tokens. Needs no data; about 10-30 s."""


def add_demo_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "demo", formatter_class=Formatter, help="masked sample sentences and a short benchmark",
        description=wrap(DEMO_DESCRIPTION))
    p.add_argument("--quick", action="store_true",
                   help="a tiny benchmark (32 x 128 tokens, no Hugging Face) in a few seconds")
    p.add_argument("--no-bench", action="store_true", help="only show the masked sentences")
    p.add_argument("--repeat", type=positive_int, default=10, metavar="N",
                   help="timed calls per implementation (default: 10)")
    flags, kw = MASKING_OPTIONS["seed"]
    # the demo shows the same sentences every time unless asked otherwise
    p.add_argument(*flags, **dict(kw, default=0, help="random seed (default: 0)"))
    p.add_argument("--builtin-tokenizer", action="store_true",
                   help="use the small built-in tokenizer even when 'tokenizers' is installed")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_color_options(p)
    p.set_defaults(func=cmd_demo)
    return p


DEMO_SENTENCES = (
    "Masked language models learn by guessing the words hidden behind a mask token.",
    "The quick brown fox jumps over the lazy dog, then naps under an apple tree.",
    "Tokenizers split uncommon words like photosynthesis or unbelievably into smaller pieces.",
    "Python ships with its own documentation, which makes a handy little training corpus.",
)


def _section(title: str, style: Style) -> str:
    return style("bold", title)


def cmd_demo(args: argparse.Namespace) -> int:
    bm = engine()

    t_start = time.perf_counter()
    style = Style(use_color(args.color, sys.stdout))
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
        print(style("dim", "     " + summary(list(total.elements()))))

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
