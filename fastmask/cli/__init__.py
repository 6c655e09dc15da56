"""The ``fastmask`` command line: ``demo``, ``bench``, ``show`` and ``prep``.

Layout: :mod:`~fastmask.cli.entry` (the parser and :func:`main`), :mod:`~fastmask.cli.args`
(argument types, the one :class:`UsageError`, the shared masking and vocabulary options),
:mod:`~fastmask.cli.text` (tokenizers for show/demo), :mod:`~fastmask.cli.show`,
:mod:`~fastmask.cli.demo` and :mod:`~fastmask.cli.bench` (the ``bench`` options, wired to the
benchmark engine). The ``prep`` command lives with the rest of corpus preparation, in
:mod:`fastmask.prep.command`.
"""

from .args import PROG, UsageError
from .bench import BENCH_DESCRIPTION, cmd_bench
from .demo import DEMO_DESCRIPTION, DEMO_SENTENCES, cmd_demo
from .entry import build_parser, main
from .show import SHOW_DESCRIPTION, Style, cmd_show, legend, mask_texts, render
from .text import (
                   SPECIALS,
                   SimpleWordPiece,
                   TextTokenizer,
                   cache_dir,
                   demo_corpus,
                   load_text_tokenizer,
)

__all__ = ["main", "build_parser", "load_text_tokenizer", "TextTokenizer", "SimpleWordPiece",
           "UsageError", "Style", "PROG", "legend", "render", "mask_texts", "cache_dir",
           "demo_corpus", "cmd_show", "cmd_demo", "cmd_bench", "SPECIALS", "DEMO_SENTENCES",
           "DEMO_DESCRIPTION", "BENCH_DESCRIPTION", "SHOW_DESCRIPTION"]
