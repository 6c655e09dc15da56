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
name. Batches are masked by a pool of threads (the C kernels run without the GIL) while the
main thread writes.

The command line front-end (``fastmask prep``) also reads JSON Lines of token ids, ragged
``.npz`` files, saved Hugging Face datasets and raw text with a local ``tokenizer.json``, and can
first cut documents into BERT / ALBERT sentence-pair instances (:mod:`fastmask.instances`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

__all__ = ["PrepStats", "UsageError", "iter_static", "write_static", "as_table", "add_parser",
           "run", "main", "INPUT_FORMATS", "OUTPUT_FORMATS"]

INPUT_FORMATS = ("jsonl", "npz", "hf", "text")
OUTPUT_FORMATS = ("parquet", "hf")

#: Per-row label columns carried into the output when present.
_LABEL_COLUMNS = ("next_sentence_label", "sentence_order_label")
#: Columns that only guide the masking and are not written.
_GUIDE_COLUMNS = ("special_tokens_mask", "word_ids", "word_starts")


class UsageError(ValueError):
    """A problem with the options or files given (``fastmask prep`` exits with status 2)."""


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
    from .instances import Instances

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

    from .arrow import mask_batch

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
        from .arrow import LAYOUTS

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


class _FileWriter:
    """One Parquet file or Arrow IPC stream, opened on the first batch."""

    def __init__(self, path: str, kind: str, compression: Optional[str],
                 metadata: Dict[str, Any]):
        self.path = path
        self.kind = kind
        self.compression = compression
        self.metadata = metadata
        self.schema = None
        self._writer = None
        self._sink = None
        self._batches = 0

    def open(self, schema) -> None:
        import pyarrow as pa

        meta = dict(schema.metadata or {})
        meta[b"fastmask"] = json.dumps(self.metadata, sort_keys=True).encode()
        self.schema = schema.with_metadata(meta)
        if self.kind == "parquet":
            import pyarrow.parquet as pq

            # dictionary encoding of id columns costs more time than it saves space
            self._writer = pq.ParquetWriter(self.path, self.schema,
                                            compression=self.compression or "none",
                                            use_dictionary=False)
        else:
            self._sink = pa.OSFile(self.path, "wb")
            self._writer = pa.ipc.new_stream(self._sink, self.schema)

    def write(self, rb) -> None:
        if self._writer is None:
            self.open(rb.schema)
        if not rb.schema.equals(self.schema, check_metadata=False):
            rb = rb.cast(self.schema)
        self._writer.write_batch(rb)
        self._batches += 1

    def close(self, schema=None) -> None:
        import pyarrow as pa

        if self._writer is None:
            self.open(schema)
        if self.kind != "parquet" and self._batches == 0:
            # readers of Arrow streams expect at least one (possibly empty) batch
            self._writer.write_batch(pa.RecordBatch.from_pylist([], schema=self.schema))
        self._writer.close()
        if self._sink is not None:
            self._sink.close()


class _AtomicOutput:
    """An output path that only receives complete results.

    Everything (staging files included) is written under a hidden temporary directory next to
    the output; :meth:`publish` moves the finished file or directory into place with
    ``os.replace`` and :meth:`abort` deletes the temporary directory.
    """

    def __init__(self, path: str, overwrite: bool):
        self.path = os.path.abspath(path)
        if os.path.lexists(self.path) and not overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=True (--overwrite) to "
                                  "replace it")
        parent = os.path.dirname(self.path)
        os.makedirs(parent, exist_ok=True)
        self.tmpdir = tempfile.mkdtemp(prefix=f".{os.path.basename(self.path)}.",
                                       suffix=".fastmask-tmp", dir=parent)

    def scratch(self, name: str) -> str:
        """A path inside the temporary directory."""
        return os.path.join(self.tmpdir, name)

    def publish(self, built: str) -> None:
        if os.path.lexists(self.path):
            os.replace(self.path, self.scratch("replaced-output"))
        os.replace(built, self.path)
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    def abort(self) -> None:
        shutil.rmtree(self.tmpdir, ignore_errors=True)


