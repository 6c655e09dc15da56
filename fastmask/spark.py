"""Masking a Spark ``DataFrame``: one epoch, or BERT's ``dupe_factor`` static copies.

::

    from fastmask.spark import mask_dataframe, session, write_static

    spark = session("local[*]")                          # or your own SparkSession
    df = spark.read.parquet("tokenized/")                # input_ids + sample_id columns
    masked = mask_dataframe(df, masker, dupe_factor=10)  # a lazy DataFrame
    stats = write_static(df, "masked/", masker, dupe_factor=10)

The work is one ``mapInArrow`` over Arrow record batches: copy ``j`` of a row is masked with
``epoch=j`` and the row's sample id (the ``sample_id_column``), so it equals
``masker([row], sample_ids=[id], epoch=j)``, the local :func:`fastmask.prep.write_static` and
the torch collator with ``dupe_factor``, whatever the partitioning. The output schema follows
the masker's ``dtype``: ``int32`` gives ``array<int>`` id columns, ``int64`` ``array<bigint>``;
the sparse layout's fixed-width columns are plain arrays (Spark has no fixed-size lists).

The Python workers run the driver's interpreter (``sys.executable``) unless one was chosen
with ``PYSPARK_PYTHON`` or ``spark.pyspark.python``; on a cluster whose nodes keep Python
elsewhere, set one of those. The workers must be able to import fastmask.

pyspark is imported when a function is called; without it the call raises an ImportError saying
``pip install fastmask[spark]``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sys
import time
from typing import Any, Dict, Iterator, Optional, Sequence

from . import _engines as E

__all__ = ["mask_dataframe", "read_parquet", "session", "worker_python", "write_static"]

_WHAT = "fastmask.spark"


def _pyspark():
    return E.require("pyspark.sql", "spark", _WHAT)


def session(master: str = "local[*]", app_name: str = "fastmask",
            conf: Optional[Dict[str, Any]] = None):
    """A ``SparkSession`` on ``master`` (``getOrCreate``: an active session is reused) whose
    Python workers run :func:`worker_python`; ``conf`` holds more Spark settings
    (``{"spark.driver.memory": "4g"}``)."""
    sql = _pyspark()
    b = sql.SparkSession.builder.master(master).appName(app_name)
    b = b.config("spark.pyspark.python", worker_python(None))
    for k, v in (conf or {}).items():
        b = b.config(k, str(v))
    return b.getOrCreate()


def worker_python(spark) -> str:
    """The interpreter of the Python workers: ``PYSPARK_PYTHON``, else the session's
    ``spark.pyspark.python``, else the driver's own interpreter."""
    exe = os.environ.get("PYSPARK_PYTHON")
    if exe:
        return exe
    if spark is not None:
        try:
            conf = spark.sparkContext.getConf().get("spark.pyspark.python")
        except Exception:  # Spark Connect sessions have no SparkContext here
            conf = None
        if conf:
            return conf
    return sys.executable


@contextlib.contextmanager
def _workers_run(spark):
    """Python functions created inside run on :func:`worker_python`'s interpreter."""
    try:
        sc = spark.sparkContext
    except Exception:  # Spark Connect: the server picks the interpreter
        yield
        return
    old = sc.pythonExec
    sc.pythonExec = worker_python(spark)
    try:
        yield
    finally:
        sc.pythonExec = old


def _mask_batches(batches: Iterator[Any], job: E.CopyJob) -> Iterator[Any]:
    """``mapInArrow`` function: every input batch's copies, one batch per epoch."""
    for rb in batches:
        if rb.num_rows:
            yield from job.copies(rb)


def _spark_arrow_type(t):
    """An Arrow type Spark can hold: unsigned integers become the next wider signed type
    (uint64: int64, with a checked cast), nested lists alike."""
    import pyarrow as pa

    if pa.types.is_unsigned_integer(t):
        return {8: pa.int16(), 16: pa.int32(), 32: pa.int64(), 64: pa.int64()}[t.bit_width]
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return pa.list_(_spark_arrow_type(t.value_type))
    return t


