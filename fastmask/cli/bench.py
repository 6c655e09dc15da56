"""``fastmask bench``: the options and their wiring to the benchmark engine.

The engine is the package ``fastmask.bench``, imported when a command needs it (it pulls in
the peers' optional dependencies lazily itself).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Any

from .args import (
    PROG,
    Formatter,
    UsageError,
    add_masking_options,
    add_vocab_options,
    check_writable,
    choice_list,
    int_list,
    nonneg_int,
    positive_int,
    resolve_seed,
    seconds,
    wrap,
)

__all__ = ["engine", "cmd_bench", "add_bench_parser"]

BENCH_DESCRIPTION = """Times fastmask against every installed peer - Hugging Face's
DataCollatorForLanguageModeling (plain and whole-word), the pure-Python reference, a
NumPy-vectorized implementation and two memory floors - on synthetic data with a realistic
length distribution, or on your token file. Prints a table (medians, Mtokens/s, ratios measured
in the same run, the machine), scaling with tokens and threads, and writes JSON and a PNG
chart."""


def engine() -> Any:
    """The benchmark engine, :mod:`fastmask.bench` (imported on first use)."""
    return importlib.import_module("fastmask.bench")


def _settings_from_args(args: argparse.Namespace):
    bm = engine()

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
    return int_list(1)(text)


def cmd_bench(args: argparse.Namespace) -> int:
    bm = engine()

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
    resolve_seed(args)
    settings = _settings_from_args(args)
    try:
        if args.tokens:
            source = bm.DataSource.from_file(
                args.tokens, tokenizer=args.tokenizer, vocab_size=args.vocab_size,
                mask_id=args.mask_token_id, pad_id=args.pad_token_id,
                special_ids=args.special_ids)
        else:
            source = bm.DataSource.synthetic(args.seed)
    except bm.BenchError as e:
        raise UsageError(str(e)) from None
    if not args.no_json and args.json:
        check_writable(args.json, "--json")
    if not args.no_chart and args.chart:
        check_writable(args.chart, "--chart")

    def log(msg: str) -> None:
        print(f"{PROG} bench: warning: {msg}", file=sys.stderr)

    doc = bm.run(settings, source, progress=not args.no_progress, log=log)
    print(bm.format_report(doc))
    print()
    print(f"seed: {args.seed} (--seed {args.seed} repeats the data and the masks)")
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



def add_bench_parser(sub) -> argparse.ArgumentParser:
    bm = engine()
    p = sub.add_parser(
        "bench", formatter_class=Formatter,
        help="benchmark fastmask against the installed peers (table, JSON, chart)",
        description=wrap(BENCH_DESCRIPTION),
        epilog="peers: " + ", ".join(f"{k} ({v.label})" for k, v in bm.PEERS.items()) +
               "\n\nexamples:\n  fastmask bench --quick\n"
               "  fastmask bench --batch-sizes 256 --max-lengths 512 --masking tokens\n"
               "  fastmask bench --tokens my_ids.jsonl --tokenizer tokenizer.json\n"
               "  fastmask bench --from-json fastmask-bench.json --chart bench.png")
    g = p.add_argument_group("what to run")
    g.add_argument("--quick", action="store_true",
                   help="a small run: batches 32,256 x lengths 128,512, list inputs, 5 calls")
    g.add_argument("--batch-sizes", type=int_list(1), metavar="LIST",
                   help="comma-separated batch sizes (default: 32,256,1024)")
    g.add_argument("--max-lengths", type=int_list(2), metavar="LIST",
                   help="comma-separated maximum lengths (default: 128,512,2048)")
    g.add_argument("--masking", type=choice_list(bm.MASKINGS), metavar="LIST",
                   help="tokens, words or both (default: tokens,words)")
    g.add_argument("--inputs", type=choice_list(bm.INPUT_FORMS), metavar="LIST",
                   help="input forms: list (Python lists), arrays (list of 1-D arrays), ndarray "
                        "(padded 2-D array + lengths), ragged (values + offsets) "
                        "(default: list,ndarray,ragged)")
    g.add_argument("--peers", type=choice_list(tuple(bm.PEERS)), metavar="LIST",
                   help="implementations to run (default: all installed; fastmask always runs)")
    g.add_argument("--skip-peers", type=choice_list(tuple(bm.PEERS)), metavar="LIST",
                   help="implementations to leave out")
    g.add_argument("--threads", type=_threads_arg, metavar="LIST",
                   help="thread counts for the scaling table, or 'none' (default: 1, 2, 4, ... "
                        "up to the usable CPUs)")
    add_masking_options(p, ("dtype", "seed"), group=g,
                        help={"seed": "seed of the synthetic data and the masks (default: a "
                                      "fresh one, printed and stored in the results)"})
    g = p.add_argument_group("timing")
    g.add_argument("--repeat", type=positive_int, metavar="N",
                   help="timed calls per measurement (default: 20; --quick: 5)")
    g.add_argument("--warmup", type=nonneg_int, metavar="N",
                   help="untimed calls first (default: 2; --quick: 1)")
    g.add_argument("--min-time", type=seconds, metavar="S",
                   help="keep timing small cases for at least S seconds (default: 0.2)")
    g.add_argument("--max-time", type=seconds, metavar="S",
                   help="stop a measurement after S seconds, once 3 calls are done (default: 2)")
    g.add_argument("--fresh", choices=("headline", "all", "none"), default="headline",
                   help="also time the first calls in fresh processes: for the headline "
                        "scenario (256 x 512, token masking, lists), all, or none "
                        "(default: headline)")
    g.add_argument("--fresh-runs", type=positive_int, metavar="N",
                   help="fresh processes per measurement (default: 3; --quick: 1)")
    g.add_argument("--reference-max-tokens", type=positive_int, default=100_000, metavar="N",
                   help="run the pure-Python reference only on batches of up to about N tokens "
                        "(default: 100000)")
    g.add_argument("--hf-wwm-max-cells", type=positive_int, default=1 << 28, metavar="N",
                   help="run HF whole-word masking only when B x L x L <= N; it builds such an "
                        "array (default: 268435456)")
    g = p.add_argument_group("your own data")
    g.add_argument("--tokens", metavar="FILE",
                   help="token ids to benchmark on: .txt (one sequence of ids per line), "
                        ".jsonl, .json or .npz (values + offsets)")
    g.add_argument("--tokenizer", metavar="FILE",
                   help="tokenizer.json of the --tokens file (vocabulary, special and mask ids, "
                        "word table for whole-word masking)")
    add_vocab_options(p, ("vocab_size", "mask_token_id", "pad_token_id", "special_ids"),
                      group=g, help={
                          "vocab_size": "vocabulary size of the --tokens file (default: from "
                                        "--tokenizer, else the largest id + 1)",
                          "pad_token_id": "id of [PAD] (default: from --tokenizer, else the "
                                          "mask id)"})
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
    return p
