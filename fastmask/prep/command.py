"""``fastmask prep``: static masking of a corpus from the command line.

Reads JSON Lines of token ids, a ragged ``.npz``, a saved Hugging Face dataset, Parquet (a file
or a directory of shards) or raw text (with a ``tokenizer.json``), optionally cuts documents into BERT / ALBERT sentence-pair instances
(:mod:`fastmask.instances`), and writes ``--dupe-factor`` masked copies with
:func:`fastmask.prep.write_static`, or on Ray Data / Spark with ``--engine``
(:mod:`fastmask.prep.engines`). The masking and vocabulary options are the ones ``show`` and
``bench`` use (:mod:`fastmask.cli.args`); vocabulary facts come from :mod:`fastmask.vocab`.

This module imports without pyarrow, datasets or tokenizers, so ``fastmask --help`` lists the
command and ``fastmask prep`` can say what to install.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import signal
import sys
import threading
from typing import Any, Dict, Optional, Sequence

from ..cli.args import (
    Formatter,
    UsageError,
    add_masking_options,
    add_vocab_options,
    flag_message,
    positive_int,
    probability,
    resolve_seed,
    seed_int,
    span_selection,
    unigram_counts,
    wrap,
)
from .api import OUTPUT_FORMATS
from .engines import ENGINES
from .readers import INPUT_FORMATS

__all__ = ["add_parser", "run", "main", "summary_line", "PREP_FLAGS", "INSTALL_HINT"]

INSTALL_HINT = "pip install 'fastmask[prep]'"

#: Masker / write_static keywords -> the prep flags that set them (for messages).
PREP_FLAGS = {
    "overwrite=True (--overwrite)": "--overwrite",
    "padding='max_length'": "--pad",
    "max_length": "--max-seq-length",
    "truncation": "--truncate",
    "max_predictions_per_seq": "--max-predictions-per-seq",
    "dupe_factor": "--dupe-factor",
    "keep_columns": "--keep-columns",
    "batch_size": "--batch-size",
    "num_threads": "--threads",
    "shard_size": "--shard-size",
    "layout": "--layout",
}

#: The shared masking options prep takes (fastmask.cli.args.MASKING_OPTIONS).
PREP_MASKING = ("seed", "mlm_probability", "mask_replace_prob", "random_replace_prob",
                "selection", "max_predictions", "whole_word", "span_lengths", "action",
                "random_ids", "unigram_counts", "dtype")

DESCRIPTION = """Write dupe_factor differently masked copies of a corpus (BERT's static
masking) as Parquet or a saved Hugging Face dataset. Copy j of sample i equals the collator's
mask for that sample at epoch j. Needs the prep extra (pyarrow, datasets, tokenizers, tqdm):
pip install 'fastmask[prep]'. See docs/prep.md."""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Registers ``prep`` on an ``argparse`` sub-parser collection; returns its parser."""
    p = subparsers.add_parser(
        "prep", formatter_class=Formatter,
        help="mask a corpus once, dupe_factor times (static masking; needs fastmask[prep])",
        description=wrap(DESCRIPTION))
    io = p.add_argument_group("input and output")
    io.add_argument("input", help="JSON Lines of token ids, a ragged .npz (values + offsets), "
                    "a saved Hugging Face dataset directory, a Parquet file or directory of "
                    "shards, or a text file (with --tokenizer)")
    io.add_argument("-o", "--output", required=True,
                    help="a .parquet file, or a directory: a saved Hugging Face dataset, or "
                         "Parquet shards with --output-format parquet")
    io.add_argument("--input-format", choices=INPUT_FORMATS, default=None,
                    help="input format (default: from the path)")
    io.add_argument("--output-format", choices=OUTPUT_FORMATS, default=None,
                    help="output format (default: parquet for *.parquet, else hf)")
    io.add_argument("--column", default="input_ids",
                    help="token-id column of the input (default: %(default)s)")
    io.add_argument("--sample-id-column", default=None, metavar="NAME",
                    help="integer input column holding each row's sample id (unique, >= 0; "
                         "written to the output); default: the row index, as sample_id")
    io.add_argument("--split", default=None, help="split of a saved DatasetDict")
    io.add_argument("--keep-columns", default="", metavar="NAMES",
                    help="more input columns to copy into the output (comma-separated)")
    io.add_argument("--compression", default="snappy",
                    help="Parquet compression codec, or 'none' (default: %(default)s)")
    io.add_argument("--overwrite", action="store_true", help="replace an existing output")
    io.add_argument("--batch-size", type=positive_int, default=4096,
                    help="rows per batch (default: %(default)s)")
    io.add_argument("--shard-size", type=positive_int, default=1 << 18,
                    help="most rows per Parquet shard, for Parquet output to a directory "
                         "(default: %(default)s)")
    io.add_argument("--threads", type=positive_int, default=None,
                    help="batches masked at once (default: the number of CPUs)")
    io.add_argument("--progress", dest="progress", action="store_true", default=None,
                    help="show progress bars (default: when stderr is a terminal)")
    io.add_argument("--no-progress", dest="progress", action="store_false",
                    help="no progress bars")

    voc = p.add_argument_group("vocabulary")
    voc.add_argument("--tokenizer", default=None, help="a local tokenizer.json (needed for "
                     "text input; gives the vocabulary facts and the whole-word table)")
    add_vocab_options(p, group=voc, help={
        "cls_token_id": "id of [CLS], for --instances (default: from --tokenizer)",
        "sep_token_id": "id of [SEP], for --instances (default: from --tokenizer)",
        "special_ids": "ids never masked, comma-separated (default: the tokenizer's special "
                       "tokens; [CLS], [SEP], [MASK] and [PAD] always)"})

    mk = add_masking_options(p, PREP_MASKING, help={
        "seed": "masking seed (default: a fresh one, printed and stored in the output)"})
    mk.add_argument("--dupe-factor", type=positive_int, default=1, metavar="K",
                    help="number of masked copies; copy j uses mask epoch j (default: 1)")
    mk.add_argument("--layout", choices=("dense", "sparse"), default="dense",
                    help="dense: input_ids + labels; sparse: BERT's masked_lm_positions/ids/"
                         "weights")
    mk.add_argument("--max-predictions-per-seq", type=positive_int, default=None, metavar="N",
                    help="width of the sparse columns (default: --max-predictions)")
    mk.add_argument("--max-seq-length", type=positive_int, default=None, metavar="N",
                    help="longest sequence (instances: their length, default 128)")
    mk.add_argument("--truncate", action="store_true",
                    help="cut sequences longer than --max-seq-length instead of failing")
    mk.add_argument("--pad", action="store_true",
                    help="pad every row to --max-seq-length (adds attention_mask)")

    en = p.add_argument_group("engines")
    en.add_argument("--engine", choices=ENGINES, default="local",
                    help="run the job here (local) or on Ray Data / Spark, which write a "
                         "directory of Parquet files with the same rows (default: local)")
    en.add_argument("--ray-address", default=None, metavar="ADDR",
                    help="Ray cluster to join (default: $RAY_ADDRESS, else a local cluster)")
    en.add_argument("--spark-master", default="local[*]", metavar="URL",
                    help="Spark master (default: %(default)s)")

    pr = p.add_argument_group("sentence-pair instances")
    pr.add_argument("--instances", choices=("nsp", "sop", "single"), default=None,
                    help="first cut documents (lists of sentences) into BERT NSP pairs, ALBERT "
                         "SOP pairs or single segments")
    pr.add_argument("--short-seq-prob", type=probability, default=0.1, metavar="P",
                    help="chance of a shorter target length per document (default: 0.1)")
    pr.add_argument("--instance-seed", type=seed_int, default=None, metavar="SEED",
                    help="seed of the instance construction (default: the masking seed)")
    p.set_defaults(func=run)
    return p