class _Progress:
    def __init__(self, enabled: bool, total: int, desc: str):
        self._bar = None
        self._lock = threading.Lock()
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, unit="tok", unit_scale=True, desc=desc,
                             dynamic_ncols=True, smoothing=0.1)

    def update(self, n: int) -> None:
        if self._bar is not None:
            with self._lock:
                self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


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


def _save_hf(stream: str, built: str, meta: Dict[str, Any], progress: bool) -> None:
    """A saved Hugging Face dataset from an Arrow IPC stream file."""
    import datasets

    quiet = not progress and datasets.is_progress_bar_enabled()
    if quiet:
        datasets.disable_progress_bars()
    try:
        ds = datasets.Dataset.from_file(stream)
        ds.info.description = json.dumps({"fastmask": meta}, sort_keys=True)
        # (an empty dataset needs an explicit shard count to be loadable again)
        ds.save_to_disk(built, num_shards=1 if ds.num_rows == 0 else None)
        del ds
    finally:
        if quiet:
            datasets.enable_progress_bars()


# ---------------------------------------------------------------------------------------------
# command-line inputs


def _input_format(path: str, fmt: Optional[str]) -> str:
    if fmt:
        return fmt
    low = path.lower()
    if os.path.isdir(path):
        return "hf"
    if low.endswith((".jsonl", ".ndjson", ".jsonl.gz", ".json")):
        return "jsonl"
    if low.endswith(".npz"):
        return "npz"
    if low.endswith((".txt", ".text")):
        return "text"
    raise UsageError(f"cannot tell the format of {path}; pass --input-format "
                     f"({', '.join(INPUT_FORMATS)})")


def _ipc_table(path: str):
    """A memory-mapped table of an Arrow IPC file written by :class:`_IpcStage`."""
    import pyarrow as pa

    return pa.ipc.open_file(pa.memory_map(path, "r")).read_all()


class _IpcStage:
    """Streams record batches into an Arrow IPC file (read back memory-mapped)."""

    def __init__(self, path: str):
        self.path = path
        self._writer = None
        self._sink = None
        self.schema = None

    def write(self, rb) -> None:
        import pyarrow as pa

        if self._writer is None:
            self.schema = rb.schema
            self._sink = pa.OSFile(self.path, "wb")
            self._writer = pa.ipc.new_file(self._sink, rb.schema)
        elif rb.schema != self.schema:
            rb = rb.cast(self.schema)
        self._writer.write_batch(rb)

    def close(self, empty_schema=None):
        import pyarrow as pa

        if self._writer is None:
            schema = empty_schema if empty_schema is not None else pa.schema([])
            self._sink = pa.OSFile(self.path, "wb")
            self._writer = pa.ipc.new_file(self._sink, schema)
        self._writer.close()
        self._sink.close()
        return _ipc_table(self.path)


def _id_type(vocab_size: Optional[int]):
    import pyarrow as pa

    return pa.int32() if vocab_size is None or vocab_size <= np.iinfo(np.int32).max else \
        pa.int64()


