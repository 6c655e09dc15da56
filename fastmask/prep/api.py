"""The library side of static masking: :func:`write_static`, :func:`iter_static`,
:func:`as_table` and :class:`PrepStats`.

Copy ``j`` of sample ``i`` is exactly what ``Masker(...)(sample, sample_ids=[i], epoch=j)``
returns. Batches are masked by a pool of threads (the C kernels run without the GIL) while the
main thread writes; the output is published atomically (:mod:`fastmask.prep.writers`).
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Dict, Generator, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from .._engines import CopyJob, check_sample_ids
from .writers import _AtomicOutput, _FileWriter, _Progress, _save_hf

__all__ = ["PrepStats", "iter_static", "write_static", "as_table", "OUTPUT_FORMATS"]

OUTPUT_FORMATS = ("parquet", "hf")



@dataclass
class PrepStats:
    """What a :func:`write_static` run wrote: the output ``path``, the ``rows`` written
    (``samples`` x ``dupe_factor``), the real ``tokens`` masked (padding not counted) and the
    ``seconds`` it took."""

    path: str
    rows: int = 0
    tokens: int = 0
    samples: int = 0
    dupe_factor: int = 1
    seconds: float = 0.0

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else float("inf")


# ---------------------------------------------------------------------------------------------
# inputs as Arrow tables


def as_table(data: Any):
    """A ``pyarrow.Table`` view of ``data``: a Table, RecordBatch(es), a ``datasets.Dataset``
    (its memory-mapped Arrow table), :class:`fastmask.instances.Instances` or a dict of
    columns."""
    import pyarrow as pa

    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    from ..instances import Instances

    if isinstance(data, Instances):
        return data.to_arrow()
    mod = type(data).__module__ or ""
    if mod.startswith("datasets"):
        if not hasattr(data, "data") or not hasattr(data, "features"):
            raise TypeError("pass a datasets.Dataset (pick a split of a DatasetDict)")
        if getattr(data, "_indices", None) is not None:
            data = data.flatten_indices()
        return data.data.table
    if isinstance(data, dict):
        return pa.table(data)
    if isinstance(data, (list, tuple)) and data and all(isinstance(b, pa.RecordBatch)
                                                        for b in data):
        return pa.Table.from_batches(list(data))
    raise TypeError(f"cannot read {type(data).__name__} as a table: pass a pyarrow Table, a "
                    "datasets.Dataset, Instances or a dict of columns")


# ---------------------------------------------------------------------------------------------
# static masking


def _check_positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _static_batch(job: CopyJob, rb, start: int, copy: int, where: str):
    """One output record batch: copy ``copy`` of the rows ``start ..`` of ``rb``."""
    return next(job.copies(rb, where, start=start, epochs=[copy]))


def _is_path(data: Any) -> bool:
    return isinstance(data, (str, os.PathLike))


def _check_ids(data, name: str) -> np.ndarray:
    """The sample ids in column ``name`` of a table or a :class:`~fastmask.parquet.ParquetCorpus`
    (of which only that column is read), checked over the whole input: a null, negative,
    too large or repeated id is a ValueError naming the first offending row."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = data.schema.names
    if name not in names:
        raise ValueError(f"sample_id_column: the input has no column {name!r} (columns: "
                         f"{', '.join(names)})")
    if isinstance(data, pa.Table):
        col = data.column(name)
    else:
        parts = [pq.read_table(f, columns=[name]).column(name) for f in data.files]
        col = pa.chunked_array([c.cast(parts[0].type) for p in parts for c in p.chunks],
                               type=parts[0].type)
    return check_sample_ids(col, name, "the input")