# ---------------------------------------------------------------------------------------------
# running


class _State:
    """What :func:`run` needs to know when a run ends early."""

    out: Any = None


def _install_sigterm():
    """Turns SIGTERM into KeyboardInterrupt while the command runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum, frame):
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, handler)
    except (ValueError, OSError):
        return None


def run(args) -> int:
    """Runs ``fastmask prep`` with parsed arguments; returns the exit status: 0 on success,
    2 for a usage problem (options, missing packages, missing, unreadable or existing files),
    1 when the data cannot be processed, 130 when interrupted (SIGINT or SIGTERM) before the
    output was complete."""
    from .writers import OutputError

    old = _install_sigterm()
    state = _State()
    try:
        return _run(args, state)
    except KeyboardInterrupt:
        if state.out is not None and state.out.published:
            print(f"fastmask prep: interrupted after the output was complete: {state.out.path} "
                  "is written in full", file=sys.stderr)
            return 0
        print("fastmask prep: interrupted; no output was written", file=sys.stderr)
        return 130
    except (UsageError, OutputError, FileExistsError, FileNotFoundError,
            IsADirectoryError, NotADirectoryError) as e:
        print(f"fastmask prep: error: {flag_message(str(e), PREP_FLAGS)}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, OSError) as e:
        print(f"fastmask prep: error: {flag_message(str(e), PREP_FLAGS)}", file=sys.stderr)
        return 1
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)


def _require(module: str, what: str) -> None:
    try:
        importlib.import_module(module)
    except ImportError:
        raise UsageError(f"{what} needs the '{module}' package: {INSTALL_HINT}") from None


def _make_masker(kw: Dict[str, Any], whole_word: bool, word_table: Any):
    import fastmask

    try:
        return fastmask.Masker(**kw, whole_word=whole_word, word_table=word_table)
    except (ValueError, TypeError) as e:
        raise UsageError(f"masking options: {flag_message(str(e), PREP_FLAGS)}") from None


def _cpu_count() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def _vocab_facts(args, tokenizer) -> Dict[str, Any]:
    """The vocabulary facts: the tokenizer's (fastmask.vocab), overridden by the flags."""
    facts: Dict[str, Any] = {}
    if tokenizer is not None:
        from ..vocab import read_vocab

        v = read_vocab(tokenizer)
        facts.update(vocab_size=v.vocab_size, mask_token_id=v.mask_token_id,
                     pad_token_id=v.padding_id, cls_token_id=v.cls_token_id,
                     sep_token_id=v.sep_token_id, special_ids=list(v.special_ids))
    for name in ("vocab_size", "mask_token_id", "pad_token_id", "cls_token_id", "sep_token_id"):
        v = getattr(args, name)
        if v is not None:
            facts[name] = v
    if args.special_ids is not None:
        facts["special_ids"] = sorted(set(args.special_ids))
    facts.setdefault("special_ids", [])
    if facts.get("pad_token_id") is None:
        facts["pad_token_id"] = 0
    for need in ("vocab_size", "mask_token_id"):
        if facts.get(need) is None:
            raise UsageError(f"--{need.replace('_', '-')} is needed (or a --tokenizer that has "
                             "it)")
    extra = [facts.get("cls_token_id"), facts.get("sep_token_id")]
    facts["special_ids"] = sorted(set(facts["special_ids"]) | {x for x in extra if x is not None})
    return facts


