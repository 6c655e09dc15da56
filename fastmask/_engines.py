"""What :mod:`fastmask.prep`, :mod:`fastmask.ray` and :mod:`fastmask.spark` share: the rows of
a masked copy, the sample-id checks, the atomic output and its publication, the lazy engine
imports.

A copy is a pure function of one Arrow batch: :class:`CopyJob` holds the masker and the options
(it pickles, so an engine ships it to its workers once) and turns an input batch into one output
batch per requested epoch. Its rows carry the same columns as :func:`fastmask.prep.write_static`
writes: the sample id, ``copy`` (the epoch), the masked columns of
:func:`fastmask.arrow.mask_batch`, then the input's ``token_type_ids``, NSP/SOP labels and any
``keep_columns``.
"""

from __future__ import annotations

import importlib
import json
import numbers
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

import numpy as np

#: Sample ids must be below this (the counter layout of the random streams, see semantics.md).
SAMPLE_ID_LIMIT = 1 << 48
#: Per-row label columns carried into the output when present.
LABEL_COLUMNS = ("next_sentence_label", "sentence_order_label")
#: Name of the file describing a finished output directory (written last).
MARKER = "_fastmask.json"


def require(module: str, extra: str, what: str) -> Any:
    """Imports an optional engine, or raises an ImportError that says how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(f"{what} needs {module.split('.')[0]}, which is not installed "
                          f"({e}); install it with `pip install fastmask[{extra}]`") from e


def positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def epochs_of(epoch: Optional[int], dupe_factor: int) -> List[int]:
    """The epochs to write: ``[epoch]``, or ``0 .. dupe_factor - 1`` when ``epoch`` is None."""
    k = positive("dupe_factor", dupe_factor)
    if epoch is None:
        return list(range(k))
    if isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral) or epoch < 0:
        raise ValueError(f"epoch must be a non-negative integer or None, got {epoch!r}")
    if k != 1:
        raise ValueError(f"pass either epoch= (one copy) or dupe_factor= (copies 0 .. k-1), "
                         f"not both (epoch={epoch}, dupe_factor={k})")
    return [int(epoch)]


def check_sample_ids(arr: Any, name: str, where: str = "a batch") -> np.ndarray:
    """The sample ids of one batch as int64, after checking them.

    Nulls, non-integers, negative ids, ids not below 2**48 and ids repeated within the batch
    are a ``ValueError`` naming the first offending row of the batch and its id. (Repeats
    across batches are not seen here; see ``check_unique`` in the engine modules.)
    """
    import pyarrow as pa

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if isinstance(arr, pa.Array):
        if not pa.types.is_integer(arr.type):
            raise TypeError(f"{name} must be an integer column, got {arr.type}")
        if arr.null_count:
            row = int(np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False))[0])
            raise ValueError(f"{name}: row {row} of {where} has no sample id (null)")
        arr = arr.to_numpy(zero_copy_only=False)
    ids = np.asarray(arr)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer column, got {ids.dtype}")
    if ids.dtype.kind == "u" and ids.shape[0] and int(ids.max()) >= SAMPLE_ID_LIMIT:
        row = int(np.flatnonzero(ids >= SAMPLE_ID_LIMIT)[0])
        raise ValueError(f"{name}: row {row} of {where} has sample id {int(ids[row])}, not "
                         f"below 2**48")
    ids = ids.astype(np.int64, copy=False)
    bad = np.flatnonzero((ids < 0) | (ids >= SAMPLE_ID_LIMIT))
    if bad.shape[0]:
        row = int(bad[0])
        what = "negative" if ids[row] < 0 else "not below 2**48"
        raise ValueError(f"{name}: row {row} of {where} has sample id {int(ids[row])}, {what}")
    if ids.shape[0] > 1:
        order = np.argsort(ids, kind="stable")
        s = ids[order]
        dup = np.flatnonzero(s[1:] == s[:-1])
        if dup.shape[0]:
            later = order[dup + 1]  # the second occurrence of each repeated id
            i = int(np.argmin(later))
            row, first = int(later[i]), int(order[dup[i]])
            raise ValueError(f"{name}: row {row} of {where} repeats sample id {int(ids[row])} "
                             f"of row {first}; every row needs its own id")
    return ids


def carried_columns(names: Sequence[str], column: str, sample_id_column: str,
                    keep_columns: Sequence[str]) -> List[str]:
    """Input columns copied into every output row: token_type_ids, the NSP/SOP labels, and
    ``keep_columns`` (checked against ``names``)."""
    if isinstance(keep_columns, str):
        keep_columns = [keep_columns]
    missing = [c for c in keep_columns if c not in names]
    if missing:
        raise ValueError(f"keep_columns: no column {missing[0]!r} in the input (columns: "
                         f"{', '.join(names)})")
    carry = [c for c in ("token_type_ids",) + LABEL_COLUMNS if c in names]
    carry += [c for c in keep_columns if c not in carry and c not in (column, sample_id_column)]
    return carry


class CopyJob:
    """Turns input record batches into their masked copies (picklable: sent to workers)."""

    def __init__(self, masker, names: Sequence[str], *, epochs: Sequence[int], column: str,
                 sample_id_column: str, layout: str, max_predictions_per_seq: Optional[int],
                 keep_columns: Sequence[str], variable_lists: bool = False,
                 row_index: bool = False):
        from .arrow import LAYOUTS

        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(map(repr, LAYOUTS))}, got "
                             f"{layout!r}")
        # row_index: the ids are the rows' indices (given to copies()), written as
        # sample_id_column; otherwise they are read from that input column
        self.row_index = row_index
        need = (("column", column),) if row_index else \
            (("column", column), ("sample_id_column", sample_id_column))
        for what, name in need:
            if name not in names:
                raise ValueError(f"{what}: the input has no column {name!r} (columns: "
                                 f"{', '.join(names)})")
        if column == sample_id_column:
            raise ValueError(f"column and sample_id_column are both {column!r}")
        self.masker = masker
        self.epochs = [int(e) for e in epochs]
        self.column = column
        self.sample_id_column = sample_id_column
        self.layout = layout
        self.max_predictions_per_seq = max_predictions_per_seq
        self.carry = carried_columns(names, column, sample_id_column, keep_columns)
        # engines without fixed-size lists (Spark) get the sparse columns as plain lists
        self.variable_lists = variable_lists
        self.schema = None  # set by bind(): every output batch is cast to it

    def bind(self, input_schema) -> "CopyJob":
        """Fixes the output schema from the input's Arrow schema (an empty batch is masked)."""
        import pyarrow as pa

        empty = pa.RecordBatch.from_pylist([], schema=input_schema)
        self.schema = next(self.copies(empty, "the input schema", start=0)).schema
        return self

    def copy(self, rb, ids: np.ndarray, epoch: int, where: str):
        import pyarrow as pa

        from .arrow import mask_batch

        try:
            masked = mask_batch(rb, ids, masker=self.masker, epoch=epoch, column=self.column,
                                layout=self.layout,
                                max_predictions_per_seq=self.max_predictions_per_seq,
                                keep_columns=False)
        except ValueError as e:
            raise ValueError(f"in {where}: {e}") from None
        n = rb.num_rows
        names = [self.sample_id_column, "copy"]
        arrays = [pa.array(ids, type=pa.int64()), pa.array(np.full(n, epoch, dtype=np.int32))]
        for name in masked.column_names:
            if name == "special_tokens_mask":
                continue
            arr = masked.column(name)
            if self.variable_lists and pa.types.is_fixed_size_list(arr.type):
                arr = arr.cast(pa.list_(arr.type.value_type))
            names.append(name)
            arrays.append(arr)
        for name in self.carry:
            if name not in names:
                names.append(name)
                arrays.append(rb.column(name))
        out = pa.RecordBatch.from_arrays(arrays, names=names)
        if self.schema is not None and not out.schema.equals(self.schema):
            out = out.cast(self.schema)
        return out

    def copies(self, rb, where: Optional[str] = None, start: Optional[int] = None,
               epochs: Optional[Sequence[int]] = None) -> Iterator[Any]:
        """The copies of one input batch, one output batch per epoch (``epochs``, default all
        of the job's); with ``row_index`` the ids are ``start, start + 1, ...``."""
        if self.row_index:
            assert start is not None  # callers pass the first row's id with row_index
            ids = np.arange(start, start + rb.num_rows, dtype=np.int64)
            if where is None:
                where = f"the batch of samples {start} .. {start + rb.num_rows - 1}"
        else:
            if where is None:
                where = _describe(rb, self.sample_id_column)
            ids = check_sample_ids(rb.column(self.sample_id_column), self.sample_id_column,
                                   where)
        for epoch in (self.epochs if epochs is None else epochs):
            yield self.copy(rb, ids, epoch, where)

    def metadata(self) -> Dict[str, Any]:
        """What the output's ``_fastmask.json`` records about the run."""
        m = self.masker
        return {"seed": m.seed, "dupe_factor": len(self.epochs), "epochs": self.epochs,
                "layout": self.layout, "masker": repr(m),
                "sample_id_column": self.sample_id_column,
                "copies": f"copy j of a row is masked with epoch j and the row's "
                          f"{self.sample_id_column}"}


