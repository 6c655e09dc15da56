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
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ..cli.args import UsageError
from .writers import _AtomicOutput, _FileWriter, _Progress, _save_hf

__all__ = ["PrepStats", "iter_static", "write_static", "as_table", "OUTPUT_FORMATS"]

OUTPUT_FORMATS = ("parquet", "hf")

#: Per-row label columns carried into the output when present.
_LABEL_COLUMNS = ("next_sentence_label", "sentence_order_label")


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


def _static_batch(rb, start: int, copy: int, masker, column: str, layout: str,
                  max_predictions_per_seq: Optional[int], carry: Sequence[str]):
    """One output record batch: copy ``copy`` of the rows ``start ..`` of ``rb``."""
    import pyarrow as pa

    from ..arrow import mask_batch

    try:
        masked = mask_batch(rb, start, masker=masker, epoch=copy, column=column, layout=layout,
                            max_predictions_per_seq=max_predictions_per_seq, keep_columns=False)
    except ValueError as e:
        raise ValueError(f"in the batch of samples {start} .. {start + rb.num_rows - 1} "
                         f"(rows are counted from the batch start): {e}") from None
    n = rb.num_rows
    names = ["sample_id", "copy"]
    arrays = [pa.array(np.arange(start, start + n, dtype=np.int64)),
              pa.array(np.full(n, copy, dtype=np.int32))]
    for name in masked.column_names:
        if name == "special_tokens_mask":
            continue
        names.append(name)
        arrays.append(masked.column(name))
    for name in carry:
        if name not in names:
            names.append(name)
            arrays.append(rb.column(name))
    return pa.RecordBatch.from_arrays(arrays, names=names)


def _carried_columns(table, column: str, keep_columns: Sequence[str]) -> List[str]:
    names = table.column_names
    missing = [c for c in keep_columns if c not in names]
    if missing:
        raise UsageError(f"keep_columns: no column {missing[0]!r} in the input (columns: "
                         f"{', '.join(names)})")
    carry = [c for c in ("token_type_ids",) + _LABEL_COLUMNS if c in names]
    carry += [c for c in keep_columns if c not in carry and c != column]
    return carry


def iter_static(data: Any, masker, *, dupe_factor: int = 1, column: str = "input_ids",
                layout: str = "dense", max_predictions_per_seq: Optional[int] = None,
                keep_columns: Sequence[str] = (), batch_size: int = 4096,
                num_threads: int = 1) -> Iterator[Any]:
    """Yields the ``dupe_factor`` masked copies of ``data`` as Arrow record batches, in order.

    Copy ``j`` of row ``i`` (sample id ``i``, the row's index in ``data``) is masked with
    ``epoch=j``. Each batch has ``sample_id`` and ``copy`` columns, the masked columns of
    :func:`fastmask.arrow.mask_batch` (``layout`` ``"dense"`` or ``"sparse"``), and the input's
    ``token_type_ids`` and NSP/SOP label columns when present, plus ``keep_columns``.
    ``num_threads`` batches are masked at once; the output does not depend on it.
    """
    for rb, _ in _iter_static(as_table(data), masker, dupe_factor, column, layout,
                              max_predictions_per_seq, keep_columns, batch_size, num_threads):
        yield rb


