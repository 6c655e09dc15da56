"""fastmask.ray and fastmask.spark on real local engines: a Ray cluster (``ray.init(num_cpus=2)``)
and a Spark session (``local[2]`` threads, task retries on), one per module.

Every output is compared with the local path: the Masker over the same rows with the same
sample ids and epochs (and, for ids equal to the row index, with fastmask.prep.iter_static), for
several partitionings and batch sizes that do not divide the row count. Faults: a Ray worker
process killed mid-job, and a Spark task failing its first attempt, are retried by the engine
and give the same rows as a clean run. The engine tests skip only when the engine is not
installed.
"""

import json
import os
import sys

import numpy as np
import pytest

import fastmask
from fastmask import _engines

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

VOCAB, PAD, UNK, CLS, SEP, MASK = 1000, 0, 1, 2, 3, 4
SPECIALS = (PAD, UNK, CLS, SEP, MASK)
N = 103  # rows; no batch size below divides it
# the checkout (or install) holding this fastmask, for the engines' worker processes
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(fastmask.__file__)))


def masker(**kw):
    opts = dict(vocab_size=VOCAB, mask_token_id=MASK, pad_token_id=PAD, special_ids=SPECIALS,
                seed=4321, dtype="int32")
    opts.update(kw)
    return fastmask.Masker(**opts)


def corpus(n=N, seed=0, ids=None):
    """Rows [CLS] ... [SEP] of 0..40 tokens, token_type_ids, an NSP label and sample ids
    (sparse, shuffled, large) unless given."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        m = int(rng.integers(0, 41))
        rows.append(([CLS] + rng.integers(5, VOCAB, size=max(m - 2, 0)).tolist() + [SEP])[:m])
    if ids is None:
        ids = (rng.permutation(50 * n)[:n] * 7 + (1 << 40)).astype(np.int64)
    types = [[0] * (len(r) // 2) + [1] * (len(r) - len(r) // 2) for r in rows]
    return pa.table({"sample_id": pa.array(ids, pa.int64()),
                     "input_ids": pa.array(rows, pa.list_(pa.int32())),
                     "token_type_ids": pa.array(types, pa.list_(pa.int8())),
                     "next_sentence_label": pa.array(rng.integers(0, 2, n), pa.int64())})


def expected(table, m, epochs, layout="dense"):
    """{(copy, sample id): row} from the Masker called locally on all rows at once."""
    rows = table.column("input_ids").to_pylist()
    ids = table.column("sample_id").to_numpy()
    out = {}
    for j in epochs:
        if layout == "dense":
            o = m(rows, sample_ids=ids, epoch=j)
            for i, r in enumerate(rows):
                n = len(r)
                out[(j, int(ids[i]))] = {"input_ids": o["input_ids"][i, :n].tolist(),
                                         "labels": o["labels"][i, :n].tolist()}
        else:
            from fastmask.arrow import mask_batch

            o = mask_batch(table, "sample_id", masker=m, epoch=j, layout="sparse",
                           keep_columns=False).to_pylist()
            for i, r in enumerate(o):
                out[(j, int(ids[i]))] = r
    return out


def keyed(out_table, columns):
    """{(copy, sample id): {column: value}} of an engine's output, checking keys are unique."""
    d = {}
    for r in out_table.to_pylist():
        key = (r["copy"], r["sample_id"])
        assert key not in d, f"row {key} written twice"
        d[key] = {c: r[c] for c in columns}
    return d


def assert_same_as_local(out_table, table, m, epochs, layout="dense"):
    want = expected(table, m, epochs, layout)
    cols = ["input_ids", "labels"] if layout == "dense" else \
        ["input_ids", "masked_lm_positions", "masked_lm_ids", "masked_lm_weights"]
    got = keyed(out_table, cols)
    assert set(got) == set(want)
    for key in want:
        for c in cols:
            assert got[key][c] == want[key][c], (key, c)
    # carried columns come along unchanged
    by_id = {int(s): (t, y) for s, t, y in zip(table.column("sample_id").to_pylist(),
                                               table.column("token_type_ids").to_pylist(),
                                               table.column("next_sentence_label").to_pylist())}
    for r in out_table.select(["sample_id", "token_type_ids", "next_sentence_label"]).to_pylist():
        assert (r["token_type_ids"], r["next_sentence_label"]) == by_id[r["sample_id"]]