def iter_static(data: Any, masker, *, dupe_factor: int = 1, column: str = "input_ids",
                layout: str = "dense", max_predictions_per_seq: Optional[int] = None,
                keep_columns: Sequence[str] = (), batch_size: int = 4096,
                num_threads: int = 1, sample_id_column: Optional[str] = None) -> Iterator[Any]:
    """Yields the ``dupe_factor`` masked copies of ``data`` as Arrow record batches, in order.

    ``data`` is anything :func:`write_static` reads (a table, or the path of a Parquet file or
    directory of shards). Copy ``j`` of a row is masked with ``epoch=j`` and the row's sample
    id: its index in ``data``, or its value in ``sample_id_column``. Each batch has the id
    column (``sample_id``, or ``sample_id_column``) and ``copy``, the masked columns of
    :func:`fastmask.arrow.mask_batch` (``layout`` ``"dense"`` or ``"sparse"``), and the input's
    ``token_type_ids`` and NSP/SOP label columns when present, plus ``keep_columns``.
    ``num_threads`` batches are masked at once; the output does not depend on it.
    """
    plan = _Plan(data, masker, dupe_factor, column, layout, max_predictions_per_seq,
                 keep_columns, batch_size, sample_id_column)
    for results in _ordered(plan, _check_positive("num_threads", num_threads),
                            threading.Event()):
        for rb, _ in results:
            yield rb


class _Plan:
    """The work of a static-masking run: (copy, unit) jobs in output order. A unit is a batch
    of an in-memory table, or a row group of a Parquet corpus (read when its job runs)."""

    def __init__(self, data, masker, dupe_factor, column, layout, max_predictions_per_seq,
                 keep_columns, batch_size, sample_id_column=None):
        from ..parquet import ParquetCorpus

        self.k = _check_positive("dupe_factor", dupe_factor)
        self.batch_size = _check_positive("batch_size", batch_size)
        self.column = column
        self.corpus: Optional[ParquetCorpus] = None
        schema: Any  # a pyarrow Schema
        if _is_path(data):
            self.corpus = ParquetCorpus(os.fspath(data), column=column)
            schema = self.corpus.schema
            self.units: List[Any] = list(self.corpus.pieces)
            self.rows = [p.num_rows for p in self.units]
            self.starts = [p.start for p in self.units]
            self.num_rows = self.corpus.num_rows
        else:
            table = as_table(data)
            schema = table.schema
            self.units = [b for b in table.to_batches(max_chunksize=self.batch_size)
                          if b.num_rows]
            self.rows = [b.num_rows for b in self.units]
            self.starts = [0] + list(np.cumsum(self.rows[:-1], dtype=np.int64))
            self.num_rows = table.num_rows
        if column not in schema.names:
            raise ValueError(f"the input has no column {column!r} (columns: "
                             f"{', '.join(schema.names)})")
        self.sample_id_column = sample_id_column or "sample_id"
        if sample_id_column is not None:
            _check_ids(self.corpus if self.corpus is not None else table, sample_id_column)
        self.job = CopyJob(masker, schema.names, epochs=range(self.k), column=column,
                           sample_id_column=self.sample_id_column, layout=layout,
                           max_predictions_per_seq=max_predictions_per_seq,
                           keep_columns=keep_columns, row_index=sample_id_column is None)
        self.job.bind(schema)
        self.jobs = [(j, u) for j in range(self.k) for u in range(len(self.units))]
        self.tokens_per_copy = None if self.corpus is not None else \
            sum(_total_tokens(b, column) for b in self.units)

    def _batches(self, u: int) -> Iterator[Tuple[Any, int]]:
        if self.corpus is None:
            yield self.units[u], int(self.starts[u])
            return
        start = self.starts[u]
        for rb in self.corpus.read_piece(self.units[u], self.batch_size):
            yield rb, start
            start += rb.num_rows

    def run(self, job) -> List[Tuple[Any, int]]:
        """The output batches of a job, each with the number of input tokens it was made
        from."""
        j, u = job
        out = []
        for rb, start in self._batches(u):
            if not rb.num_rows:
                continue
            where = (f"the batch of samples {start} .. {start + rb.num_rows - 1} (rows are "
                     "counted from the batch start)")
            out.append((_static_batch(self.job, rb, start, j, where),
                        _total_tokens(rb, self.column)))
        return out

    def empty_schema(self):
        return self.job.schema

    def shards(self, shard_size: int) -> List[List[Tuple[int, int]]]:
        """Consecutive jobs grouped into shards of at most ``shard_size`` rows (>= 1 job)."""
        out: List[List[Tuple[int, int]]] = []
        cur: List[Tuple[int, int]] = []
        rows = 0
        for job in self.jobs:
            n = self.rows[job[1]]
            if cur and rows + n > shard_size:
                out.append(cur)
                cur, rows = [], 0
            cur.append(job)
            rows += n
        if cur or not out:
            out.append(cur)
        return out