def _read_jsonl(path: str, column: str, nested: bool, stage: _IpcStage, id_type):
    """JSON Lines, one object per line, with a list-of-ids column (nested: list of lists)."""
    import pyarrow as pa
    import pyarrow.json as pj

    ids_type = pa.list_(pa.list_(pa.int64())) if nested else pa.list_(pa.int64())
    schema = pa.schema([(column, ids_type)])
    reader = pj.open_json(path, read_options=pj.ReadOptions(block_size=32 << 20),
                          parse_options=pj.ParseOptions(explicit_schema=schema,
                                                        unexpected_field_behavior="infer"))
    target = pa.list_(pa.list_(id_type)) if nested else pa.list_(id_type)
    row = 0
    for rb in reader:
        arrays = []
        names = []
        for name, arr in zip(rb.schema.names, rb.columns):
            if arr.null_count == len(arr) and name != column:
                continue  # an optional column absent from this block
            if name == column:
                if arr.null_count:
                    from .arrow import _first_null

                    raise ValueError(f"{path}: line {row + _first_null(arr) + 1} has no list "
                                     f"{column!r}")
                try:
                    arr = arr.cast(target)
                except pa.ArrowInvalid as e:
                    raise ValueError(f"{path}: {column} holds ids that do not fit {id_type} "
                                     f"({e})") from None
            elif name in ("special_tokens_mask", "word_starts", "token_type_ids") and \
                    pa.types.is_list(arr.type):
                arr = arr.cast(pa.list_(pa.int8()))
            elif name == "word_ids" and pa.types.is_list(arr.type):
                arr = arr.cast(pa.list_(pa.int32()))
            names.append(name)
            arrays.append(arr)
        row += rb.num_rows
        stage.write(pa.RecordBatch.from_arrays(arrays, names=names))
    return stage.close(pa.schema([(column, target)]))


def _read_npz(path: str, column: str, nested: bool):
    """A ragged ``.npz``: ``values`` + ``offsets`` (+ ``document_offsets`` for documents)."""
    import pyarrow as pa

    from .arrow import _list_array

    with np.load(path, allow_pickle=False) as z:
        keys = set(z.files)
        vkey = "values" if "values" in keys else column if column in keys else None
        if vkey is None or "offsets" not in keys:
            raise ValueError(f"{path} must hold 'values' and 'offsets' arrays (has: "
                             f"{', '.join(sorted(keys))})")
        values = z[vkey]
        offsets = z["offsets"].astype(np.int64)
        side = {k: z[k] for k in ("special_tokens_mask", "token_type_ids", "word_starts",
                                  "word_ids") if k in keys}
        doc_off = z["document_offsets"].astype(np.int64) if "document_offsets" in keys else None
    if values.ndim != 1 or offsets.ndim != 1 or offsets.shape[0] < 1 or offsets[0] != 0 or \
            offsets[-1] != values.shape[0] or bool((np.diff(offsets) < 0).any()):
        raise ValueError(f"{path}: offsets must be non-decreasing from 0 to len(values) = "
                         f"{values.shape[0]}")
    if values.dtype.kind not in "iu":
        raise ValueError(f"{path}: values must be integers, got {values.dtype}")
    cols = {column: _list_array(values, offsets)}
    for k, v in side.items():
        if v.shape != values.shape:
            raise ValueError(f"{path}: {k} must be aligned with values ({values.shape[0]} "
                             f"entries), got shape {v.shape}")
        cols[k] = _list_array(v, offsets)
    if nested:
        if doc_off is None:
            raise ValueError(f"{path}: sentence-pair instances need 'document_offsets' (the "
                             "first row of every document, and the number of rows at the end)")
        n = offsets.shape[0] - 1
        if doc_off[0] != 0 or doc_off[-1] != n or bool((np.diff(doc_off) < 0).any()):
            raise ValueError(f"{path}: document_offsets must be non-decreasing from 0 to {n}")
        out = {}
        for k, arr in cols.items():
            out[k] = pa.ListArray.from_arrays(pa.array(doc_off.astype(np.int32)
                                                       if n < 2**31 else doc_off), arr)
        return pa.table(out)
    return pa.table(cols)


def _read_hf(path: str, split: Optional[str]):
    import datasets

    ds = datasets.load_from_disk(path)
    if isinstance(ds, datasets.DatasetDict):
        if split is None:
            if len(ds) != 1:
                raise UsageError(f"{path} holds splits {', '.join(ds)}; pick one with --split")
            split = next(iter(ds))
        ds = ds[split]
    return as_table(ds)