def parquet_shards(root, table):
    """``table`` without its sample ids, cut into three shard files (row groups of 10 rows),
    token ids stored as uint16; returns the local iter_static rows of it (ids = row index)."""
    from fastmask.prep import iter_static

    t = table.drop(["sample_id"])
    t = t.set_column(0, "input_ids", t.column("input_ids").cast(pa.list_(pa.uint16())))
    for k, (a, b) in enumerate([(0, 40), (40, 41), (41, t.num_rows)]):
        os.makedirs(os.path.join(root, f"s{k}"), exist_ok=True)
        pq.write_table(t.slice(a, b - a), os.path.join(root, f"s{k}", "part.parquet"),
                       row_group_size=10)
    return pa.Table.from_batches(list(iter_static(t, masker(), dupe_factor=2)))


def assert_same_rows(got, want):
    key = [("copy", "ascending"), ("sample_id", "ascending")]
    got = got.sort_by(key)
    want = want.sort_by(key)
    for c in want.column_names:
        assert got.column(c).to_pylist() == want.column(c).to_pylist(), c


def read_dir(path):
    from fastmask.parquet import ParquetCorpus

    return pa.Table.from_batches(list(ParquetCorpus(path).iter_batches()))


# ---------------------------------------------------------------------------------------------
# without the engines


def test_missing_engine_says_how_to_install(monkeypatch):
    import fastmask.ray as fray
    import fastmask.spark as fspark

    monkeypatch.setitem(sys.modules, "ray.data", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(ImportError, match=r"pip install fastmask\[ray\]"):
        fray.mask_dataset(None, masker())
    with pytest.raises(ImportError, match=r"pip install fastmask\[spark\]"):
        fspark.mask_dataframe(None, masker())


def test_batch_id_checks_name_the_row():
    ids = pa.array([5, 9, 7, 9, 5])
    with pytest.raises(ValueError, match=r"row 3 of b repeats sample id 9 of row 1"):
        _engines.check_sample_ids(ids, "sid", "b")
    with pytest.raises(ValueError, match=r"row 2 of b has sample id -4, negative"):
        _engines.check_sample_ids(pa.array([1, 2, -4, -5]), "sid", "b")
    with pytest.raises(ValueError, match=r"row 1 of b has no sample id"):
        _engines.check_sample_ids(pa.array([1, None]), "sid", "b")
    with pytest.raises(ValueError, match=r"not below 2\*\*48"):
        _engines.check_sample_ids(pa.array([1 << 48], pa.uint64()), "sid", "b")
    with pytest.raises(TypeError, match="integer column"):
        _engines.check_sample_ids(pa.array([1.0]), "sid", "b")
    assert _engines.check_sample_ids(pa.array([3, 1, 2], pa.uint16()), "s").tolist() == [3, 1, 2]


def test_epoch_and_dupe_factor_are_exclusive():
    assert _engines.epochs_of(None, 3) == [0, 1, 2]
    assert _engines.epochs_of(5, 1) == [5]
    with pytest.raises(ValueError, match="not both"):
        _engines.epochs_of(1, 2)
    with pytest.raises(ValueError, match="dupe_factor"):
        _engines.epochs_of(None, 0)


def test_copy_job_rows_equal_iter_static():
    """With ids = row index, a CopyJob's rows are write_static's rows, column for column."""
    from fastmask.prep import iter_static

    t = corpus(ids=np.arange(N))
    m = masker()
    job = _engines.CopyJob(m, t.column_names, epochs=[0, 1], column="input_ids",
                           sample_id_column="sample_id", layout="dense",
                           max_predictions_per_seq=None, keep_columns=()).bind(t.schema)
    mine = pa.Table.from_batches([b for rb in t.to_batches(max_chunksize=40)
                                  for b in job.copies(rb)])
    local = pa.Table.from_batches(list(iter_static(t.drop(["sample_id"]), m, dupe_factor=2)))
    assert mine.column_names == local.column_names
    key = [("copy", "ascending"), ("sample_id", "ascending")]
    assert mine.sort_by(key).equals(local.sort_by(key))


# ---------------------------------------------------------------------------------------------
# Ray


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install fastmask[ray])")
    pytest.importorskip("ray.data", reason="Ray Data is not installed (pip install "
                        "fastmask[ray])")
    # Ray puts the driver's working directory on the workers' path: start from an empty one,
    # and point the workers at this fastmask (installed, or a checkout on PYTHONPATH)
    old = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("ray-cwd"))
    path = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": path}})
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    try:
        yield ray
    finally:
        ray.shutdown()
        os.chdir(old)


