"""Writers of static-masking output: Parquet files and Arrow streams, the atomic output
directory, Arrow IPC staging files, the progress bar and saved Hugging Face datasets.

Everything a run writes goes to a hidden temporary directory next to the output
(``.NAME.XXXX.fastmask-tmp``) and is moved into place with ``os.replace`` only when complete.
The directory records the process that owns it, so a later run against the same output removes
the temporary directories of runs that died (``kill -9``, a crash) without cleaning up.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Dict, Optional

# the atomic output is shared with the Ray and Spark writers
from .._engines import TMP_SUFFIX, OutputError  # noqa: F401
from .._engines import StagedDirectory as _AtomicOutput  # noqa: F401
from .._engines import signals_held as _signals_held  # noqa: F401

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
        self._writer: Any = None  # a pyarrow writer, opened with the first batch
        self._sink: Any = None
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


class _Progress:
    def __init__(self, enabled: bool, total: Optional[int], desc: str):
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
        self._writer: Any = None  # a pyarrow writer, opened with the first batch
        self._sink: Any = None
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