class _Plan:
    """The work of a static-masking run: (copy, batch) jobs in output order."""

    def __init__(self, table, masker, dupe_factor, column, layout, max_predictions_per_seq,
                 keep_columns, batch_size):
        from ..arrow import LAYOUTS

        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(map(repr, LAYOUTS))}, got "
                             f"{layout!r}")
        self.k = _check_positive("dupe_factor", dupe_factor)
        batch_size = _check_positive("batch_size", batch_size)
        if column not in table.column_names:
            raise ValueError(f"the input has no column {column!r} (columns: "
                             f"{', '.join(table.column_names)})")
        self.table = table
        self.masker = masker
        self.column = column
        self.layout = layout
        self.max_predictions_per_seq = max_predictions_per_seq
        self.carry = _carried_columns(table, column, keep_columns)
        self.batches = [b for b in table.to_batches(max_chunksize=batch_size) if b.num_rows]
        self.starts = np.zeros(len(self.batches) + 1, dtype=np.int64)
        np.cumsum([b.num_rows for b in self.batches], out=self.starts[1:])
        self.tokens = [_total_tokens(b, column) for b in self.batches]
        self.jobs = [(j, b) for j in range(self.k) for b in range(len(self.batches))]
        self.tokens_per_copy = int(sum(self.tokens))

    def run(self, job) -> Tuple[Any, int]:
        """(the output batch of a job, the number of input tokens it was made from)."""
        j, b = job
        rb = self.batches[b]
        return (_static_batch(rb, int(self.starts[b]), j, self.masker, self.column, self.layout,
                              self.max_predictions_per_seq, self.carry), self.tokens[b])

    def empty_schema(self):
        return _empty_output_schema(self.table, self.masker, self.column, self.layout,
                                    self.max_predictions_per_seq, self.carry)

    def shards(self, shard_size: int) -> List[List[Tuple[int, int]]]:
        """Consecutive jobs grouped into shards of at most ``shard_size`` rows (>= 1 job)."""
        out: List[List[Tuple[int, int]]] = []
        cur: List[Tuple[int, int]] = []
        rows = 0
        for job in self.jobs:
            n = self.batches[job[1]].num_rows
            if cur and rows + n > shard_size:
                out.append(cur)
                cur, rows = [], 0
            cur.append(job)
            rows += n
        if cur or not out:
            out.append(cur)
        return out


def _ordered(plan: _Plan, num_threads: int, stop: threading.Event) -> Iterator[Tuple[Any, int]]:
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


def _iter_static(table, masker, dupe_factor, column, layout, max_predictions_per_seq,
                 keep_columns, batch_size, num_threads) -> Iterator[Tuple[Any, int]]:
    plan = _Plan(table, masker, dupe_factor, column, layout, max_predictions_per_seq,
                 keep_columns, batch_size)
    yield from _ordered(plan, _check_positive("num_threads", num_threads), threading.Event())


def _empty_output_schema(table, masker, column, layout, max_predictions_per_seq, carry):
    """The output schema of a table without rows."""
    import pyarrow as pa

    t = table.slice(0, 0)
    rb = pa.RecordBatch.from_arrays([c.combine_chunks() if c.num_chunks != 1 else c.chunk(0)
                                     for c in t.columns], names=t.column_names)
    return _static_batch(rb, 0, 0, masker, column, layout, max_predictions_per_seq,
                         carry).schema


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
        for rb, n_in in gen:
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
            rb, n_in = plan.run(job)
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
                 _output: Optional[_AtomicOutput] = None) -> PrepStats:
    """Writes ``dupe_factor`` differently masked copies of ``data`` to ``output``.

    Args:
        data: a ``pyarrow.Table``, a ``datasets.Dataset``, :class:`~fastmask.instances.Instances`
            or a dict of columns, with a ``list<int>`` token-id column (and optionally
            ``special_tokens_mask``, ``token_type_ids``, ``word_ids`` / ``word_starts``,
            ``next_sentence_label`` / ``sentence_order_label``).
        output: where to write. With ``output_format="parquet"`` a path ending in
            ``.parquet`` is one file, any other path a directory of Parquet shards
            (``part-00000.parquet``, ... in row order) written in parallel; with ``"hf"`` a
            directory for ``datasets.load_from_disk``.
        masker: the configured :class:`fastmask.Masker`.
        dupe_factor: number of copies ``k``; copy ``j`` of row ``i`` is masked with
            ``epoch=j`` and sample id ``i``. Rows come copy by copy.
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
    table = as_table(data)
    plan = _Plan(table, masker, dupe_factor, column, layout, max_predictions_per_seq,
                 keep_columns, batch_size)
    meta = {"seed": masker.seed, "dupe_factor": plan.k, "layout": layout,
            "masker": repr(masker),
            "copies": "copy j of sample i is masked with epoch j and sample id i"}
    meta.update(metadata or {})
    out = _output or _AtomicOutput(output, overwrite)
    stats = PrepStats(path=out.path, samples=table.num_rows, dupe_factor=plan.k)
    prog = _Progress(progress, plan.tokens_per_copy * plan.k, "masking")
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