def _ordered(plan: _Plan, num_threads: int, stop: threading.Event) -> Generator[Any, None, None]:
    """Runs the jobs of ``plan`` on ``num_threads`` threads; yields results in job order."""
    jobs = plan.jobs
    if num_threads == 1 or len(jobs) <= 1:
        for job in jobs:
            yield plan.run(job)
        return
    pool = ThreadPoolExecutor(num_threads, thread_name_prefix="fastmask-prep")
    try:
        pending: deque = deque()
        it = iter(jobs)
        for job in it:
            pending.append(pool.submit(plan.run, job))
            if len(pending) >= 2 * num_threads:
                break
        while pending:
            out = pending.popleft().result()
            nxt = None if stop.is_set() else next(it, None)
            if nxt is not None:
                pending.append(pool.submit(plan.run, nxt))
            yield out
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)


def _total_tokens(table, column: str) -> int:
    import pyarrow as pa

    col = table.column(column)
    total = 0
    for chunk in (col.chunks if hasattr(col, "chunks") else [col]):
        if pa.types.is_fixed_size_list(chunk.type):
            total += len(chunk) * chunk.type.list_size
        else:
            off = chunk.offsets
            if len(off):
                total += int(off[-1].as_py()) - int(off[0].as_py())
    return total


def _guess_format(path: str) -> str:
    return "parquet" if path.lower().endswith((".parquet", ".pq")) else "hf"


def _write_sequential(plan: _Plan, writer: _FileWriter, num_threads: int, prog: _Progress,
                      stats: PrepStats) -> None:
    stop = threading.Event()
    gen = _ordered(plan, num_threads, stop)
    try:
        for results in gen:
            for rb, n_in in results:
                writer.write(rb)
                stats.rows += rb.num_rows
                stats.tokens += n_in
                prog.update(n_in)
    finally:
        gen.close()
    writer.close(None if writer.schema is not None else plan.empty_schema())


def _write_shards(plan: _Plan, directory: str, shard_size: int, num_threads: int,
                  compression: Optional[str], metadata: Dict[str, Any], prog: _Progress,
                  stats: PrepStats) -> None:
    """Parquet shards ``part-00000.parquet``, ... written in parallel, one thread per shard."""
    os.makedirs(directory)
    shards = plan.shards(shard_size)
    stop = threading.Event()
    lock = threading.Lock()

    def write_shard(s: int) -> None:
        w = _FileWriter(os.path.join(directory, f"part-{s:05d}.parquet"), "parquet",
                        compression, metadata)
        for job in shards[s]:
            if stop.is_set():
                return
            for rb, n_in in plan.run(job):
                w.write(rb)
                with lock:
                    stats.rows += rb.num_rows
                    stats.tokens += n_in
                prog.update(n_in)
        w.close(None if w.schema is not None else plan.empty_schema())

    if num_threads == 1 or len(shards) == 1:
        for s in range(len(shards)):
            write_shard(s)
        return
    pool = ThreadPoolExecutor(num_threads, thread_name_prefix="fastmask-prep")
    try:
        futures = [pool.submit(write_shard, s) for s in range(len(shards))]
        for f in futures:
            f.result()
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)


