"""Masking a Ray Data ``Dataset``: one epoch, or BERT's ``dupe_factor`` static copies.

::

    import ray
    from fastmask.ray import mask_dataset, write_static

    ds = ray.data.read_parquet("tokenized/")          # input_ids + sample_id columns
    masked = mask_dataset(ds, masker, dupe_factor=10)   # a lazy Dataset
    stats = write_static(ds, "masked/", masker, dupe_factor=10)

Copy ``j`` of a row is masked with ``epoch=j`` and the row's sample id (the
``sample_id_column``), so it equals ``masker([row], sample_ids=[id], epoch=j)``, the local
:func:`fastmask.prep.write_static` and the torch collator with ``dupe_factor``, whatever the
blocks, batch sizes or workers. Each input batch is read once and gives its copies one after
another; rows come in block order (sort by ``(copy, sample_id)`` when order matters).

Ray is imported when a function is called; without it the call raises an ImportError saying
``pip install fastmask[ray]``. The workers must be able to import fastmask (install it on every
node, or ship it with a ``runtime_env``).
"""

from __future__ import annotations

import time
from typing import Any, Iterator, Optional, Sequence

from . import _engines as E

__all__ = ["mask_dataset", "read_parquet", "write_static"]

_WHAT = "fastmask.ray"


def _ray():
    return E.require("ray.data", "ray", _WHAT)


def _arrow_schema(ds) -> Any:
    """The input's pyarrow schema, or None when Ray cannot tell it without running."""
    import pyarrow as pa

    schema = ds.schema()
    if schema is None:
        return None
    base = getattr(schema, "base_schema", schema)
    return base if isinstance(base, pa.Schema) else None


def _mask_table(table, job: E.CopyJob) -> Iterator[Any]:
    """``map_batches`` function: the masked copies of one block batch, one table per epoch."""
    import pyarrow as pa

    for rb in table.to_batches():
        if rb.num_rows:
            for out in job.copies(rb):
                yield pa.Table.from_batches([out])


def _read_pieces(batch, corpus, sample_id_column: Optional[str], batch_size: int):
    """``map_batches`` function: the rows of the row groups listed in ``batch``."""
    import pyarrow as pa

    from .parquet import Piece

    for r in batch.to_pylist():
        for rb in corpus.read_piece(Piece(**r), batch_size, sample_id_column):
            yield pa.Table.from_batches([rb])


def read_parquet(path: str, *, column: str = "input_ids", columns: Optional[Sequence[str]] = None,
                 sample_id_column: Optional[str] = "sample_id", batch_size: int = 4096,
                 **map_batches_args) -> Any:
    """A Parquet corpus (a file or a directory of shards) as a Ray ``Dataset``, one block per
    row group, in the stable order of :mod:`fastmask.parquet`.

    With ``sample_id_column`` (default ``"sample_id"``) every row gets an int64 column of
    that name holding its global row index, the sample id the local
    :func:`fastmask.prep.write_static` uses by default; pass ``None`` when the corpus stores
    its own ids. Only the footers are read on the driver; the workers read the row groups
    (the path must be visible to them). The ids do not depend on scheduling; the order in
    which Ray hands out the blocks does, unless ``DataContext.execution_options.preserve_order``
    is set.
    """
    from .parquet import ParquetCorpus

    rd = _ray()
    corpus = ParquetCorpus(path, column=column, columns=columns)
    batch_size = E.positive("batch_size", batch_size)
    pieces = [{"file": p.file, "row_group": p.row_group, "start": p.start,
               "num_rows": p.num_rows} for p in corpus.pieces]
    ds = rd.from_items(pieces, override_num_blocks=max(1, len(pieces)))
    return ds.map_batches(_read_pieces, batch_format="pyarrow", batch_size=1,
                          fn_kwargs={"corpus": corpus, "sample_id_column": sample_id_column,
                                     "batch_size": batch_size}, **map_batches_args)


def _check_unique(ds, sample_id_column: str) -> None:
    """A pass over the sample ids: an id that occurs twice is a ValueError naming it."""
    counts = ds.select_columns([sample_id_column]).groupby(sample_id_column).count()
    dup = counts.filter(lambda r: r["count()"] > 1)
    rows = dup.sort(sample_id_column).take(1)
    if rows:
        r = rows[0]
        raise ValueError(f"{sample_id_column}: sample id {r[sample_id_column]} occurs "
                         f"{r['count()']} times; every row needs its own id")


