"""Every Python snippet of docs/prep.md runs, in order, in one namespace, on small data.

The snippets use a few names the page leaves to the reader: ``table`` (a tokenized corpus with
``input_ids`` and ``sample_id`` columns), ``ds`` (the same as a ``datasets.Dataset``),
``documents`` (lists of sentences) and a ``corpus/`` directory of Parquet shards in the working
directory. A snippet that uses Ray or Spark runs on a local cluster / session started here, and
is skipped (with the reason) only when that engine is not installed.
"""

import os
import re

import numpy as np
import pytest

import fastmask

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs",
                   "prep.md")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(fastmask.__file__)))


def snippets():
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


SNIPPETS = snippets()


def test_the_page_has_snippets():
    assert len(SNIPPETS) >= 6
    assert any("fastmask.ray" in s for s in SNIPPETS)
    assert any("fastmask.spark" in s for s in SNIPPETS)


@pytest.fixture(scope="module")
def namespace(tmp_path_factory):
    """The reader's data, in a fresh working directory (engines start there too)."""
    old = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("docs-prep"))
    rng = np.random.default_rng(0)
    rows = [[101] + rng.integers(1000, 30000, size=int(rng.integers(3, 30))).tolist() + [102]
            for _ in range(50)]
    table = pa.table({"input_ids": pa.array(rows, pa.list_(pa.int32())),
                      "sample_id": pa.array(np.arange(50), pa.int64())})
    os.makedirs("corpus/a")
    pq.write_table(table.drop(["sample_id"]).slice(0, 30), "corpus/a/part-0.parquet",
                   row_group_size=8)
    pq.write_table(table.drop(["sample_id"]).slice(30), "corpus/part-1.parquet")
    documents = [[r[:5], r[5:9], r[9:]] for r in rows]
    ns = {"table": table, "documents": documents}
    try:
        import datasets

        datasets.disable_progress_bars()
        ns["ds"] = datasets.Dataset(table)
    except ImportError:
        pass
    engines = []
    yield ns, engines
    for stop in engines:
        stop()
    os.chdir(old)


def _start_engine(kind, engines):
    path = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)
    if kind == "ray":
        pytest.importorskip("ray.data", reason="Ray is not installed (pip install fastmask[ray])")
        import ray

        if not ray.is_initialized():
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                     runtime_env={"env_vars": {"PYTHONPATH": path}})
            ray.data.DataContext.get_current().enable_progress_bars = False
            engines.append(ray.shutdown)
    else:
        pytest.importorskip("pyspark", reason="pyspark is not installed (pip install "
                            "fastmask[spark])")
        from fastmask.spark import session

        s = session("local[2]", "fastmask-docs", conf={
            "spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false",
            "spark.executorEnv.PYTHONPATH": path})
        s.sparkContext.setLogLevel("ERROR")
        engines.append(s.stop)


@pytest.mark.parametrize("i", range(len(SNIPPETS)))
def test_snippet_runs(namespace, i):
    ns, engines = namespace
    code = SNIPPETS[i]
    if "datasets" in code or ".map(mask_batch" in code:
        if "ds" not in ns:
            pytest.skip("datasets is not installed")
    if "fastmask.ray" in code:
        _start_engine("ray", engines)
    if "fastmask.spark" in code:
        _start_engine("spark", engines)
    exec(compile(code, f"{DOC} snippet {i}", "exec"), ns)


def test_snippets_wrote_what_they_say(namespace):
    """The engine snippets' outputs hold the copies the local Masker gives the same ids."""
    ns, _ = namespace
    if "write_static_ray" not in ns and "write_static_spark" not in ns:
        pytest.skip("no engine snippet ran")
    from fastmask.parquet import ParquetCorpus

    m = ns["masker"]
    table = ns["table"]
    rows = table.column("input_ids").to_pylist()
    for out in ("masked-ray", "masked-spark"):
        if not os.path.isdir(out):
            continue
        got = pa.Table.from_batches(list(ParquetCorpus(out).iter_batches()))
        assert got.num_rows == 2 * len(rows)
        for r in got.to_pylist():
            want = m([rows[r["sample_id"]]], sample_ids=[r["sample_id"]], epoch=r["copy"])
            n = len(rows[r["sample_id"]])
            assert r["input_ids"] == want["input_ids"][0, :n].tolist()
