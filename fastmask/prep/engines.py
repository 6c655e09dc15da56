"""``fastmask prep --engine ray|spark``: the command's job run by Ray Data or Spark.

The input is read by the engine when it is Parquet (:func:`fastmask.ray.read_parquet`,
:func:`fastmask.spark.read_parquet`: the workers read the row groups), and handed over as an
Arrow table otherwise. Rows are keyed like the local path: by ``--sample-id-column``, checked
over the whole input on the driver first (only that column is read), or by the row index. The
engine writes into the command's atomic output (:class:`fastmask._engines.StagedDirectory`),
so an error or an interruption leaves nothing under the output path.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any, Dict, Optional, Sequence

from ..cli.args import UsageError

__all__ = ["ENGINES", "check_engine"]

ENGINES = ("local", "ray", "spark")
#: what each engine needs installed, and the extra that installs it
_NEEDS = {"ray": ("ray", "ray.data"), "spark": ("pyspark", "pyspark.sql")}


def check_engine(engine: str, output: str, output_format: Optional[str]) -> None:
    """A UsageError (exit 2) when the engine is not installed or cannot write ``output``."""
    if engine == "local":
        return
    for mod in _NEEDS[engine]:
        try:
            found = importlib.util.find_spec(mod) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise UsageError(f"--engine {engine} needs {_NEEDS[engine][0]}, which is not "
                             f"installed: pip install 'fastmask[{engine}]'")
    if output.lower().endswith((".parquet", ".pq")):
        raise UsageError(f"--engine {engine} writes a directory of Parquet files; {output} "
                         "names a single .parquet file (pick a directory name)")
    if output_format not in (None, "parquet"):
        raise UsageError(f"--engine {engine} writes Parquet (--output-format parquet), not "
                         f"{output_format}")


def _worker_path() -> str:
    """PYTHONPATH for workers on this machine: the directory holding this fastmask first."""
    import fastmask

    root = os.path.dirname(os.path.dirname(os.path.abspath(fastmask.__file__)))
    return os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)


def _with_row_ids(table, name: str):
    import numpy as np
    import pyarrow as pa

    if name in table.column_names:
        raise UsageError(f"the input already has a column {name!r}; pass --sample-id-column "
                         f"{name} to use it as the sample ids")
    return table.add_column(0, name, pa.array(np.arange(table.num_rows, dtype=np.int64)))


def run_engine(engine: str, data: Any, output: str, masker, out, *, column: str,
               sample_id_column: Optional[str], dupe_factor: int, layout: str,
               max_predictions_per_seq: Optional[int], keep_columns: Sequence[str],
               batch_size: int, compression: Optional[str], overwrite: bool,
               ray_address: Optional[str], spark_master: str):
    """Runs the static-masking job of ``data`` (a Parquet path or an Arrow table) on ``engine``;
    returns the engine's :class:`~fastmask.prep.PrepStats`."""
    from .api import _check_ids, _is_path

    sid = sample_id_column or "sample_id"
    if _is_path(data):
        from ..parquet import ParquetCorpus

        if sample_id_column is not None:
            _check_ids(ParquetCorpus(os.fspath(data), column=column), sample_id_column)
    elif sample_id_column is not None:
        _check_ids(data, sample_id_column)
    else:
        data = _with_row_ids(data, sid)
    opts: Dict[str, Any] = dict(dupe_factor=dupe_factor, column=column, sample_id_column=sid,
                                layout=layout, max_predictions_per_seq=max_predictions_per_seq,
                                keep_columns=keep_columns, compression=compression,
                                overwrite=overwrite, _output=out)
    read_ids = None if sample_id_column is not None else sid
    if engine == "ray":
        return _ray(data, output, masker, opts, read_ids, batch_size, ray_address)
    return _spark(data, output, masker, opts, read_ids, batch_size, spark_master)


def _ray(data, output, masker, opts, read_ids, batch_size, address):
    import ray

    from .. import ray as fray
    from .api import _is_path

    address = address or os.environ.get("RAY_ADDRESS") or None
    started = not ray.is_initialized()
    if started:
        kw: Dict[str, Any] = dict(include_dashboard=False, log_to_driver=False)
        if address is None:  # a local cluster: its workers import this fastmask
            kw["runtime_env"] = {"env_vars": {"PYTHONPATH": _worker_path()}}
        ray.init(address=address, **kw)
        ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        if _is_path(data):
            ds = fray.read_parquet(os.fspath(data), column=opts["column"],
                                   sample_id_column=read_ids, batch_size=batch_size)
        else:
            ds = ray.data.from_arrow(data)
        return fray.write_static(ds, output, masker, batch_size=batch_size, **opts)
    finally:
        if started:
            ray.shutdown()


def _spark(data, output, masker, opts, read_ids, batch_size, master):
    from .. import spark as fspark
    from .api import _is_path

    spark = fspark.session(master, "fastmask-prep", conf={
        "spark.ui.enabled": "false", "spark.executorEnv.PYTHONPATH": _worker_path(),
        "spark.sql.execution.arrow.maxRecordsPerBatch": batch_size})
    try:
        if _is_path(data):
            df = fspark.read_parquet(spark, os.fspath(data), column=opts["column"],
                                     sample_id_column=read_ids, batch_size=batch_size)
        else:
            df = spark.createDataFrame(data)
        return fspark.write_static(df, output, masker, **opts)
    finally:
        spark.stop()
