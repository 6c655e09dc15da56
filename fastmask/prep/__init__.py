"""Static masking of whole corpora, and the ``fastmask prep`` command.

BERT masks its corpus once, while preparing the data, and writes ``dupe_factor`` copies of it,
each masked differently. :func:`write_static` does that with the C core: copy ``j`` of sample
``i`` is exactly what ``Masker(...)(sample, sample_ids=[i], epoch=j)`` returns, which is also
what the torch collator's ``dupe_factor=k`` option feeds the model at epoch ``j`` (epochs run
``j mod k``). The output is a Parquet file or a saved Hugging Face dataset, with the copies one
after another (copy 0 of every sample, then copy 1, ...), and columns ``sample_id`` and
``copy`` that name each row.

Writing is atomic: everything goes to a hidden temporary directory next to the output and is
moved into place only when complete, so an interrupted run leaves no file under the output
name; a later run removes the temporary directories of runs that were killed.

The package: :mod:`~fastmask.prep.api` (:func:`write_static`, :func:`iter_static`,
:func:`as_table`, :class:`PrepStats`), :mod:`~fastmask.prep.readers` (the command's inputs:
JSON Lines, ragged ``.npz``, saved datasets, Parquet, raw text with a ``tokenizer.json``),
:mod:`~fastmask.prep.engines` (``--engine ray|spark``),
:mod:`~fastmask.prep.writers` (Parquet / Arrow writers, the atomic output) and
:mod:`~fastmask.prep.command` (``fastmask prep``). pyarrow is imported when first needed.
"""

from ..cli.args import UsageError
from .api import OUTPUT_FORMATS, PrepStats, as_table, iter_static, write_static
from .command import add_parser, main, run
from .readers import INPUT_FORMATS

__all__ = ["PrepStats", "UsageError", "iter_static", "write_static", "as_table", "add_parser",
           "run", "main", "INPUT_FORMATS", "OUTPUT_FORMATS"]