def _read_pieces(batches, corpus, schema, sample_id_column: Optional[str], batch_size: int):
    """``mapInArrow`` function: the rows of the row groups whose indices come in (a
    partition holds consecutive ones, so rows keep the corpus order)."""
    for b in batches:
        for i in b.column(0).to_pylist():
            for rb in corpus.read_piece(corpus.pieces[i], batch_size, sample_id_column):
                yield rb.cast(schema)


def read_parquet(spark, path: str, *, column: str = "input_ids",
                 columns: Optional[Sequence[str]] = None,
                 sample_id_column: Optional[str] = "sample_id", batch_size: int = 4096):
    """A Parquet corpus (a file or a directory of shards) as a Spark ``DataFrame``, its row
    groups spread over at most ``4 x defaultParallelism`` partitions, in the stable order of
    :mod:`fastmask.parquet`.

    With ``sample_id_column`` (default ``"sample_id"``) every row gets a bigint column of that
    name holding its global row index, the sample id the local
    :func:`fastmask.prep.write_static` uses by default; pass ``None`` when the corpus stores
    its own ids. Unsigned integer columns become the next wider signed type (Spark has no
    unsigned types). Only the footers are read on the driver; the workers read the row groups
    (the path must be visible to them). ``spark.read.parquet`` reads the same rows but numbers
    none of them.
    """
    import pyarrow as pa

    from .parquet import ParquetCorpus

    _pyspark()
    from pyspark.sql.pandas.types import from_arrow_schema

    corpus = ParquetCorpus(path, column=column, columns=columns)
    batch_size = E.positive("batch_size", batch_size)
    fields = [pa.field(f.name, _spark_arrow_type(f.type)) for f in corpus.schema]
    if sample_id_column is not None:
        fields.insert(0, pa.field(sample_id_column, pa.int64()))
    schema = pa.schema(fields)
    # a few row groups per partition: Spark's cost per task is high next to a row group's
    n = max(1, min(len(corpus.pieces), 4 * spark.sparkContext.defaultParallelism))
    ids = spark.range(0, len(corpus.pieces), numPartitions=n)
    with _workers_run(spark):
        return ids.mapInArrow(functools.partial(_read_pieces, corpus=corpus, schema=schema,
                                                sample_id_column=sample_id_column,
                                                batch_size=batch_size),
                              from_arrow_schema(schema))


def _check_unique(df, sample_id_column: str) -> None:
    """A pass over the sample ids: an id that occurs twice is a ValueError naming it."""
    from pyspark.sql import functions as F

    rows = (df.groupBy(sample_id_column).count().where(F.col("count") > 1)
            .orderBy(sample_id_column).limit(1).collect())
    if rows:
        r = rows[0]
        raise ValueError(f"{sample_id_column}: sample id {r[0]} occurs {r[1]} times; every "
                         "row needs its own id")


def _masked(df, masker, epoch, dupe_factor, column, sample_id_column, layout,
            max_predictions_per_seq, keep_columns, check_unique):
    """(the masked DataFrame, its CopyJob)."""
    _pyspark()
    from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

    epochs = E.epochs_of(epoch, dupe_factor)
    job = E.CopyJob(masker, df.columns, epochs=epochs, column=column,
                    sample_id_column=sample_id_column, layout=layout,
                    max_predictions_per_seq=max_predictions_per_seq, keep_columns=keep_columns,
                    variable_lists=True)
    job.bind(to_arrow_schema(df.schema))
    if check_unique:
        _check_unique(df, sample_id_column)
    spark = df.sparkSession
    with _workers_run(spark):
        out = df.mapInArrow(functools.partial(_mask_batches, job=job),
                            from_arrow_schema(job.schema))
    return out, job


