"""fastmask.parquet: files of a corpus in a stable order, row groups, batches, id list types."""

import os

import numpy as np
import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from fastmask.parquet import ParquetCorpus, Piece, parquet_files  # noqa: E402


def rows(n, start=0):
    return [list(range(start + i, start + i + (i % 5))) for i in range(n)]


def write(path, table, **kw):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    pq.write_table(table, path, **kw)


def shard_tree(root):
    """Six shards of 10 rows each in nested directories, written in a shuffled order, plus files
    a corpus reader must skip."""
    names = ["b/part-1.parquet", "a/z/part-0.parquet", "a.parquet", "b/part-0.parquet",
             "a/part-9.pq", "c/deep/er/x.parquet"]
    want_order = sorted(names, key=lambda p: tuple(p.split("/")))
    for name in names:
        start = 100 * want_order.index(name)
        write(os.path.join(root, name),
              pa.table({"input_ids": pa.array(rows(10, start), pa.list_(pa.int32())),
                        "doc": pa.array(np.arange(start, start + 10))}), row_group_size=4)
    # not part of the corpus: hidden, underscore, other suffixes, staging directories
    for junk in ("_SUCCESS", ".part-0.parquet.crc", "b/_temporary/part-7.parquet",
                 ".x.fastmask-tmp/built.parquet", "README.md", "b/.hidden.parquet"):
        p = os.path.join(root, junk)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if junk.endswith(".parquet"):
            pq.write_table(pa.table({"input_ids": pa.array([[1]])}), p)
        else:
            open(p, "w").close()
    return want_order


def test_directory_order_is_by_path_components(tmp_path):
    order = shard_tree(str(tmp_path))
    files = parquet_files(str(tmp_path))
    assert [os.path.relpath(f, tmp_path).replace(os.sep, "/") for f in files] == order
    assert order[:3] == ["a/part-9.pq", "a/z/part-0.parquet", "a.parquet"]


def test_batches_follow_file_order_and_never_exceed_batch_size(tmp_path):
    shard_tree(str(tmp_path))
    c = ParquetCorpus(str(tmp_path))
    assert c.num_rows == len(c) == 60
    assert len(c.pieces) == 6 * 3  # row groups of 4, 4, 2 rows
    assert [p.start for p in c.pieces[:4]] == [0, 4, 8, 10]
    for bs in (1, 3, 7, 1000):
        batches = list(c.iter_batches(batch_size=bs, row_index_column="row"))
        assert all(0 < b.num_rows <= bs for b in batches)
        t = pa.Table.from_batches(batches)
        # shard k holds docs 100k .. 100k+9 and comes k-th
        assert t.column("doc").to_pylist() == [100 * k + i for k in range(6) for i in range(10)]
        assert t.column("row").to_pylist() == list(range(60))
        assert t.column("input_ids").to_pylist() == \
            [r for k in range(6) for r in rows(10, 100 * k)]


def test_relative_paths_become_absolute(tmp_path, monkeypatch):
    shard_tree(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    c = ParquetCorpus("b")
    assert c.files == [str(tmp_path / "b" / "part-0.parquet"),
                       str(tmp_path / "b" / "part-1.parquet")]
    monkeypatch.chdir(tmp_path / "a")  # a worker elsewhere still finds the files
    assert sum(b.num_rows for b in c.iter_batches()) == 20


def test_read_one_piece_and_columns(tmp_path):
    shard_tree(str(tmp_path))
    c = ParquetCorpus(str(tmp_path), columns=["doc"])
    assert c.schema.names == ["input_ids", "doc"]
    p = c.pieces[4]
    assert isinstance(p, Piece) and p.start == 14 and p.num_rows == 4
    t = pa.Table.from_batches(list(c.read_piece(p, batch_size=3, row_index_column="i")))
    assert t.column("i").to_pylist() == [14, 15, 16, 17]
    assert t.column("doc").to_pylist() == [104, 105, 106, 107]


def test_one_file_is_read_in_row_groups(tmp_path):
    f = str(tmp_path / "one.parquet")
    write(f, pa.table({"input_ids": pa.array(rows(1000), pa.list_(pa.int64()))}),
          row_group_size=128)
    c = ParquetCorpus(f)
    assert c.files == [f] and len(c.pieces) == 8 and c.num_rows == 1000
    seen = 0
    for b in c.iter_batches(batch_size=100):
        assert b.num_rows <= 100
        seen += b.num_rows
    assert seen == 1000


@pytest.mark.parametrize("value_type", [pa.int8(), pa.uint8(), pa.int16(), pa.uint16(),
                                        pa.int32(), pa.uint32(), pa.int64(), pa.uint64()])
@pytest.mark.parametrize("list_type", [pa.list_, pa.large_list])
def test_any_integer_list_type_masks_like_int64(tmp_path, value_type, list_type):
    import fastmask
    from fastmask.arrow import mask_batch

    data = [[2, 50, 60, 70, 3], [2, 100, 3], [], [2, 120, 121, 3]]
    f = str(tmp_path / "t.parquet")
    write(f, pa.table({"input_ids": pa.array(data, list_type(value_type))}))
    c = ParquetCorpus(f)
    (b,) = list(c.iter_batches(row_index_column="sid"))
    assert b.schema.field("input_ids").type == list_type(value_type)  # as stored
    m = fastmask.Masker(vocab_size=128, mask_token_id=4, special_ids=[0, 1, 2, 3, 4], seed=9,
                        mlm_probability=0.5)
    got = mask_batch(b, "sid", masker=m, epoch=1, keep_columns=False)
    want = m(data, sample_ids=[0, 1, 2, 3], epoch=1)
    for i, r in enumerate(data):
        assert got.column("labels")[i].as_py() == want["labels"][i, :len(r)].tolist()


def test_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such Parquet"):
        ParquetCorpus(str(tmp_path / "missing"))
    os.makedirs(tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="no Parquet files"):
        ParquetCorpus(str(tmp_path / "empty"))
    bad = str(tmp_path / "d" / "x.parquet")
    write(bad, pa.table({"text": ["a"]}))
    with pytest.raises(ValueError, match=r"x\.parquet has no column 'input_ids'"):
        ParquetCorpus(str(tmp_path / "d"))
    write(bad, pa.table({"input_ids": pa.array([[1.5]])}))
    with pytest.raises(TypeError, match="must be a list of integers"):
        ParquetCorpus(bad)
    with open(tmp_path / "d" / "y.parquet", "wb") as f:
        f.write(b"not parquet")
    with pytest.raises(ValueError, match=r"y\.parquet: not a readable Parquet file"):
        ParquetCorpus(str(tmp_path / "d" / "y.parquet"))
    good = str(tmp_path / "g.parquet")
    write(good, pa.table({"input_ids": pa.array([[1]]), "row": [0]}))
    with pytest.raises(ValueError, match="already has a column 'row'"):
        list(ParquetCorpus(good).iter_batches(row_index_column="row"))
    with pytest.raises(ValueError, match="batch_size"):
        list(ParquetCorpus(good).iter_batches(batch_size=0))
