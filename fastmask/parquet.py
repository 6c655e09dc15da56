"""Reading a tokenized corpus from Parquet: one file or a directory of shards, in batches.

:class:`ParquetCorpus` lists the files of a corpus in a stable order, reads their footers (row
counts, schemas) and streams record batches one row group at a time, so a corpus of any size is
read with the memory of one row group. Every row has a global index (its position in the file
order), which is the default sample id of static masking.

* A directory is searched recursively. Files ending in ``.parquet`` or ``.pq`` are read; names
  starting with ``.`` or ``_`` (``_SUCCESS``, ``.crc`` files, hidden staging directories) are
  skipped, in files and directories alike. The order is that of the relative paths compared
  component by component (``a/b.parquet`` before ``a.parquet`` before ``b/``), the same on every
  machine and filesystem. Hive-style partition values in directory names are not read as
  columns.
* The token-id column may be a ``list``, ``large_list`` or ``fixed_size_list`` of any integer
  type (int8 .. uint64), and may differ between shards; batches come as stored, which
  :func:`fastmask.arrow.mask_batch` reads without a copy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Iterator, List, Optional, Sequence

__all__ = ["ParquetCorpus", "Piece", "parquet_files", "PARQUET_SUFFIXES"]

#: File names read from a directory.
PARQUET_SUFFIXES = (".parquet", ".pq")


def _hidden(name: str) -> bool:
    return name.startswith((".", "_"))


def parquet_files(path: str) -> List[str]:
    """The Parquet files of ``path`` (a file, or a directory searched recursively) in the
    stable order described in the module docstring."""
    path = os.fspath(path)
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise FileNotFoundError(f"no such Parquet file or directory: {path}")
    found = []
    for root, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if not _hidden(d)]
        rel = os.path.relpath(root, path)
        parts = () if rel == os.curdir else tuple(rel.split(os.sep))
        for f in files:
            if not _hidden(f) and f.lower().endswith(PARQUET_SUFFIXES):
                found.append(parts + (f,))
    found.sort()
    return [os.path.join(path, *p) for p in found]


@dataclass(frozen=True)
class Piece:
    """One row group of one file: the unit of parallel reading. ``start`` is the global index
    of its first row."""

    file: str
    row_group: int
    start: int
    num_rows: int


def _is_int_list(t) -> bool:
    import pyarrow as pa

    return (pa.types.is_list(t) or pa.types.is_large_list(t) or
            pa.types.is_fixed_size_list(t)) and pa.types.is_integer(t.value_type)


class ParquetCorpus:
    """A Parquet corpus: its files, row groups (:class:`Piece`) and batches.

    Args:
        path: a Parquet file or a directory of shards.
        column: the token-id column, checked in every file's schema (a list of integers).
        columns: the columns to read (default: all); ``column`` is always read.

    Only the footers are read when it is built: ``num_rows``, ``pieces`` and ``schema`` (the
    first file's, for the read columns) cost no data reads. ``files`` (and the pieces' paths)
    are absolute.
    """

    def __init__(self, path: str, column: str = "input_ids",
                 columns: Optional[Sequence[str]] = None):
        import pyarrow.parquet as pq

        self.path = os.fspath(path)
        self.column = column
        # absolute: workers of an engine read the pieces from their own working directory
        self.files = [os.path.abspath(f) for f in parquet_files(self.path)]
        if not self.files:
            raise FileNotFoundError(f"no Parquet files ({', '.join(PARQUET_SUFFIXES)}) under "
                                    f"{self.path}")
        self.pieces: List[Piece] = []
        start = 0
        self.schema: Any = None  # a pyarrow Schema once the first file is read
        for f in self.files:
            try:
                pf = pq.ParquetFile(f)
            except Exception as e:  # pyarrow raises ArrowInvalid / OSError for non-Parquet data
                raise ValueError(f"{f}: not a readable Parquet file ({e})") from None
            schema = pf.schema_arrow
            if column not in schema.names:
                raise ValueError(f"{f} has no column {column!r} (columns: "
                                 f"{', '.join(schema.names)})")
            t = schema.field(column).type
            if not _is_int_list(t):
                raise TypeError(f"{f}: column {column!r} must be a list of integers, got {t}")
            if columns is not None:
                missing = [c for c in columns if c not in schema.names]
                if missing:
                    raise ValueError(f"{f} has no column {missing[0]!r}")
            if self.schema is None:
                self.schema = schema
            md = pf.metadata
            for g in range(md.num_row_groups):
                n = md.row_group(g).num_rows
                self.pieces.append(Piece(f, g, start, n))
                start += n
        self.num_rows = start
        self.columns = None if columns is None else \
            list(dict.fromkeys([column] + list(columns)))
        if self.columns is not None:
            import pyarrow as pa

            self.schema = pa.schema([self.schema.field(c) for c in self.columns])

    def __len__(self) -> int:
        return self.num_rows

    def __repr__(self) -> str:
        return (f"ParquetCorpus({self.path!r}, files={len(self.files)}, "
                f"row_groups={len(self.pieces)}, rows={self.num_rows})")

    def read_piece(self, piece: Piece, batch_size: int = 4096,
                   row_index_column: Optional[str] = None) -> Iterator[Any]:
        """The record batches of one row group (at most ``batch_size`` rows each).

        With ``row_index_column`` each batch gets an int64 column of that name holding the
        rows' global indices (``piece.start`` on).
        """
        import numpy as np
        import pyarrow as pa
        import pyarrow.parquet as pq

        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        pf = pq.ParquetFile(piece.file)
        row = piece.start
        for rb in pf.iter_batches(batch_size=batch_size, row_groups=[piece.row_group],
                                  columns=self.columns, use_threads=False):
            if row_index_column is not None:
                if row_index_column in rb.schema.names:
                    raise ValueError(f"row_index_column: {piece.file} already has a column "
                                     f"{row_index_column!r}")
                idx = pa.array(np.arange(row, row + rb.num_rows, dtype=np.int64))
                rb = pa.RecordBatch.from_arrays([idx] + rb.columns,
                                                names=[row_index_column] + rb.schema.names)
            row += rb.num_rows
            yield rb

    def iter_batches(self, batch_size: int = 4096, row_index_column: Optional[str] = None,
                     pieces: Optional[Sequence[Piece]] = None) -> Iterator[Any]:
        """Every record batch of the corpus in file order (batches do not span row groups);
        ``pieces`` restricts the read to some row groups."""
        for piece in (self.pieces if pieces is None else pieces):
            yield from self.read_piece(piece, batch_size, row_index_column)
