"""Parquet input, the corpus's own sample ids and ``--engine local|ray|spark`` of
``fastmask.prep.write_static`` and ``fastmask prep``.

The engine tests run the command in-process from an empty working directory (Ray puts the
driver's working directory on the workers' path) on a real local Ray cluster and a real local
Spark session, and compare their rows with ``--engine local`` (sorted by id and copy: engines
write rows in block order). They skip only when the engine is not installed.
"""

import glob
import json
import os
import sys

import numpy as np
import pytest

import fastmask
from fastmask import prep

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

VOCAB, PAD, CLS, SEP, MASK = 1000, 0, 2, 3, 4
VOCAB_FLAGS = ["--vocab-size", str(VOCAB), "--mask-token-id", str(MASK), "--pad-token-id",
               str(PAD), "--special-ids", "0,1,2,3,4", "--seed", "77", "--no-progress"]
N = 61  # no batch size below divides it


def masker():
    return fastmask.Masker(vocab_size=VOCAB, mask_token_id=MASK, pad_token_id=PAD,
                           special_ids=[0, 1, CLS, SEP, MASK], seed=77)


def corpus(n=N, seed=0, ids=None):
    rng = np.random.default_rng(seed)
    rows = [[CLS] + rng.integers(5, VOCAB, size=int(rng.integers(1, 30))).tolist() + [SEP]
            for _ in range(n)]
    if ids is None:
        ids = rng.permutation(40 * n)[:n] * 3 + 11  # sparse, shuffled
    return pa.table({"doc_id": pa.array(ids, pa.int64()),
                     "input_ids": pa.array(rows, pa.list_(pa.int32()))})


def shards(table, directory, sizes=(20, 0, 41), row_group_size=7):
    """The table as Parquet shards (one empty, nested directories), small row groups."""
    os.makedirs(os.path.join(directory, "b"), exist_ok=True)
    start = 0
    for i, n in enumerate(sizes):
        path = os.path.join(directory, "b" if i == 1 else "", f"part-{i}.parquet")
        pq.write_table(table.slice(start, n), path, row_group_size=row_group_size)
        start += n
    return directory


def leftovers(directory):
    return glob.glob(os.path.join(str(directory), ".*.fastmask-tmp"))


def rows_of(path):
    t = pq.read_table(str(path)) if os.path.isfile(str(path)) else \
        pa.concat_tables([pq.read_table(f) for f in sorted(glob.glob(
            os.path.join(str(path), "**", "*.parquet"), recursive=True))])
    return t


def keyed(t, id_col):
    """{(id, copy): (input_ids, labels)}."""
    ids = t.column(id_col).to_pylist()
    copies = t.column("copy").to_pylist()
    vals = zip(t.column("input_ids").to_pylist(), t.column("labels").to_pylist())
    out = dict(zip(zip(ids, copies), vals))
    assert len(out) == t.num_rows
    return out


# ---------------------------------------------------------------------------------------------
# the library


def test_parquet_path_input_equals_table_input(tmp_path):
    t = corpus()
    src = shards(t, str(tmp_path / "in"))
    m = masker()
    a = prep.write_static(t, str(tmp_path / "a.parquet"), m, dupe_factor=3, batch_size=5)
    b = prep.write_static(src, str(tmp_path / "b.parquet"), m, dupe_factor=3, batch_size=5,
                          num_threads=2)
    assert (a.rows, a.samples, a.tokens) == (b.rows, b.samples, b.tokens) == \
        (3 * N, N, 3 * sum(len(r) for r in t.column("input_ids").to_pylist()))
    ta, tb = pq.read_table(str(tmp_path / "a.parquet")), pq.read_table(str(tmp_path / "b.parquet"))
    assert ta.equals(tb)
    assert tb.column("sample_id").to_pylist() == list(range(N)) * 3


def test_parquet_input_is_read_row_group_by_row_group(tmp_path, monkeypatch):
    from fastmask.parquet import ParquetCorpus

    src = shards(corpus(), str(tmp_path / "in"))
    seen = []
    real = ParquetCorpus.read_piece

    def spy(self, piece, batch_size=4096, row_index_column=None):
        for rb in real(self, piece, batch_size, row_index_column):
            seen.append(rb.num_rows)
            yield rb

    monkeypatch.setattr(ParquetCorpus, "read_piece", spy)
    monkeypatch.setattr(pq, "read_table", None)  # never the whole corpus at once
    prep.write_static(src, str(tmp_path / "o"), masker(), output_format="parquet",
                      batch_size=5, dupe_factor=2)
    assert max(seen) <= 5 and sum(seen) == 2 * N


@pytest.mark.parametrize("as_path", [False, True])
def test_sample_id_column_keys_every_copy(tmp_path, as_path):
    t = corpus()
    data = shards(t, str(tmp_path / "in")) if as_path else t
    m = masker()
    prep.write_static(data, str(tmp_path / "o.parquet"), m, dupe_factor=3, batch_size=9,
                      sample_id_column="doc_id")
    out = pq.read_table(str(tmp_path / "o.parquet"))
    assert "sample_id" not in out.column_names
    assert out.column("doc_id").type == pa.int64()
    got = keyed(out, "doc_id")
    rows = t.column("input_ids").to_pylist()
    ids = t.column("doc_id").to_pylist()
    for j in range(3):
        want = m(rows, sample_ids=np.array(ids), epoch=j)
        for i, sid in enumerate(ids):
            x, y = got[(sid, j)]
            n = len(rows[i])
            assert x == want["input_ids"][i, :n].tolist()
            assert y == want["labels"][i, :n].tolist()