def _check_options(args, nested: bool) -> None:
    if nested and args.max_seq_length is not None and \
            args.max_seq_length < (3 if args.instances == "single" else 5):
        raise UsageError(f"--max-seq-length {args.max_seq_length} is too short for "
                         f"--instances {args.instances}")
    if (args.pad or args.truncate) and args.max_seq_length is None and not nested:
        raise UsageError("--pad and --truncate need --max-seq-length")
    if args.layout == "sparse" and args.max_predictions_per_seq is None and \
            args.max_predictions is None:
        raise UsageError("--layout sparse needs --max-predictions-per-seq (or "
                         "--max-predictions)")


def _masker_options(args, facts: Dict[str, Any], seq_len: Optional[int]) -> Dict[str, Any]:
    selection, span_lengths = span_selection(args)
    max_pred = args.max_predictions
    if args.layout == "sparse" and max_pred is None:
        max_pred = args.max_predictions_per_seq
    return dict(
        vocab_size=facts["vocab_size"], mask_token_id=facts["mask_token_id"],
        pad_token_id=facts["pad_token_id"], special_ids=facts["special_ids"],
        mlm_probability=args.mlm_probability, mask_replace_prob=args.mask_replace_prob,
        random_replace_prob=args.random_replace_prob, selection=selection,
        max_predictions=max_pred, random_ids=args.random_ids,
        unigram_counts=unigram_counts(args), seed=resolve_seed(args),
        action=args.action, span_lengths=span_lengths,
        padding="max_length" if args.pad else "longest", max_length=seq_len,
        truncation=bool(args.truncate), dtype=args.dtype, num_threads=1)


def _load_tokenizer(path: str):
    from ..vocab import VocabError, load_tokenizer_file

    try:
        tok = load_tokenizer_file(path)
    except VocabError as e:
        raise UsageError(str(e)) from None
    tok.no_padding()  # sequences are written unpadded; the masker pads if asked
    return tok