def _text_blocks(path: str, block_lines: int) -> Iterator[List[Optional[str]]]:
    """Lines of a text file in blocks; a blank line is ``None`` (a document break)."""
    block: List[Optional[str]] = []
    with open(path, "r", encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            block.append(line if line else None)
            if len(block) >= block_lines:
                yield block
                block = []
    if block:
        yield block


def _read_text(path: str, tokenizer, nested: bool, want_words: bool, max_seq_length,
               stage: _IpcStage, id_type, progress: bool):
    """Raw text: one sentence (or sequence) per line, blank lines between documents."""
    import pyarrow as pa

    from .arrow import _list_array

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=os.path.getsize(path), unit="B", unit_scale=True, desc="tokenizing",
                   dynamic_ncols=True)
    np_id = np.int32 if id_type == pa.int32() else np.int64
    cur_doc: List[Tuple[np.ndarray, Optional[np.ndarray]]] = []

    def flush_docs(docs: List[List[Tuple[np.ndarray, Optional[np.ndarray]]]]):
        if not docs:
            return
        sent_lens = [len(s) for d in docs for s, _ in d]
        sent_off = np.zeros(len(sent_lens) + 1, dtype=np.int64)
        np.cumsum(sent_lens, out=sent_off[1:])
        doc_off = np.zeros(len(docs) + 1, dtype=np.int64)
        np.cumsum([len(d) for d in docs], out=doc_off[1:])
        values = np.concatenate([s for d in docs for s, _ in d]) if sent_lens else \
            np.zeros(0, np_id)
        cols = {"input_ids": pa.ListArray.from_arrays(pa.array(doc_off.astype(np.int32)),
                                                      _list_array(values, sent_off))}
        if want_words:
            ws = np.concatenate([w for d in docs for _, w in d]) if sent_lens else \
                np.zeros(0, np.uint8)
            cols["word_starts"] = pa.ListArray.from_arrays(
                pa.array(doc_off.astype(np.int32)), _list_array(ws, sent_off))
        stage.write(pa.RecordBatch.from_pydict(cols))

    if max_seq_length is not None and not nested:
        tokenizer.enable_truncation(max_seq_length)
    try:
        for block in _text_blocks(path, 8192):
            text = [s for s in block if s is not None]
            encs = tokenizer.encode_batch(text, add_special_tokens=not nested)
            if bar is not None:
                bar.update(sum(len(s.encode("utf-8")) + 1 for s in text) +
                           (len(block) - len(text)))
            if not nested:
                lens = [len(e.ids) for e in encs]
                off = np.zeros(len(encs) + 1, dtype=np.int64)
                np.cumsum(lens, out=off[1:])
                values = np.fromiter((i for e in encs for i in e.ids), dtype=np_id,
                                     count=int(off[-1]))
                spec = np.fromiter((i for e in encs for i in e.special_tokens_mask),
                                   dtype=np.uint8, count=int(off[-1]))
                cols = {"input_ids": _list_array(values, off),
                        "special_tokens_mask": _list_array(spec, off)}
                if want_words:
                    from .arrow import word_starts_from_word_ids

                    wid = np.fromiter((-1 if w is None else w for e in encs for w in e.word_ids),
                                      dtype=np.int64, count=int(off[-1]))
                    cols["word_starts"] = _list_array(word_starts_from_word_ids(wid, off), off)
                if len(encs):
                    stage.write(pa.RecordBatch.from_pydict(cols))
                continue
            docs: List[List[Tuple[np.ndarray, Optional[np.ndarray]]]] = []
            k = 0
            for line in block:
                if line is None:
                    if cur_doc:
                        docs.append(cur_doc)
                        cur_doc = []
                    continue
                e = encs[k]
                k += 1
                if not e.ids:
                    continue
                ids = np.asarray(e.ids, dtype=np_id)
                ws = None
                if want_words:
                    wid = np.asarray([-1 if w is None else w for w in e.word_ids],
                                     dtype=np.int64)
                    ws = _word_starts_of(wid)
                cur_doc.append((ids, ws))
            flush_docs(docs)
        if nested and cur_doc:
            flush_docs([cur_doc])
    finally:
        if bar is not None:
            bar.close()
        if max_seq_length is not None and not nested:
            tokenizer.no_truncation()
    if nested:
        empty = pa.schema([("input_ids", pa.list_(pa.list_(id_type)))])
    else:
        empty = pa.schema([("input_ids", pa.list_(id_type)),
                           ("special_tokens_mask", pa.list_(pa.uint8()))])
    return stage.close(empty)