def ray_ds(ray, table, blocks):
    return ray.data.from_arrow(table).repartition(blocks)


def ray_rows(ds):
    import ray

    return pa.concat_tables(ray.get(ds.to_arrow_refs()))


@pytest.mark.parametrize("blocks,batch_size", [(1, 33), (3, 10), (7, 1000)])
def test_ray_copies_equal_local(ray_cluster, blocks, batch_size):
    from fastmask.ray import mask_dataset

    t = corpus()
    m = masker()
    out = ray_rows(mask_dataset(ray_ds(ray_cluster, t, blocks), m, dupe_factor=3,
                                batch_size=batch_size))
    assert out.num_rows == 3 * N
    assert out.schema.field("input_ids").type == pa.list_(pa.int32())
    assert_same_as_local(out, t, m, [0, 1, 2])


def test_ray_one_epoch_sparse_int64(ray_cluster):
    from fastmask.ray import mask_dataset

    t = corpus(seed=1)
    m = masker(dtype="int64", selection="exact", max_predictions=6)
    out = ray_rows(mask_dataset(ray_ds(ray_cluster, t, 3), m, epoch=5, layout="sparse",
                                batch_size=17))
    assert set(out.column("copy").to_pylist()) == {5}
    assert out.schema.field("masked_lm_ids").type == pa.list_(pa.int64(), 6)
    assert_same_as_local(out, t, m, [5], layout="sparse")


def test_ray_write_static(ray_cluster, tmp_path):
    from fastmask.ray import write_static

    t = corpus(seed=2)
    m = masker()
    dest = tmp_path / "masked"
    stats = write_static(ray_ds(ray_cluster, t, 3), str(dest), m, dupe_factor=2, batch_size=20)
    out = read_dir(dest)
    assert_same_as_local(out, t, m, [0, 1])
    assert stats.rows == 2 * N and stats.samples == N and stats.dupe_factor == 2
    assert stats.tokens == 2 * sum(len(r) for r in t.column("input_ids").to_pylist())
    meta = json.loads((dest / "_fastmask.json").read_text())["fastmask"]
    assert meta["seed"] == 4321 and meta["dupe_factor"] == 2 and meta["engine"] == "ray"
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".fastmask-tmp")]
    with pytest.raises(FileExistsError):
        write_static(ray_ds(ray_cluster, t, 1), str(dest), m)


def test_ray_bad_ids(ray_cluster, tmp_path):
    from fastmask.ray import write_static

    t = corpus(ids=np.r_[np.arange(50), [-3], np.arange(51, N)])
    with pytest.raises(ValueError, match="has sample id -3, negative"):
        write_static(ray_ds(ray_cluster, t, 2), str(tmp_path / "neg"), masker())
    assert os.listdir(tmp_path) == []  # nothing left behind, not even the staging directory
    t = corpus(ids=np.r_[np.arange(60), [10], np.arange(61, N)])
    with pytest.raises(ValueError, match="sample id 10 occurs 2 times"):
        write_static(ray_ds(ray_cluster, t, 3), str(tmp_path / "dup"), masker(),
                     check_unique=True)
    assert os.listdir(tmp_path) == []


def _interrupt(*args, **kw):
    raise KeyboardInterrupt