def mask_dataset(ds, masker, *, epoch: Optional[int] = None, dupe_factor: int = 1,
                 column: str = "input_ids", sample_id_column: str = "sample_id",
                 layout: str = "dense", max_predictions_per_seq: Optional[int] = None,
                 keep_columns: Sequence[str] = (), batch_size: int = 4096,
                 check_unique: bool = False, **map_batches_args) -> Any:
    """The masked copies of a Ray ``Dataset``, as a lazy ``Dataset``.

    Args:
        ds: a ``ray.data.Dataset`` with a list-of-integers ``column`` (any integer type) and an
            integer ``sample_id_column`` (unique, ``0 <= id < 2**48``).
        masker: the configured :class:`fastmask.Masker` (shipped to the workers).
        epoch: mask this one epoch (the output's ``copy`` column holds it); or
        dupe_factor: write copies ``0 .. dupe_factor - 1`` (BERT's static masking), each input
            batch's copies one after another.
        layout, max_predictions_per_seq: as :func:`fastmask.arrow.mask_batch`: ``"dense"``
            (``input_ids`` + ``labels``) or ``"sparse"`` (BERT's ``masked_lm_*`` columns).
        keep_columns: more input columns copied into every output row (``token_type_ids`` and
            NSP/SOP label columns are carried when present).
        batch_size: rows per masked batch.
        check_unique: first run a pass (a groupby over the ids) that fails on a repeated id.
            Without it, ids are checked batch by batch: nulls, negative ids, ids not below
            2**48 and ids repeated within a batch are errors naming the row in the batch.
        map_batches_args: passed to ``Dataset.map_batches`` (``num_cpus``, ``concurrency``,
            ``runtime_env``, ...).

    Returns:
        A ``Dataset`` with columns ``sample_id_column`` (int64), ``copy`` (int32), the masked
        columns and the carried ones, in the masker's ``dtype``.
    """
    return _masked(ds, masker, epoch, dupe_factor, column, sample_id_column, layout,
                   max_predictions_per_seq, keep_columns, batch_size, check_unique,
                   map_batches_args)[0]


def _masked(ds, masker, epoch, dupe_factor, column, sample_id_column, layout,
            max_predictions_per_seq, keep_columns, batch_size, check_unique, map_batches_args):
    """(the masked Dataset, its CopyJob)."""
    _ray()
    epochs = E.epochs_of(epoch, dupe_factor)
    batch_size = E.positive("batch_size", batch_size)
    schema = _arrow_schema(ds)
    names = schema.names if schema is not None else list(ds.columns())
    job = E.CopyJob(masker, names, epochs=epochs, column=column,
                    sample_id_column=sample_id_column, layout=layout,
                    max_predictions_per_seq=max_predictions_per_seq, keep_columns=keep_columns)
    if schema is not None:
        job.bind(schema)
    if check_unique:
        _check_unique(ds, sample_id_column)
    masked = ds.map_batches(_mask_table, batch_format="pyarrow", batch_size=batch_size,
                            zero_copy_batch=True, fn_kwargs={"job": job}, **map_batches_args)
    return masked, job


def write_static(ds, path: str, masker, *, dupe_factor: int = 1, epoch: Optional[int] = None,
                 column: str = "input_ids", sample_id_column: str = "sample_id",
                 layout: str = "dense", max_predictions_per_seq: Optional[int] = None,
                 keep_columns: Sequence[str] = (), batch_size: int = 4096,
                 compression: Optional[str] = "snappy", overwrite: bool = False,
                 check_unique: bool = False, min_rows_per_file: Optional[int] = None,
                 _output: Optional[E.StagedDirectory] = None, **map_batches_args):
    """Writes the masked copies of ``ds`` (see :func:`mask_dataset`) as a directory of Parquet
    files; returns a :class:`fastmask.prep.PrepStats`.

    A local (or shared, mounted) ``path`` is written under a hidden temporary directory beside
    it and renamed into place when complete, so an error or an interruption leaves nothing
    under ``path``; ``_fastmask.json`` in it records the seed and options. A URI
    (``s3://...``) is written in place by Ray, and ``_fastmask.json`` is written last. The
    stats count rows and ids from the Parquet footers (``tokens``: ids in ``column``, padding
    included when the masker pads); for URIs they are not counted (0).
    """
    from .prep.api import PrepStats

    masked, job = _masked(ds, masker, epoch, dupe_factor, column, sample_id_column, layout,
                          max_predictions_per_seq, keep_columns, batch_size, check_unique,
                          map_batches_args)
    meta = dict(job.metadata(), engine="ray")
    opts = {"compression": compression or "none", "use_dictionary": False}
    if min_rows_per_file is not None:
        opts["min_rows_per_file"] = E.positive("min_rows_per_file", min_rows_per_file)
    t0 = time.perf_counter()
    return PrepStats(**E.write_copies(path, lambda d: masked.write_parquet(d, **opts), job, meta,
                                      column, overwrite, _output, t0))

