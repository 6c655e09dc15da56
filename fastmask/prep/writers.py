"""Writers of static-masking output: Parquet files and Arrow streams, the atomic output
directory, Arrow IPC staging files, the progress bar and saved Hugging Face datasets.

Everything a run writes goes to a hidden temporary directory next to the output
(``.NAME.XXXX.fastmask-tmp``) and is moved into place with ``os.replace`` only when complete.
The directory records the process that owns it, so a later run against the same output removes
the temporary directories of runs that died (``kill -9``, a crash) without cleaning up.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import tempfile
import threading
from contextlib import contextmanager
from typing import Any, Dict, Iterator, Optional

__all__ = ["OutputError", "TMP_SUFFIX"]


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
def _signals_held():
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


class _AtomicOutput:
    """An output path that only receives complete results.

    Everything (staging files included) is written under a hidden temporary directory next to
    the output; :meth:`publish` moves the finished file or directory into place with
    ``os.replace`` (``published`` is then true) and :meth:`abort` deletes the temporary
    directory. Opening one removes the temporary directories that dead runs left for the same
    output (``removed_stale`` lists them).
    """

    def __init__(self, path: str, overwrite: bool):
        self.path = os.path.abspath(path)
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

    def scratch(self, name: str) -> str:
        """A path inside the temporary directory."""
        return os.path.join(self.tmpdir, name)

    def publish(self, built: str) -> None:
        with _signals_held():
            if os.path.lexists(self.path):
                os.replace(self.path, self.scratch("replaced-output"))
            os.replace(built, self.path)
            self.published = True
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