def test_ray_interrupted_write_leaves_nothing(ray_cluster, tmp_path, monkeypatch):
    """Ctrl-C after the engine wrote its files, before the output is published: no output,
    no staging directory; an existing output is kept."""
    from fastmask.ray import write_static

    t = corpus(seed=5)
    (tmp_path / "old").mkdir()
    monkeypatch.setattr(_engines, "footer_counts", _interrupt)
    for name, overwrite in (("new", False), ("old", True)):
        with pytest.raises(KeyboardInterrupt):
            write_static(ray_ds(ray_cluster, t, 2), str(tmp_path / name), masker(),
                         overwrite=overwrite)
    assert sorted(os.listdir(tmp_path)) == ["old"] and os.listdir(tmp_path / "old") == []


def test_ray_read_parquet_numbers_rows_like_local(ray_cluster, tmp_path):
    from fastmask.ray import read_parquet, write_static

    want = parquet_shards(str(tmp_path / "in"), corpus(seed=4))
    ds = read_parquet(str(tmp_path / "in"), batch_size=7)
    write_static(ds, str(tmp_path / "out"), masker(), dupe_factor=2, batch_size=16)
    assert_same_rows(read_dir(tmp_path / "out"), want)


def test_ray_worker_killed_mid_job_is_retried(ray_cluster, tmp_path):
    """A worker process dies (SIGKILL) while masking the batch holding sample id 60; Ray
    retries the task and the written rows equal a clean run's."""
    from fastmask.ray import write_static

    t = corpus(seed=3, ids=np.arange(N))
    m = masker()
    mark = str(tmp_path / "killed-once")

    def die_once(batch):
        import os as _os
        import signal as _signal

        if 60 in batch.column("sample_id").to_pylist() and not _os.path.exists(mark):
            open(mark, "w").close()
            _os.kill(_os.getpid(), _signal.SIGKILL)
        return batch

    ds = ray_ds(ray_cluster, t, 7).map_batches(die_once, batch_format="pyarrow")
    write_static(ds, str(tmp_path / "out"), m, dupe_factor=2, batch_size=9)
    assert os.path.exists(mark), "the worker was not killed"
    assert_same_as_local(read_dir(tmp_path / "out"), t, m, [0, 1])


# ---------------------------------------------------------------------------------------------
# Spark


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install "
                        "fastmask[spark])")
    from fastmask.spark import session

    path = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)
    # local[2, 4]: two task threads, a task may fail up to 4 times (local mode's own setting)
    s = session("local[2,4]", "fastmask-tests", conf={
        "spark.task.maxFailures": 4, "spark.ui.enabled": "false",
        "spark.sql.shuffle.partitions": 4, "spark.executorEnv.PYTHONPATH": path})
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


def spark_df(spark, table, partitions, batch_rows):
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(batch_rows))
    return spark.createDataFrame(table).repartition(partitions)


@pytest.mark.parametrize("partitions,batch_rows", [(1, 33), (3, 10), (7, 1000)])
def test_spark_copies_equal_local(spark, partitions, batch_rows):
    from fastmask.spark import mask_dataframe

    t = corpus()
    m = masker()
    out = mask_dataframe(spark_df(spark, t, partitions, batch_rows), m, dupe_factor=3)
    assert out.schema.simpleString().startswith(
        "struct<sample_id:bigint,copy:int,input_ids:array<int>,labels:array<int>")
    assert_same_as_local(out.toArrow(), t, m, [0, 1, 2])


def test_spark_schema_follows_dtype_int64_sparse(spark):
    from fastmask.spark import mask_dataframe

    t = corpus(seed=1)
    m = masker(dtype="int64", selection="exact", max_predictions=6)
    out = mask_dataframe(spark_df(spark, t, 3, 17), m, epoch=4, layout="sparse")
    fields = {f.name: f.dataType.simpleString() for f in out.schema.fields}
    assert fields["input_ids"] == "array<bigint>"
    assert fields["masked_lm_ids"] == "array<bigint>"
    assert fields["masked_lm_weights"] == "array<float>"
    assert_same_as_local(out.toArrow(), t, m, [4], layout="sparse")