def _describe(rb, sample_id_column: str) -> str:
    """A name for a batch in error messages: its first sample id (engines number no rows)."""
    if not rb.num_rows:
        return "an empty batch"
    first = rb.column(sample_id_column)[0].as_py()
    return f"the batch starting at {sample_id_column}={first}"


def is_uri(path: str) -> bool:
    return "://" in str(path)


TMP_SUFFIX = ".fastmask-tmp"
#: the file in a temporary directory naming the process that owns it
OWNER_FILE = "owner.json"


class OutputError(OSError):
    """An output path that cannot be created (``fastmask prep`` exits with status 2)."""


def _check_parent(path: str) -> str:
    """The output's parent directory, created if missing; an :class:`OutputError` naming the
    first component that is a file (or cannot be created)."""
    parent = os.path.dirname(path)
    probe = parent
    while probe and not os.path.exists(probe):
        up = os.path.dirname(probe)
        if up == probe:
            break
        probe = up
    if probe and not os.path.isdir(probe):
        raise OutputError(f"cannot write {path}: {probe} is a file, not a directory")
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create the directory {parent} for {path}: "
                          f"{e.strerror or e}") from None
    return parent


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists, owned by someone else (or cannot tell: keep it)
    return True


def _stale_temp_dirs(path: str) -> Iterator[str]:
    """Temporary directories of earlier runs against ``path`` whose process is gone (on this
    host). Directories without an owner record are left alone."""
    parent, base = os.path.split(path)
    prefix = f".{base}."
    host = socket.gethostname()
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(TMP_SUFFIX)):
            continue
        d = os.path.join(parent, name)
        try:
            with open(os.path.join(d, OWNER_FILE), encoding="utf-8") as f:
                owner = json.load(f)
            pid, their_host = int(owner["pid"]), str(owner["host"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if their_host == host and pid != os.getpid() and not _alive(pid):
            yield d


@contextmanager
def signals_held():
    """SIGINT and SIGTERM wait until the block is done (main thread only), then are delivered
    as usual, so a move of the output is never cut in half."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got = []
    old = {}

    def hold(signum, frame):
        got.append(signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            old[sig] = signal.signal(sig, hold)
        except (ValueError, OSError):
            pass
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)
        for sig in dict.fromkeys(got):
            signal.raise_signal(sig)


class StagedDirectory:
    """An output path that only receives complete results.

    Everything (staging files included) is written under a hidden temporary directory next to
    the output (``.NAME.XXXX.fastmask-tmp``, recording the process that owns it); ``build`` is
    a directory in it for an engine to write into. :meth:`publish` moves the finished file or
    directory into place with ``os.replace`` while SIGINT/SIGTERM wait (``published`` is then
    true) and :meth:`abort` deletes the temporary directory. Opening one removes the temporary
    directories that dead runs on this host left for the same output (``removed_stale`` lists
    them). Engines need a filesystem the driver and the workers share (a local disk for a
    local cluster, NFS, ...).
    """

    def __init__(self, path: str, overwrite: bool):
        self.path = os.path.abspath(os.fspath(path))
        self.published = False
        if os.path.lexists(self.path) and not overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=True (--overwrite) to "
                                  "replace it")
        parent = _check_parent(self.path)
        self.removed_stale = []
        for d in _stale_temp_dirs(self.path):
            shutil.rmtree(d, ignore_errors=True)
            self.removed_stale.append(d)
        self.tmpdir = tempfile.mkdtemp(prefix=f".{os.path.basename(self.path)}.",
                                       suffix=TMP_SUFFIX, dir=parent)
        with open(os.path.join(self.tmpdir, OWNER_FILE), "w", encoding="utf-8") as f:
            json.dump({"pid": os.getpid(), "host": socket.gethostname()}, f)
        self.build = self.scratch("built")

    def scratch(self, name: str) -> str:
        """A path inside the temporary directory."""
        return os.path.join(self.tmpdir, name)

    def publish(self, built: str, marker: Optional[Dict[str, Any]] = None) -> None:
        """Moves ``built`` to the output path (after writing ``_fastmask.json`` into it when
        ``marker`` is given)."""
        if marker is not None:
            write_marker(built, marker)
        with signals_held():
            if os.path.lexists(self.path):
                os.replace(self.path, self.scratch("replaced-output"))
            os.replace(built, self.path)
            self.published = True
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    def abort(self) -> None:
        shutil.rmtree(self.tmpdir, ignore_errors=True)


def write_marker(directory: str, meta: Dict[str, Any]) -> None:
    """Writes ``_fastmask.json`` into an output directory (a local path or a URI)."""
    text = json.dumps({"fastmask": meta}, indent=1, sort_keys=True).encode()
    if is_uri(directory):
        import pyarrow.fs as pafs

        fs, root = pafs.FileSystem.from_uri(directory)
        with fs.open_output_stream(f"{root.rstrip('/')}/{MARKER}") as f:
            f.write(text)
        return
    with open(os.path.join(directory, MARKER), "wb") as f:
        f.write(text)


def footer_counts(directory: str, column: str) -> Dict[str, int]:
    """Rows, files and ids written in ``column`` from the Parquet footers of an output."""
    import pyarrow.parquet as pq

    from .parquet import parquet_files

    rows = ids = 0
    files = parquet_files(directory)
    for f in files:
        md = pq.ParquetFile(f).metadata
        rows += md.num_rows
        leaf = None
        for g in range(md.num_row_groups):
            rg = md.row_group(g)
            if leaf is None:
                leaf = next((c for c in range(rg.num_columns)
                             if rg.column(c).path_in_schema.split(".")[0] == column), -1)
            st = rg.column(leaf).statistics if leaf >= 0 else None
            if st is not None and st.num_values is not None:
                ids += st.num_values
    return {"rows": rows, "files": len(files), "ids": ids}


def write_copies(path: str, write: Callable[[str], None], job: "CopyJob", meta: Dict[str, Any],
                 column: str, overwrite: bool, output: Optional["StagedDirectory"],
                 t0: float) -> Dict[str, Any]:
    """Runs an engine's ``write(directory)`` for the copies of ``job`` and publishes them; the
    fields of the :class:`fastmask.prep.PrepStats` to return.

    A URI is written in place, then the marker (nothing is counted); a local path is written
    into a staged directory (``output``, or a new one) that is published when complete and
    removed on any error or interruption, with rows and ids counted from the Parquet footers.
    """
    if is_uri(path):
        write(path)
        write_marker(path, meta)
        return dict(path=path, dupe_factor=len(job.epochs), seconds=time.perf_counter() - t0)
    out = output or StagedDirectory(path, overwrite)
    try:
        write(out.build)
        counts = footer_counts(out.build, column)
        k = len(job.epochs)
        stats = dict(path=out.path, rows=counts["rows"], tokens=counts["ids"],
                     samples=counts["rows"] // k, dupe_factor=k,
                     seconds=time.perf_counter() - t0)
        out.publish(out.build, dict(meta, rows=stats["rows"], files=counts["files"]))
    except BaseException:
        out.abort()
        raise
    return stats