def _read(args, fmt_in: str, out, tokenizer, nested: bool, seq_len, id_type, progress: bool):
    """Stage 1: the samples (or documents) as an Arrow table."""
    from . import readers
    from .writers import _IpcStage

    if fmt_in == "jsonl":
        return readers._read_jsonl(args.input, args.column, nested,
                                   _IpcStage(out.scratch("input.arrow")), id_type)
    if fmt_in == "npz":
        return readers._read_npz(args.input, args.column, nested)
    if fmt_in == "hf":
        return readers._read_hf(args.input, args.split)
    if fmt_in == "parquet":
        return readers._read_parquet(args.input, args.column)
    return readers._read_text(args.input, tokenizer, nested, args.whole_word, seq_len,
                              _IpcStage(out.scratch("input.arrow")), id_type, progress)


def _instances(args, table, column: str, facts, seed: int, seq_len: Any, out, threads: int,
               progress: bool, id_type, extra: Dict[str, Any]):
    """Stage 2 (optional): documents -> sentence-pair instances, staged on disk."""
    import pyarrow as pa

    from ..instances import Documents, create_instances
    from .writers import _IpcStage

    inst_seed = args.instance_seed if args.instance_seed is not None else seed
    ws_col = table.column("word_starts") if "word_starts" in table.column_names \
        else None
    docs = Documents.from_arrow(table.column(column), word_starts=ws_col)
    stage = _IpcStage(out.scratch("instances.arrow"))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(docs), unit="doc", desc="instances", dynamic_ncols=True)
    step = 20000 * threads
    try:
        for d0 in range(0, len(docs), step):
            d1 = min(len(docs), d0 + step)
            inst = create_instances(docs, cls_token_id=facts["cls_token_id"],
                                    sep_token_id=facts["sep_token_id"],
                                    max_seq_length=seq_len,
                                    short_seq_prob=args.short_seq_prob,
                                    task=args.instances, seed=inst_seed,
                                    start=d0, stop=d1, num_proc=threads)
            if len(inst):
                t = inst.to_arrow()
                t = t.set_column(0, column, t.column(0).cast(pa.list_(id_type)))
                for rb in t.to_batches():
                    stage.write(rb)
            if bar is not None:
                bar.update(d1 - d0)
    finally:
        if bar is not None:
            bar.close()
    del docs
    empty = create_instances([], cls_token_id=0, sep_token_id=0, task=args.instances,
                             max_seq_length=max(seq_len, 5)).to_arrow()
    empty = empty.set_column(0, column, empty.column(0).cast(pa.list_(id_type)))
    table = stage.close(empty.schema)
    extra.update({"instances": args.instances, "instance_seed": inst_seed,
                  "short_seq_prob": args.short_seq_prob, "max_seq_length": seq_len})
    return table


