"""Readers of ``fastmask prep`` inputs: JSON Lines of ids, ragged ``.npz``, saved Hugging
Face datasets and raw text (with a ``tokenizer.json``), each as an Arrow table."""

from __future__ import annotations

import os
from typing import Iterator, List, Optional, Tuple

import numpy as np

from ..cli.args import UsageError
from .api import as_table
from .writers import _IpcStage

__all__ = ["INPUT_FORMATS"]

INPUT_FORMATS = ("jsonl", "npz", "hf", "text", "parquet")

# command-line inputs


def _input_format(path: str, fmt: Optional[str]) -> str:
    if fmt:
        return fmt
    low = path.lower()
    if os.path.isdir(path):
        return "parquet" if _parquet_dir(path) else "hf"
    if low.endswith((".parquet", ".pq")):
        return "parquet"
    if low.endswith((".jsonl", ".ndjson", ".jsonl.gz", ".json")):
        return "jsonl"
    if low.endswith(".npz"):
        return "npz"
    if low.endswith((".txt", ".text")):
        return "text"
    raise UsageError(f"cannot tell the format of {path}; pass --input-format "
                     f"({', '.join(INPUT_FORMATS)})")



def _parquet_dir(path: str) -> bool:
    """A directory of Parquet shards (not a saved Hugging Face dataset)."""
    from ..parquet import parquet_files

    if any(os.path.exists(os.path.join(path, f))
           for f in ("dataset_info.json", "state.json", "dataset_dict.json")):
        return False
    try:
        return bool(parquet_files(path))
    except OSError:
        return False


def _read_parquet(path: str, column: str):
    """A Parquet corpus as a table (for --instances and the engines' in-memory inputs)."""
    import pyarrow as pa

    from ..parquet import ParquetCorpus

    corpus = ParquetCorpus(path, column=column)
    batches = [rb if rb.schema.equals(corpus.schema) else rb.cast(corpus.schema)
               for rb in corpus.iter_batches()]
    return pa.Table.from_batches(batches, schema=corpus.schema)


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
    if _blank(path):
        reader = None  # no lines: no rows, like an empty text file
    else:
        reader = pj.open_json(path, read_options=pj.ReadOptions(block_size=32 << 20),
                              parse_options=pj.ParseOptions(explicit_schema=schema,
                                                            unexpected_field_behavior="infer"))
    target = pa.list_(pa.list_(id_type)) if nested else pa.list_(id_type)
    row = 0
    for rb in reader or ():
        arrays = []
        names = []
        for name, arr in zip(rb.schema.names, rb.columns):
            if arr.null_count == len(arr) and name != column:
                continue  # an optional column absent from this block
            if name == column:
                if arr.null_count:
                    first = int(np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False))[0])
                    raise ValueError(f"{path}: line {row + first + 1} has no list "
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


def _blank(path: str) -> bool:
    """Whether a text file holds nothing but white space."""
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 16)
            if not chunk:
                return True
            if chunk.strip():
                return False


NPZ_HINT = "expected an .npz archive (numpy.savez) of 'values' and 'offsets' arrays"


def _open_npz(path: str):
    """``np.load`` of an ``.npz``, with a :class:`UsageError` naming the file when it is not
    one: an empty file, a single ``.npy`` array, anything that is not a zip archive."""
    with open(path, "rb") as f:
        head = f.read(8)
    if not head:
        raise UsageError(f"{path} is empty; {NPZ_HINT}")
    if head.startswith(b"\x93NUMPY"):
        raise UsageError(f"{path} holds a single .npy array, not an .npz archive; {NPZ_HINT}")
    if not head.startswith(b"PK"):
        raise UsageError(f"{path} is not an .npz (zip) archive; {NPZ_HINT}")
    try:
        z = np.load(path, allow_pickle=False)
    except Exception as e:  # zipfile and numpy raise several types for a damaged archive
        raise UsageError(f"{path}: cannot read the .npz archive ({type(e).__name__}: {e}); "
                         f"{NPZ_HINT}") from None
    if not hasattr(z, "files"):
        raise UsageError(f"{path} is not an .npz archive; {NPZ_HINT}")
    return z


def _read_npz(path: str, column: str, nested: bool):
    """A ragged ``.npz``: ``values`` + ``offsets`` (+ ``document_offsets`` for documents)."""
    import pyarrow as pa

    from ..arrow import list_array as _list_array

    with _open_npz(path) as z:
        keys = set(z.files)
        vkey = "values" if "values" in keys else column if column in keys else None
        if vkey is None or "offsets" not in keys:
            raise UsageError(f"{path} must hold 'values' and 'offsets' arrays (has: "
                             f"{', '.join(sorted(keys)) or 'none'})")
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

    from ..arrow import list_array as _list_array

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
                    from ..arrow import word_starts_from_word_ids

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
    from ..arrow import word_starts_from_word_ids

    return word_starts_from_word_ids(word_ids, np.array([0, word_ids.shape[0]], np.int64))