def _word_starts_of(word_ids: np.ndarray) -> np.ndarray:
    """Word-start flags of one sequence from its word ids (-1 = none)."""
    from .arrow import word_starts_from_word_ids

    return word_starts_from_word_ids(word_ids, np.array([0, word_ids.shape[0]], np.int64))


# ---------------------------------------------------------------------------------------------
# the command


def _vocab_facts(args, tokenizer) -> Dict[str, Any]:
    facts: Dict[str, Any] = {}
    if tokenizer is not None:
        facts["vocab_size"] = tokenizer.get_vocab_size(with_added_tokens=True)

        def find(*names):
            for n in names:
                i = tokenizer.token_to_id(n)
                if i is not None:
                    return i
            return None

        facts["mask_token_id"] = find("[MASK]", "<mask>")
        facts["pad_token_id"] = find("[PAD]", "<pad>")
        facts["cls_token_id"] = find("[CLS]", "<s>")
        facts["sep_token_id"] = find("[SEP]", "</s>")
        facts["special_ids"] = sorted(i for i, t in tokenizer.get_added_tokens_decoder().items()
                                      if getattr(t, "special", False))
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


def _int_list(text: str) -> List[int]:
    try:
        return [int(x) for x in text.replace(",", " ").split()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of ids, got {text!r}")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Registers ``prep`` on an ``argparse`` sub-parser collection; returns its parser."""
    from .cli import _positive_int as _positive
    p = subparsers.add_parser(
        "prep", help="mask a corpus once, dupe_factor times (static masking)",
        description="Write dupe_factor differently masked copies of a corpus (BERT's static "
                    "masking) as Parquet or a saved Hugging Face dataset. Copy j of sample i "
                    "equals the collator's mask for that sample at epoch j. See docs/prep.md.")
    io = p.add_argument_group("input and output")
    io.add_argument("input", help="JSON Lines of token ids, a ragged .npz (values + offsets), "
                    "a saved Hugging Face dataset directory, or a text file (with --tokenizer)")
    io.add_argument("-o", "--output", required=True,
                    help="a .parquet file, or a directory: a saved Hugging Face dataset, or "
                         "Parquet shards with --output-format parquet")
    io.add_argument("--input-format", choices=INPUT_FORMATS, default=None,
                    help="input format (default: from the path)")
    io.add_argument("--output-format", choices=OUTPUT_FORMATS, default=None,
                    help="output format (default: parquet for *.parquet, else hf)")
    io.add_argument("--column", default="input_ids",
                    help="token-id column of the input (default: %(default)s)")
    io.add_argument("--split", default=None, help="split of a saved DatasetDict")
    io.add_argument("--keep-columns", default="", metavar="NAMES",
                    help="more input columns to copy into the output (comma-separated)")
    io.add_argument("--compression", default="snappy",
                    help="Parquet compression codec, or 'none' (default: %(default)s)")
    io.add_argument("--overwrite", action="store_true", help="replace an existing output")
    io.add_argument("--batch-size", type=_positive, default=4096,
                    help="rows per batch (default: %(default)s)")
    io.add_argument("--shard-size", type=_positive, default=1 << 18,
                    help="most rows per Parquet shard, for Parquet output to a directory "
                         "(default: %(default)s)")
    io.add_argument("--threads", type=_positive, default=None,
                    help="batches masked at once (default: the number of CPUs)")
    io.add_argument("--progress", dest="progress", action="store_true", default=None,
                    help="show progress bars (default: when stderr is a terminal)")
    io.add_argument("--no-progress", dest="progress", action="store_false",
                    help="no progress bars")

    voc = p.add_argument_group("vocabulary")
    voc.add_argument("--tokenizer", default=None, help="a local tokenizer.json (needed for "
                     "text input; gives the vocabulary facts and the whole-word table)")
    voc.add_argument("--vocab-size", type=_positive, default=None, metavar="N",
                     help="number of ids (default: from --tokenizer)")
    voc.add_argument("--mask-token-id", type=int, default=None, metavar="ID",
                     help="id of [MASK] (default: from --tokenizer)")
    voc.add_argument("--pad-token-id", type=int, default=None, metavar="ID",
                     help="id of [PAD] (default: from --tokenizer, else 0)")
    voc.add_argument("--cls-token-id", type=int, default=None, metavar="ID",
                     help="id of [CLS], for --instances (default: from --tokenizer)")
    voc.add_argument("--sep-token-id", type=int, default=None, metavar="ID",
                     help="id of [SEP], for --instances (default: from --tokenizer)")
    voc.add_argument("--special-ids", type=_int_list, default=None, metavar="IDS",
                     help="ids never masked, comma-separated (default: the tokenizer's "
                          "special tokens; [CLS], [SEP], [MASK] and [PAD] always)")

    mk = p.add_argument_group("masking")
    mk.add_argument("--seed", type=int, default=None,
                    help="masking seed (default: drawn at random and stored in the output)")
    mk.add_argument("--dupe-factor", type=_positive, default=1, metavar="K",
                    help="number of masked copies; copy j uses mask epoch j (default: 1)")
    mk.add_argument("--mlm-probability", type=float, default=0.15, metavar="P",
                    help="share of tokens to predict (default: %(default)s)")
    mk.add_argument("--mask-replace-prob", type=float, default=0.8, metavar="P",
                    help="share of predicted tokens replaced by [MASK] (default: %(default)s)")
    mk.add_argument("--random-replace-prob", type=float, default=0.1, metavar="P",
                    help="share replaced by a random id (default: %(default)s)")
    mk.add_argument("--selection", choices=("bernoulli", "exact", "span"), default=None,
                    help="how positions are picked (default: bernoulli; span with --span)")
    mk.add_argument("--max-predictions", type=int, default=None, metavar="N",
                    help="cap on masked tokens per sequence (BERT: 20 for 128 tokens)")
    mk.add_argument("--whole-word", action="store_true", help="mask whole words")
    mk.add_argument("--span", default=None, metavar="NAME",
                    help="span masking: 'spanbert' or 'albert' (n-grams)")
    mk.add_argument("--action", choices=("token", "unit"), default="token",
                    help="80/10/10 decided per token or per word/span (default: token)")
    mk.add_argument("--random-ids", choices=("non_special", "all"), default="non_special",
                    help="ids random replacements come from (default: non_special)")
    mk.add_argument("--layout", choices=("dense", "sparse"), default="dense",
                    help="dense: input_ids + labels; sparse: BERT's masked_lm_positions/ids/"
                         "weights")
    mk.add_argument("--max-predictions-per-seq", type=_positive, default=None, metavar="N",
                    help="width of the sparse columns (default: --max-predictions)")
    mk.add_argument("--max-seq-length", type=_positive, default=None, metavar="N",
                    help="longest sequence (instances: their length, default 128)")
    mk.add_argument("--truncate", action="store_true",
                    help="cut sequences longer than --max-seq-length instead of failing")
    mk.add_argument("--pad", action="store_true",
                    help="pad every row to --max-seq-length (adds attention_mask)")
    mk.add_argument("--dtype", choices=("int32", "int64"), default="int32",
                    help="integer type of the id columns (default: int32)")

    pr = p.add_argument_group("sentence-pair instances")
    pr.add_argument("--instances", choices=("nsp", "sop", "single"), default=None,
                    help="first cut documents (lists of sentences) into BERT NSP pairs, ALBERT "
                         "SOP pairs or single segments")
    pr.add_argument("--short-seq-prob", type=float, default=0.1, metavar="P",
                    help="chance of a shorter target length per document (default: 0.1)")
    pr.add_argument("--instance-seed", type=int, default=None, metavar="SEED",
                    help="seed of the instance construction (default: the masking seed)")
    p.set_defaults(func=run)
    return p


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
    2 for a usage problem (options, missing or existing files), 1 when the data cannot be
    processed, 130 when interrupted (SIGINT or SIGTERM)."""
    old = _install_sigterm()
    try:
        return _run(args)
    except KeyboardInterrupt:
        print("fastmask prep: interrupted; no output was written", file=sys.stderr)
        return 130
    except (UsageError, FileExistsError, FileNotFoundError, IsADirectoryError) as e:
        print(f"fastmask prep: error: {e}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, OSError) as e:
        print(f"fastmask prep: error: {e}", file=sys.stderr)
        return 1
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)


def _make_masker(kw: Dict[str, Any], whole_word: bool, word_table: Any):
    import fastmask

    try:
        return fastmask.Masker(**kw, whole_word=whole_word, word_table=word_table)
    except (ValueError, TypeError) as e:
        raise UsageError(f"masking options: {e}") from None


def _cpu_count() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def _run(args) -> int:
    import pyarrow as pa

    from .instances import Documents, create_instances

    progress = args.progress if args.progress is not None else sys.stderr.isatty()
    threads = args.threads or _cpu_count()
    if not os.path.exists(args.input):
        raise FileNotFoundError(f"no such input: {args.input}")
    fmt_in = _input_format(args.input, args.input_format)
    fmt_out = args.output_format or _guess_format(args.output)
    tokenizer = None
    if args.tokenizer:
        from tokenizers import Tokenizer

        if not os.path.isfile(args.tokenizer):
            raise FileNotFoundError(f"no such tokenizer file: {args.tokenizer}")
        try:
            tokenizer = Tokenizer.from_file(args.tokenizer)
        except Exception as e:  # the tokenizers library raises its own exception types
            raise UsageError(f"cannot read the tokenizer {args.tokenizer}: {e}") from None
        tokenizer.no_padding()  # sequences are written unpadded; the masker pads if asked
    elif fmt_in == "text":
        raise UsageError("text input needs --tokenizer (a local tokenizer.json)")
    facts = _vocab_facts(args, tokenizer)
    nested = args.instances is not None
    if nested:
        for need in ("cls_token_id", "sep_token_id"):
            if facts.get(need) is None:
                raise UsageError(f"--instances needs --{need.replace('_', '-')} (or a "
                                 "--tokenizer with [CLS]/[SEP])")
    if nested and not 0.0 <= args.short_seq_prob <= 1.0:
        raise UsageError(f"--short-seq-prob must be in [0, 1], got {args.short_seq_prob}")
    if nested and args.max_seq_length is not None and \
            args.max_seq_length < (3 if args.instances == "single" else 5):
        raise UsageError(f"--max-seq-length {args.max_seq_length} is too short for "
                         f"--instances {args.instances}")
    if args.instance_seed is not None and not 0 <= args.instance_seed < 1 << 64:
        raise UsageError(f"--instance-seed must be in [0, 2**64), got {args.instance_seed}")
    if (args.pad or args.truncate) and args.max_seq_length is None and not nested:
        raise UsageError("--pad and --truncate need --max-seq-length")
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(8), "little") >> 1
    keep = [c for c in args.keep_columns.split(",") if c]
    selection = args.selection or ("span" if args.span else "bernoulli")
    max_pred = args.max_predictions
    if args.layout == "sparse" and args.max_predictions_per_seq is None and max_pred is None:
        raise UsageError("--layout sparse needs --max-predictions-per-seq (or "
                         "--max-predictions)")
    if args.layout == "sparse" and max_pred is None:
        max_pred = args.max_predictions_per_seq
    seq_len = args.max_seq_length if args.max_seq_length is not None else (128 if nested
                                                                           else None)
    id_type = _id_type(facts["vocab_size"])
    padding = "max_length" if args.pad else "longest"
    masker_kw = dict(
        vocab_size=facts["vocab_size"], mask_token_id=facts["mask_token_id"],
        pad_token_id=facts["pad_token_id"], special_ids=facts["special_ids"],
        mlm_probability=args.mlm_probability, mask_replace_prob=args.mask_replace_prob,
        random_replace_prob=args.random_replace_prob, selection=selection,
        max_predictions=max_pred, random_ids=args.random_ids, seed=seed, action=args.action,
        span_lengths=args.span or "spanbert", padding=padding, max_length=seq_len,
        truncation=bool(args.truncate), dtype=args.dtype, num_threads=1)
    _make_masker(masker_kw, False, None)  # check the options before any work is done

    out = _AtomicOutput(args.output, args.overwrite)
    try:
        want_words = args.whole_word
        # stage 1: the samples (or documents) as an Arrow table
        if fmt_in == "jsonl":
            table = _read_jsonl(args.input, args.column, nested,
                                _IpcStage(out.scratch("input.arrow")), id_type)
        elif fmt_in == "npz":
            table = _read_npz(args.input, args.column, nested)
        elif fmt_in == "hf":
            table = _read_hf(args.input, args.split)
        else:
            table = _read_text(args.input, tokenizer, nested, want_words, seq_len,
                               _IpcStage(out.scratch("input.arrow")), id_type, progress)
        column = args.column if fmt_in != "text" else "input_ids"
        if column not in table.column_names:
            raise UsageError(f"the input has no column {column!r} (columns: "
                             f"{', '.join(table.column_names)})")
        has_words = any(c in table.column_names for c in ("word_starts", "word_ids"))
        word_table = None
        if args.whole_word and not has_words:
            if tokenizer is None:
                raise UsageError("--whole-word needs word boundaries: a word_ids/word_starts "
                                 "column in the input, or a --tokenizer to build a word table")
            word_table = tokenizer
        extra: Dict[str, Any] = {"input": os.path.abspath(args.input), "input_format": fmt_in}
        # stage 2 (optional): documents -> instances
        if nested:
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
        masker = _make_masker(masker_kw, args.whole_word, word_table)
        extra["masker_options"] = {k: v for k, v in masker_kw.items() if k != "num_threads"}
        extra["masker_options"]["whole_word"] = args.whole_word
        stats = write_static(table, args.output, masker, dupe_factor=args.dupe_factor,
                             output_format=fmt_out, column=column, layout=args.layout,
                             max_predictions_per_seq=args.max_predictions_per_seq,
                             keep_columns=keep, batch_size=args.batch_size,
                             num_threads=threads, shard_size=args.shard_size,
                             progress=progress, metadata=extra, _output=out,
                             compression=None if args.compression == "none" else
                             args.compression)
    except BaseException:
        out.abort()
        raise
    rate = stats.tokens / stats.seconds / 1e6 if stats.seconds > 0 else float("inf")
    print(f"fastmask prep: wrote {stats.rows} rows ({stats.samples} samples x "
          f"{stats.dupe_factor} copies, {stats.tokens} tokens) to {stats.path} in "
          f"{stats.seconds:.2f} s ({rate:.1f} M tokens/s); seed {seed}", file=sys.stderr)
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m fastmask.prep ...``: the ``prep`` command on its own."""
    parser = argparse.ArgumentParser(prog="fastmask")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
