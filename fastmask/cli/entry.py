"""The ``fastmask`` entry point: the top-level parser and :func:`main`.

Exit codes: 0 on success, 2 for a usage problem (a bad option, a file that cannot be read, a
missing optional package), 1 when something fails while running, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Optional, Sequence

from .args import PROG, Formatter, UsageError, wrap
from .bench import add_bench_parser
from .demo import add_demo_parser
from .show import add_show_parser

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog=PROG, formatter_class=Formatter,
        description=wrap("fastmask: fast, reproducible masked-language-model batches "
                         "(80/10/10, whole-word and span masking, padding)."),
        epilog=f"Start with `{PROG} demo`. `{PROG} COMMAND --help` describes a command.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    add_demo_parser(sub)
    add_bench_parser(sub)
    add_show_parser(sub)
    _add_prep(sub)
    return parser


def _add_prep(sub) -> None:
    """Registers ``fastmask prep`` (its module imports without its optional packages; a broken
    module still gets a ``prep`` entry that reports the error)."""
    try:
        from ..prep import command
    except Exception as e:
        err = f"{type(e).__name__}: {e}"
        p = sub.add_parser("prep", help="prepare a corpus (unavailable: see --help)",
                           description=f"fastmask.prep failed to import: {err}")

        def broken(args):
            raise UsageError(f"fastmask.prep failed to import: {err}")

        p.set_defaults(func=broken)
        return
    command.add_parser(sub)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the ``fastmask`` command line on ``argv`` (default: ``sys.argv[1:]``); returns the
    exit status."""
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