def mask_dataframe(df, masker, *, epoch: Optional[int] = None, dupe_factor: int = 1,
                   column: str = "input_ids", sample_id_column: str = "sample_id",
                   layout: str = "dense", max_predictions_per_seq: Optional[int] = None,
                   keep_columns: Sequence[str] = (), check_unique: bool = False):
    """The masked copies of a Spark ``DataFrame``, as a lazy ``DataFrame``.

    Args:
        df: a DataFrame with an ``array<int>`` / ``array<bigint>`` / ... ``column`` and an
            integer ``sample_id_column`` (unique, ``0 <= id < 2**48``).
        masker: the configured :class:`fastmask.Masker` (shipped to the workers).
        epoch: mask this one epoch (the output's ``copy`` column holds it); or
        dupe_factor: write copies ``0 .. dupe_factor - 1`` (BERT's static masking), each input
            batch's copies one after another.
        layout, max_predictions_per_seq: as :func:`fastmask.arrow.mask_batch`.
        keep_columns: more input columns copied into every output row (``token_type_ids`` and
            NSP/SOP label columns are carried when present).
        check_unique: first run a pass (a groupBy over the ids) that fails on a repeated id.
            Without it, ids are checked batch by batch: nulls, negative ids, ids not below
            2**48 and ids repeated within a batch fail the task, naming the row in the batch.

    Batch sizes are Spark's (``spark.sql.execution.arrow.maxRecordsPerBatch``, 10 000 rows by
    default). Errors in the data surface when the DataFrame is computed, as Spark's
    ``PythonException`` (:func:`write_static` turns them back into ``ValueError``).

    Returns:
        A DataFrame with columns ``sample_id_column`` (bigint), ``copy`` (int), the masked
        columns and the carried ones.
    """
    return _masked(df, masker, epoch, dupe_factor, column, sample_id_column, layout,
                   max_predictions_per_seq, keep_columns, check_unique)[0]


_PY_ERROR = re.compile(r"^(ValueError|TypeError): (.*)$", re.M)


def _data_error(e: BaseException) -> Optional[BaseException]:
    """The ValueError / TypeError a Python worker raised, from Spark's wrapped exception."""
    found = _PY_ERROR.findall(str(e))
    if not found:
        return None
    kind, msg = found[-1]
    return (ValueError if kind == "ValueError" else TypeError)(msg)


def write_static(df, path: str, masker, *, dupe_factor: int = 1, epoch: Optional[int] = None,
                 column: str = "input_ids", sample_id_column: str = "sample_id",
                 layout: str = "dense", max_predictions_per_seq: Optional[int] = None,
                 keep_columns: Sequence[str] = (), compression: Optional[str] = "snappy",
                 overwrite: bool = False, check_unique: bool = False,
                 _output: Optional[E.StagedDirectory] = None):
    """Writes the masked copies of ``df`` (see :func:`mask_dataframe`) as a directory of
    Parquet files with Spark's writer; returns a :class:`fastmask.prep.PrepStats`.

    A local (or shared, mounted) ``path`` is written under a hidden temporary directory beside
    it and renamed into place when complete, so an error or an interruption leaves nothing
    under ``path``; ``_fastmask.json`` in it records the seed and options. A URI
    (``s3a://...``, ``hdfs://...``) is written in place by Spark (which adds ``_SUCCESS``),
    then ``_fastmask.json``. The stats count rows and ids from the Parquet footers
    (``tokens``: ids in ``column``, padding included when the masker pads); for URIs they are
    not counted (0). A ``ValueError`` / ``TypeError`` raised on a worker (bad ids, an id out of
    the vocabulary) is raised again as such, with the worker's message.
    """
    from .prep.api import PrepStats

    masked, job = _masked(df, masker, epoch, dupe_factor, column, sample_id_column, layout,
                          max_predictions_per_seq, keep_columns, check_unique)
    meta = dict(job.metadata(), engine="spark")
    writer = (masked.write.option("compression", compression or "none")
              .option("parquet.enable.dictionary", "false"))
    t0 = time.perf_counter()

    def run(target: str) -> None:
        from pyspark.errors import PythonException

        try:
            writer.mode("errorifexists").parquet(target)
        except PythonException as e:
            err = _data_error(e)
            if err is None:
                raise
            raise err from None
        except Exception as e:  # the JVM wraps the worker's error in a SparkException
            err = _data_error(e) if "PythonException" in str(e) else None
            if err is None:
                raise
            raise err from None

    return PrepStats(**E.write_copies(path, run, job, meta, column, overwrite, _output, t0))