def write_static(data: Any, output: str, masker, *, dupe_factor: int = 1,
                 output_format: Optional[str] = None, column: str = "input_ids",
                 layout: str = "dense", max_predictions_per_seq: Optional[int] = None,
                 keep_columns: Sequence[str] = (), batch_size: int = 4096,
                 num_threads: int = 1, shard_size: Optional[int] = None,
                 progress: bool = False, overwrite: bool = False,
                 compression: Optional[str] = "snappy",
                 metadata: Optional[Dict[str, Any]] = None,
                 sample_id_column: Optional[str] = None,
                 _output: Optional[_AtomicOutput] = None) -> PrepStats:
    """Writes ``dupe_factor`` differently masked copies of ``data`` to ``output``.

    Args:
        data: a ``pyarrow.Table``, a ``datasets.Dataset``, :class:`~fastmask.instances.Instances`,
            a dict of columns, or the path of a Parquet file or directory of shards (read
            row group by row group, in the order of :mod:`fastmask.parquet`, never whole), with
            a list-of-integers token-id column (and optionally
            ``special_tokens_mask``, ``token_type_ids``, ``word_ids`` / ``word_starts``,
            ``next_sentence_label`` / ``sentence_order_label``).
        output: where to write. With ``output_format="parquet"`` a path ending in
            ``.parquet`` is one file, any other path a directory of Parquet shards
            (``part-00000.parquet``, ... in row order) written in parallel; with ``"hf"`` a
            directory for ``datasets.load_from_disk``.
        masker: the configured :class:`fastmask.Masker`.
        dupe_factor: number of copies ``k``; copy ``j`` of a row is masked with ``epoch=j``
            and the row's sample id. Rows come copy by copy.
        sample_id_column: an integer input column holding each row's sample id (unique,
            ``0 <= id < 2**48``; a repeated or negative id is a ``ValueError`` naming the first
            offending row), written to the output under the same name. Default: the row's
            index in ``data``, written as ``sample_id``.
        output_format: ``"parquet"`` or ``"hf"``; ``*.parquet`` paths default to Parquet,
            others to ``"hf"``.
        layout, max_predictions_per_seq: ``"dense"`` (``input_ids``, ``labels``) or ``"sparse"``
            (BERT's ``masked_lm_positions`` / ``masked_lm_ids`` / ``masked_lm_weights``).
        keep_columns: more input columns to copy into every output row.
        batch_size: rows per masked batch (and per Parquet row group).
        num_threads: batches masked (and shards written) at the same time.
        shard_size: most rows per Parquet shard (directory output; default 262144).
        progress: show a progress bar (tqdm) with the rate in tokens per second.
        overwrite: replace an existing output.
        compression: Parquet compression codec (``None`` for none).
        metadata: JSON-able facts stored with the output (schema metadata key ``fastmask``).

    Returns:
        :class:`PrepStats`. An error or an interruption (``KeyboardInterrupt``) leaves nothing
        under ``output``: it is written to a hidden temporary directory beside it and moved
        into place when complete.
    """
    fmt = output_format or _guess_format(output)
    if fmt not in OUTPUT_FORMATS:
        raise ValueError(f"output_format must be one of {', '.join(OUTPUT_FORMATS)}, got {fmt!r}")
    num_threads = _check_positive("num_threads", num_threads)
    shard_size = _check_positive("shard_size", shard_size if shard_size is not None else 1 << 18)
    plan = _Plan(data, masker, dupe_factor, column, layout, max_predictions_per_seq,
                 keep_columns, batch_size, sample_id_column)
    meta = dict(plan.job.metadata(), engine="local")
    meta.update(metadata or {})
    out = _output or _AtomicOutput(output, overwrite)
    stats = PrepStats(path=out.path, samples=plan.num_rows, dupe_factor=plan.k)
    total = None if plan.tokens_per_copy is None else plan.tokens_per_copy * plan.k
    prog = _Progress(progress, total, "masking")
    t0 = time.perf_counter()
    try:
        if fmt == "parquet" and not output.lower().endswith((".parquet", ".pq")):
            built = out.scratch("built")
            _write_shards(plan, built, shard_size, num_threads, compression, meta, prog, stats)
        elif fmt == "parquet":
            built = out.scratch("built.parquet")
            _write_sequential(plan, _FileWriter(built, "parquet", compression, meta),
                              num_threads, prog, stats)
        else:
            stream = out.scratch("data.arrow")
            _write_sequential(plan, _FileWriter(stream, "ipc", None, meta), num_threads, prog,
                              stats)
            built = out.scratch("built")
            _save_hf(stream, built, meta, progress)
        stats.seconds = time.perf_counter() - t0
        out.publish(built)
    except BaseException:
        out.abort()
        raise
    finally:
        prog.close()
    return stats