@pytest.mark.parametrize("as_path", [False, True])
def test_duplicate_and_negative_ids_name_the_first_offending_row(tmp_path, as_path):
    for ids, msg in ((np.r_[np.arange(30), [-5], np.arange(31, N)], "row 30 .*-5, negative"),
                     (np.r_[np.arange(40), [7], np.arange(41, N)], "row 40 .*repeats sample "
                                                                     "id 7 of row 7")):
        t = corpus(ids=ids)
        d = str(tmp_path / f"in{len(msg)}")
        data = shards(t, d) if as_path else t
        with pytest.raises(ValueError, match=msg):
            prep.write_static(data, str(tmp_path / "o.parquet"), masker(),
                              sample_id_column="doc_id")
        assert not os.path.exists(tmp_path / "o.parquet") and not leftovers(tmp_path)


# ---------------------------------------------------------------------------------------------
# the command


def cli(*args):
    from fastmask.cli import main

    return main(["prep", *map(str, args)])


def test_cli_reads_parquet_files_and_directories(tmp_path, capsys):
    t = corpus()
    src = shards(t, str(tmp_path / "in"))
    pq.write_table(t, str(tmp_path / "one.parquet"))
    pq.write_table(t, str(tmp_path / "one.data"))
    outs = []
    for inp, extra in ((src, []), (tmp_path / "one.parquet", []),
                       (tmp_path / "one.data", ["--input-format", "parquet"])):
        o = tmp_path / f"o{len(outs)}.parquet"
        assert cli(inp, "-o", o, *VOCAB_FLAGS, "--dupe-factor", 2, "--batch-size", 8,
                   "--sample-id-column", "doc_id", *extra) == 0, capsys.readouterr().err
        outs.append(pq.read_table(str(o)))
    assert outs[0].equals(outs[1]) and outs[1].equals(outs[2])
    assert sorted(set(outs[0].column("doc_id").to_pylist())) == \
        sorted(t.column("doc_id").to_pylist())
    assert cli(src, "-o", tmp_path / "x.parquet", *VOCAB_FLAGS, "--sample-id-column",
               "nope") == 2
    assert "--sample-id-column: no column 'nope'" in capsys.readouterr().err


def test_cli_missing_engine_says_how_to_install(tmp_path, capsys, monkeypatch):
    src = shards(corpus(), str(tmp_path / "in"))
    for engine, mod in (("ray", "ray"), ("spark", "pyspark")):
        monkeypatch.setitem(sys.modules, mod, None)
        assert cli(src, "-o", tmp_path / "o", *VOCAB_FLAGS, "--engine", engine) == 2
        err = capsys.readouterr().err
        assert f"pip install 'fastmask[{engine}]'" in err
    assert not os.path.exists(tmp_path / "o") and not leftovers(tmp_path)


def _have(mod):
    import importlib.util

    try:
        return importlib.util.find_spec(mod) is not None
    except (ImportError, ValueError):
        return False


ENGINES = [pytest.param("ray", marks=pytest.mark.skipif(
               not _have("ray.data"), reason="Ray is not installed (pip install fastmask[ray])")),
           pytest.param("spark", marks=pytest.mark.skipif(
               not _have("pyspark"), reason="pyspark is not installed (pip install "
                                            "fastmask[spark])"))]


@pytest.mark.parametrize("engine", ENGINES)
def test_engine_rejects_a_single_file_output(tmp_path, capsys, engine):
    src = shards(corpus(), str(tmp_path / "in"))
    assert cli(src, "-o", tmp_path / "o.parquet", *VOCAB_FLAGS, "--engine", engine) == 2
    assert "directory" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "o.parquet") and not leftovers(tmp_path)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("own_ids", [True, False])
def test_engines_write_the_same_rows_as_local(tmp_path, monkeypatch, capsys, engine, own_ids):
    monkeypatch.chdir(tmp_path)
    t = corpus()
    src = shards(t, str(tmp_path / "in"))
    opts = [*VOCAB_FLAGS, "--dupe-factor", 3, "--batch-size", 8]
    if own_ids:
        opts += ["--sample-id-column", "doc_id"]
    id_col = "doc_id" if own_ids else "sample_id"
    assert cli(src, "-o", tmp_path / "local", "--output-format", "parquet", *opts) == 0
    rc = cli(src, "-o", tmp_path / engine, "--engine", engine, *opts)
    assert rc == 0, capsys.readouterr().err
    with open(tmp_path / engine / "_fastmask.json") as f:
        assert json.load(f)["fastmask"]["engine"] == engine
    local, other = rows_of(tmp_path / "local"), rows_of(tmp_path / engine)
    assert other.num_rows == local.num_rows == 3 * N
    assert keyed(other, id_col) == keyed(local, id_col)
    assert not leftovers(tmp_path)


@pytest.mark.parametrize("engine", ENGINES)
def test_failed_engine_run_leaves_no_output(tmp_path, monkeypatch, capsys, engine):
    """A worker failing for good (an id outside the vocabulary in the last shard): exit 1,
    neither output nor staging directory."""
    monkeypatch.chdir(tmp_path)
    t = corpus()
    bad = t.column("input_ids").to_pylist()
    bad[-1] = bad[-1][:1] + [VOCAB + 5] + bad[-1][1:]
    t = t.set_column(1, "input_ids", pa.array(bad, pa.list_(pa.int32())))
    src = shards(t, str(tmp_path / "in"))
    rc = cli(src, "-o", tmp_path / "out", "--engine", engine, *VOCAB_FLAGS, "--batch-size", 8)
    assert rc == 1, capsys.readouterr().err
    assert not os.path.exists(tmp_path / "out") and not leftovers(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["in"]