def test_spark_workers_run_the_driver_python(spark, monkeypatch):
    import fastmask.spark as fspark

    monkeypatch.delenv("PYSPARK_PYTHON", raising=False)
    assert fspark.worker_python(spark) == sys.executable

    def report(batches):
        import sys as _sys

        for _ in batches:
            yield pa.RecordBatch.from_pydict({"exe": [_sys.executable]})

    with fspark._workers_run(spark):  # what mask_dataframe wraps its mapInArrow in
        df = spark.range(4).repartition(2).mapInArrow(report, "exe string")
    assert {r.exe for r in df.collect()} == {sys.executable}
    monkeypatch.setenv("PYSPARK_PYTHON", "/opt/elsewhere/python")
    assert fspark.worker_python(spark) == "/opt/elsewhere/python"


def test_spark_write_static(spark, tmp_path):
    from fastmask.spark import write_static

    t = corpus(seed=2)
    m = masker()
    dest = tmp_path / "masked"
    stats = write_static(spark_df(spark, t, 3, 20), str(dest), m, dupe_factor=2)
    assert_same_as_local(read_dir(dest), t, m, [0, 1])
    assert stats.rows == 2 * N and stats.samples == N
    assert stats.tokens == 2 * sum(len(r) for r in t.column("input_ids").to_pylist())
    meta = json.loads((dest / "_fastmask.json").read_text())["fastmask"]
    assert meta["engine"] == "spark" and meta["epochs"] == [0, 1]


def test_spark_bad_ids(spark, tmp_path):
    from fastmask.spark import write_static

    t = corpus(ids=np.r_[np.arange(50), [-3], np.arange(51, N)])
    with pytest.raises(ValueError, match="has sample id -3, negative"):
        write_static(spark_df(spark, t, 2, 1000), str(tmp_path / "neg"), masker())
    assert os.listdir(tmp_path) == []
    t = corpus(ids=np.r_[np.arange(60), [10], np.arange(61, N)])
    with pytest.raises(ValueError, match="sample id 10 occurs 2 times"):
        write_static(spark_df(spark, t, 3, 1000), str(tmp_path / "dup"), masker(),
                     check_unique=True)
    assert os.listdir(tmp_path) == []


def test_spark_interrupted_write_leaves_nothing(spark, tmp_path, monkeypatch):
    from fastmask.spark import write_static

    t = corpus(seed=5)
    monkeypatch.setattr(_engines, "footer_counts", _interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_static(spark_df(spark, t, 2, 1000), str(tmp_path / "new"), masker())
    assert os.listdir(tmp_path) == []


def test_spark_read_parquet_numbers_rows_like_local(spark, tmp_path):
    from fastmask.spark import read_parquet, write_static

    want = parquet_shards(str(tmp_path / "in"), corpus(seed=4))
    df = read_parquet(spark, str(tmp_path / "in"), batch_size=7)
    assert dict(df.dtypes)["input_ids"] == "array<int>"  # uint16 widened
    write_static(df, str(tmp_path / "out"), masker(), dupe_factor=2)
    assert_same_rows(read_dir(tmp_path / "out"), want)


def test_spark_task_failing_first_attempt_is_retried(spark, tmp_path):
    """Partition 1's first attempt fails after reading its input; Spark runs it again and the
    written rows equal a clean run's."""
    from fastmask.spark import write_static

    t = corpus(seed=3, ids=np.arange(N))
    m = masker()
    mark = str(tmp_path / "failed-attempts")

    def fail_first_attempt(batches):
        from pyspark import TaskContext

        ctx = TaskContext.get()
        for rb in batches:
            if ctx.partitionId() == 1 and ctx.attemptNumber() == 0:
                with open(mark, "a") as f:
                    f.write(f"{ctx.stageId()}.{ctx.partitionId()}.{ctx.attemptNumber()}\n")
                raise RuntimeError("injected failure of the first attempt")
            yield rb

    df = spark_df(spark, t, 3, 10)
    df = df.mapInArrow(fail_first_attempt, df.schema)
    write_static(df, str(tmp_path / "out"), m, dupe_factor=2)
    with open(mark) as f:
        attempts = f.read().split()
    assert len(attempts) == 1 and attempts[0].endswith(".1.0"), attempts  # failed once
    assert_same_as_local(read_dir(tmp_path / "out"), t, m, [0, 1])