def _run(args, state: _State) -> int:
    from .api import _guess_format, write_static
    from .engines import check_engine, run_engine
    from .readers import _id_type, _input_format

    _require("pyarrow", "fastmask prep")
    progress = args.progress if args.progress is not None else sys.stderr.isatty()
    if progress and importlib.util.find_spec("tqdm") is None:
        if args.progress:
            raise UsageError(f"--progress needs the 'tqdm' package: {INSTALL_HINT}")
        progress = False
    threads = args.threads or _cpu_count()
    if not os.path.exists(args.input):
        raise FileNotFoundError(f"no such input: {args.input}")
    fmt_in = _input_format(args.input, args.input_format)
    check_engine(args.engine, args.output, args.output_format)
    fmt_out = args.output_format or ("parquet" if args.engine != "local" else
                                     _guess_format(args.output))
    if "hf" in (fmt_in, fmt_out):
        _require("datasets", "a saved Hugging Face dataset")
    tokenizer = None
    if args.tokenizer:
        _require("tokenizers", "--tokenizer")
        tokenizer = _load_tokenizer(args.tokenizer)
    elif fmt_in == "text":
        raise UsageError("text input needs --tokenizer (a local tokenizer.json)")
    facts = _vocab_facts(args, tokenizer)
    nested = args.instances is not None
    if nested:
        for need in ("cls_token_id", "sep_token_id"):
            if facts.get(need) is None:
                raise UsageError(f"--instances needs --{need.replace('_', '-')} (or a "
                                 "--tokenizer with [CLS]/[SEP])")
    _check_options(args, nested)
    keep = [c for c in args.keep_columns.split(",") if c]
    seq_len = args.max_seq_length if args.max_seq_length is not None else (128 if nested
                                                                           else None)
    id_type = _id_type(facts["vocab_size"])
    masker_kw = _masker_options(args, facts, seq_len)
    seed = masker_kw["seed"]
    _make_masker(masker_kw, False, None)  # check the options before any work is done

    from .writers import _AtomicOutput

    out = state.out = _AtomicOutput(args.output, args.overwrite)
    if out.removed_stale:
        n = _count(len(out.removed_stale), "temporary directory", "temporary directories")
        print(f"fastmask prep: removed {n} left by earlier runs that did not finish",
              file=sys.stderr)
    try:
        if fmt_in == "parquet" and not nested:
            from ..parquet import ParquetCorpus

            # read row group by row group by write_static or the engine's workers
            data: Any = args.input
            schema = ParquetCorpus(args.input, column=args.column).schema
            names = schema.names if schema is not None else []
        else:
            data = _read(args, fmt_in, out, tokenizer, nested, seq_len, id_type, progress)
            names = data.column_names
        column = args.column if fmt_in != "text" else "input_ids"
        if column not in names:
            raise UsageError(f"the input has no column {column!r} (columns: "
                             f"{', '.join(names)})")
        missing = [c for c in keep + [args.sample_id_column or column] if c not in names]
        if missing:
            what = "--keep-columns" if missing[0] in keep else "--sample-id-column"
            raise UsageError(f"{what}: no column {missing[0]!r} in the input (columns: "
                             f"{', '.join(names)})")
        has_words = any(c in names for c in ("word_starts", "word_ids"))
        word_table = None
        if args.whole_word and not has_words:
            if tokenizer is None:
                raise UsageError("--whole-word needs word boundaries: a word_ids/word_starts "
                                 "column in the input, or a --tokenizer to build a word table")
            word_table = tokenizer
        extra: Dict[str, Any] = {"input": os.path.abspath(args.input), "input_format": fmt_in}
        if nested:
            data = _instances(args, data, column, facts, seed, seq_len, out, threads,
                              progress, id_type, extra)
        masker = _make_masker(masker_kw, args.whole_word, word_table)
        extra["masker_options"] = {k: v for k, v in masker_kw.items()
                                   if k not in ("num_threads", "unigram_counts")}
        if masker_kw.get("unigram_counts") is not None:
            # the counts themselves can be large: the output records the file they came from
            extra["masker_options"]["unigram_counts"] = os.path.abspath(args.unigram_counts)
        extra["masker_options"]["whole_word"] = args.whole_word
        compression = None if args.compression == "none" else args.compression
        if args.engine != "local":
            stats = run_engine(args.engine, data, args.output, masker, out, column=column,
                               sample_id_column=args.sample_id_column,
                               dupe_factor=args.dupe_factor, layout=args.layout,
                               max_predictions_per_seq=args.max_predictions_per_seq,
                               keep_columns=keep, batch_size=args.batch_size,
                               compression=compression, overwrite=args.overwrite,
                               ray_address=args.ray_address, spark_master=args.spark_master)
        else:
            stats = write_static(data, args.output, masker, dupe_factor=args.dupe_factor,
                                 output_format=fmt_out, column=column, layout=args.layout,
                                 max_predictions_per_seq=args.max_predictions_per_seq,
                                 keep_columns=keep, batch_size=args.batch_size,
                                 num_threads=threads, shard_size=args.shard_size,
                                 progress=progress, metadata=extra, _output=out,
                                 compression=compression,
                                 sample_id_column=args.sample_id_column)
    except BaseException:
        out.abort()
        raise
    print(summary_line(stats, seed), file=sys.stderr)
    return 0


# ---------------------------------------------------------------------------------------------
# the summary


def _count(n: int, one: str, many: Optional[str] = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _duration(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1e3:.0f} ms"


def _rate(tokens: int, seconds: float) -> str:
    if seconds <= 0:
        return "too fast to time"
    r = tokens / seconds
    for scale, unit in ((1e9, "G "), (1e6, "M "), (1e3, "k ")):
        if r >= scale:
            return f"{r / scale:.3g} {unit}tokens/s".replace("  ", " ")
    return f"{r:.0f} tokens/s"


def summary_line(stats, seed: int) -> str:
    """The line ``fastmask prep`` ends with: rows, samples x copies, tokens, time and rate."""
    return (f"fastmask prep: wrote {_count(stats.rows, 'row')} "
            f"({_count(stats.samples, 'sample')} x {_count(stats.dupe_factor, 'copy', 'copies')}"
            f", {_count(stats.tokens, 'token')}) to {stats.path} in {_duration(stats.seconds)} "
            f"({_rate(stats.tokens, stats.seconds)}); seed {seed}")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m fastmask.prep ...``: the ``prep`` command on its own (the same options and
    exit codes as ``fastmask prep``)."""
    parser = argparse.ArgumentParser(prog="fastmask")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    args = parser.parse_args(["prep", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
