"""Corpus-scale static masking: tokens per second of ``fastmask prep`` from Arrow.

The corpus is synthetic (BERT's 30 522-id layout, sequences of up to 128 tokens with the length
distribution of ``fastmask.bench.synthetic_lengths``), held as an Arrow ``list<int32>``
table, as a tokenized Hugging Face dataset is. Measured, each on 1 and 2 threads:

* ``mask``: :func:`fastmask.prep.iter_static` over the table, nothing written (the masking
  itself, Arrow in and Arrow out);
* ``parquet``: :func:`fastmask.prep.write_static` to one Parquet file (snappy);
* ``shards``: the same to a directory of Parquet shards written in parallel;
* ``hf``: the same to a saved Hugging Face dataset;
* ``map``: fastmask's :func:`fastmask.arrow.mask_batch` inside ``datasets.Dataset.map``
  (``with_format("arrow")``, ``num_proc`` = threads);
* ``hf-map``: the same job done with Hugging Face's ``DataCollatorForLanguageModeling`` inside
  ``datasets.Dataset.map`` (labels kept unpadded, as the masked dataset stores them);
* ``instances``: :func:`fastmask.instances.create_instances` cutting BERT NSP pairs from the
  rows taken as sentences (20 per document), ``num_proc`` = threads; tokens counted are those
  of the corpus read.
* ``local-pq``, ``ray``, ``spark``: the same job on each engine, from the same corpus stored as
  8 Parquet shards with a stored ``sample_id`` column (the row index) to a directory of
  Parquet shards (snappy): locally :func:`fastmask.prep.write_static` reading the shards row
  group by row group, keyed by the stored ids (``sample_id_column``; threads); ``ray.data.read_parquet`` +
  :func:`fastmask.ray.write_static` on a local Ray cluster of 1 or 2 CPUs
  (``ray.init(num_cpus=...)``); ``spark.read.parquet`` + :func:`fastmask.spark.write_static`
  on a ``local[1]`` / ``local[2]`` Spark session. The three write the same rows. The
  engines' start-up is not timed (the cluster or session is started once per worker count);
  their per-job scheduling is.

Run under pytest-benchmark with the rest of benches/ (``python -m pytest benches/bench_prep.py``)
or on its own for a report with the projected time of 1 B tokens x dupe_factor 10::

    python benches/bench_prep.py [--rows 200000] [--dir /tmp] [--json out.json]

Outputs go to a temporary directory under ``--dir`` (``$FASTMASK_BENCH_DIR``, default the system
temporary directory); put it on the disk the real output would go to.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from typing import Any, Callable, Dict, List, Tuple

import numpy as np

MAX_LEN = 128
VOCAB = 30522
PAD, UNK, CLS, SEP, MASK = 0, 100, 101, 102, 103
SPECIALS = (PAD, UNK, CLS, SEP, MASK)
PROJECT_TOKENS = 1_000_000_000
PROJECT_DUPE = 10


def make_table(rows: int, seed: int = 0):
    """A tokenized corpus as an Arrow table with one ``list<int32>`` column ``input_ids``."""
    import pyarrow as pa

    from fastmask import bench as bm

    src = bm.DataSource.synthetic(seed)
    vals: List[np.ndarray] = []
    lens: List[np.ndarray] = []
    step = 4096
    for i in range((rows + step - 1) // step):
        raw = src.batch(min(step, rows - i * step), MAX_LEN, i)
        vals.append(raw.values.astype(np.int32))
        lens.append(np.diff(raw.offsets))
    off = np.zeros(rows + 1, dtype=np.int32)
    np.cumsum(np.concatenate(lens), out=off[1:])
    ids = pa.ListArray.from_arrays(pa.array(off), pa.array(np.concatenate(vals)))
    return pa.table({"input_ids": ids})


def tokens_of(table) -> int:
    col = table.column("input_ids")
    return int(sum(len(c.values) if c.offset == 0 else len(c.flatten()) for c in col.chunks))


def make_masker(**kw):
    import fastmask

    opts = dict(pad_token_id=PAD, special_ids=SPECIALS, seed=0, dtype="int32")
    opts.update(kw)
    return fastmask.Masker(VOCAB, MASK, **opts)


# ---------------------------------------------------------------------------------------------
# the jobs: each returns a callable doing the whole job once


def job_mask(table, threads: int) -> Callable[[], Any]:
    from fastmask.prep import iter_static

    m = make_masker()

    def run():
        n = 0
        for rb in iter_static(table, m, num_threads=threads):
            n += rb.num_rows
        return n

    return run


def job_write(table, threads: int, workdir: str, kind: str) -> Callable[[], Any]:
    from fastmask.prep import write_static

    m = make_masker()
    out = {"parquet": "out.parquet", "shards": "shards", "hf": "dataset"}[kind]
    fmt = "hf" if kind == "hf" else "parquet"
    shard = max(1, table.num_rows // 8)

    def run():
        return write_static(table, os.path.join(workdir, out), m, output_format=fmt,
                            num_threads=threads, shard_size=shard, overwrite=True)

    return run


def _dataset(table, workdir: str):
    import datasets

    datasets.disable_progress_bars()
    path = os.path.join(workdir, f"source_ds_{table.num_rows}")
    if not os.path.exists(path):
        datasets.Dataset(table).save_to_disk(path)
    return datasets.load_from_disk(path)


def job_map(table, threads: int, workdir: str) -> Callable[[], Any]:
    from fastmask.arrow import mask_batch

    ds = _dataset(table, workdir)
    m = make_masker()

    def run():
        out = ds.with_format("arrow").map(
            mask_batch, batched=True, batch_size=4096, with_indices=True,
            num_proc=threads if threads > 1 else None, fn_kwargs={"masker": m},
            load_from_cache_file=False, cache_file_name=os.path.join(workdir, "map.arrow"))
        return out.num_rows

    return run


def hf_collator():
    """Hugging Face's collator over the synthetic vocabulary, built locally."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import DataCollatorForLanguageModeling, PreTrainedTokenizerFast

    from fastmask import bench as bm

    vocab = bm.SyntheticVocab()
    wp = Tokenizer(models.WordPiece({t: i for i, t in enumerate(vocab.tokens)},
                                    unk_token="[UNK]"))
    wp.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok = PreTrainedTokenizerFast(tokenizer_object=wp, pad_token="[PAD]", unk_token="[UNK]",
                                  cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return DataCollatorForLanguageModeling(tok, mlm_probability=0.15, seed=0,
                                               return_tensors="np")


def _hf_mask(batch, collator=None):
    """``datasets.map`` function: HF's collator on a batch, labels cut back to each row."""
    ids = batch["input_ids"]
    out = collator([{"input_ids": r} for r in ids])
    lens = [len(r) for r in ids]
    return {"input_ids": [row[:n] for row, n in zip(out["input_ids"], lens)],
            "labels": [row[:n] for row, n in zip(out["labels"], lens)]}


def job_hf_map(table, threads: int, workdir: str) -> Callable[[], Any]:
    ds = _dataset(table, workdir)
    coll = hf_collator()

    def run():
        out = ds.map(_hf_mask, batched=True, batch_size=1000,
                     num_proc=threads if threads > 1 else None, fn_kwargs={"collator": coll},
                     load_from_cache_file=False,
                     cache_file_name=os.path.join(workdir, "hfmap.arrow"))
        return out.num_rows

    return run


def job_instances(table, threads: int) -> Callable[[], Any]:
    """BERT NSP pairs of 128 tokens from the rows taken as sentences, 20 to a document."""
    from fastmask.arrow import list_column
    from fastmask.instances import Documents, create_instances

    values, offsets = list_column(table.column("input_ids"))
    n = offsets.shape[0] - 1
    docs = Documents(values, offsets, np.append(np.arange(0, n, 20), n))

    def run():
        return len(create_instances(docs, cls_token_id=CLS, sep_token_id=SEP,
                                    max_seq_length=MAX_LEN, task="nsp", seed=0,
                                    num_proc=threads))

    return run


def _parquet_corpus(table, workdir: str) -> str:
    """The corpus as 8 Parquet shards of row groups of 4096 rows, with a ``sample_id`` column
    (the row index; written once per run)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = os.path.join(workdir, f"corpus_{table.num_rows}")
    if not os.path.exists(path):
        os.makedirs(path)
        step = (table.num_rows + 7) // 8
        ids = pa.array(np.arange(table.num_rows, dtype=np.int64))
        t = table.append_column("sample_id", ids)  # ids stored at tokenization
        for k in range(8):
            pq.write_table(t.slice(k * step, step), os.path.join(path, f"part-{k}.parquet"),
                           row_group_size=4096)
    return path


def job_local_pq(table, threads: int, workdir: str) -> Callable[[], Any]:
    from fastmask.prep import write_static

    src = _parquet_corpus(table, workdir)
    m = make_masker()

    def run():
        return write_static(src, os.path.join(workdir, "local-pq"), m, output_format="parquet",
                            num_threads=threads, shard_size=max(1, table.num_rows // 8),
                            sample_id_column="sample_id", overwrite=True)

    return run


_ENGINE: Dict[str, Any] = {}


def _engine(kind: str, workers: int):
    """A started Ray cluster / Spark session with ``workers`` CPUs (one at a time)."""
    if _ENGINE.get("key") == (kind, workers):
        return _ENGINE["handle"]
    _stop_engine()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    if kind == "ray":
        import ray

        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
                 runtime_env={"env_vars": {"PYTHONPATH": path}})
        ray.data.DataContext.get_current().enable_progress_bars = False
        handle = ray
    else:
        from fastmask.spark import session

        handle = session(f"local[{workers}]", "fastmask-bench", conf={
            "spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false",
            "spark.executorEnv.PYTHONPATH": path,
            "spark.driver.memory": "4g"})
        handle.sparkContext.setLogLevel("ERROR")
    _ENGINE.update(key=(kind, workers), handle=handle)
    return handle


def _stop_engine() -> None:
    key = _ENGINE.pop("key", None)
    handle = _ENGINE.pop("handle", None)
    if key is None:
        return
    if key[0] == "ray":
        handle.shutdown()
    else:
        handle.stop()


def job_engine(table, workers: int, workdir: str, kind: str) -> Callable[[], Any]:
    src = _parquet_corpus(table, workdir)
    m = make_masker()
    out = os.path.join(workdir, kind)
    handle = _engine(kind, workers)
    if kind == "ray":
        from fastmask.ray import write_static

        def run():
            return write_static(handle.data.read_parquet(src), out, m, overwrite=True)
    else:
        from fastmask.spark import write_static

        def run():
            return write_static(handle.read.parquet(src), out, m, overwrite=True)

    return run


JOBS = {
    "mask": lambda t, th, d: job_mask(t, th),
    "parquet": lambda t, th, d: job_write(t, th, d, "parquet"),
    "shards": lambda t, th, d: job_write(t, th, d, "shards"),
    "hf": lambda t, th, d: job_write(t, th, d, "hf"),
    "map": job_map,
    "hf-map": job_hf_map,
    "instances": lambda t, th, d: job_instances(t, th),
    "local-pq": job_local_pq,
    "ray": lambda t, th, d: job_engine(t, th, d, "ray"),
    "spark": lambda t, th, d: job_engine(t, th, d, "spark"),
}

LABELS = {
    "mask": "fastmask: mask Arrow batches (no output)",
    "parquet": "fastmask prep -> one Parquet file",
    "shards": "fastmask prep -> Parquet shards",
    "hf": "fastmask prep -> saved HF dataset",
    "map": "fastmask mask_batch in datasets.map",
    "hf-map": "HF DataCollatorForLanguageModeling in datasets.map",
    "instances": "fastmask NSP instances from documents (processes)",
    "local-pq": "Parquet shards -> Parquet shards, local (threads)",
    "ray": "Parquet shards -> Parquet shards, Ray Data (CPUs)",
    "spark": "Parquet shards -> Parquet shards, Spark (local[N])",
}


def _bench_dir() -> str:
    return os.environ.get("FASTMASK_BENCH_DIR") or tempfile.gettempdir()


# ---------------------------------------------------------------------------------------------
# pytest-benchmark


try:
    import pytest
except ImportError:  # pragma: no cover - standalone use without pytest
    pytest = None

if pytest is not None and "pytest" in sys.modules and __name__ != "__main__":
    pytest.importorskip("pyarrow")

    # quick mode (benches/conftest.py): tiny corpora, each job called once; the engines' start-up
    # alone outlasts that (FASTMASK_BENCH_ENGINES=1 runs them anyway; tests/test_prep_engines.py
    # checks their rows)
    QUICK = os.environ.get("FASTMASK_BENCH_QUICK", "0") not in ("", "0")
    ENGINES_IN_QUICK = os.environ.get("FASTMASK_BENCH_ENGINES", "0") not in ("", "0")

    _TABLES: Dict[int, Any] = {}

    def _table(rows: int):
        if rows not in _TABLES:
            _TABLES.clear()
            _TABLES[rows] = make_table(rows)
        return _TABLES[rows]

    @pytest.fixture(scope="module")
    def workdir():
        d = tempfile.mkdtemp(prefix="fastmask-bench-prep-", dir=_bench_dir())
        yield d
        _stop_engine()
        shutil.rmtree(d, ignore_errors=True)

    @pytest.mark.parametrize("threads", [1, 2])
    @pytest.mark.parametrize("job", list(JOBS))
    def test_prep(benchmark, workdir, job, threads):
        if job in ("hf-map",):
            pytest.importorskip("transformers")
        if job in ("map", "hf-map", "hf"):
            pytest.importorskip("datasets")
        if job in ("ray", "spark"):
            if QUICK and not ENGINES_IN_QUICK:
                pytest.skip("engine start-up is too slow for quick mode "
                            "(FASTMASK_BENCH_ENGINES=1 runs it)")
            pytest.importorskip({"ray": "ray.data", "spark": "pyspark"}[job])
        rows = 20_000 if job == "hf-map" else 100_000
        if QUICK:
            rows = 300
        table = _table(rows)
        fn = JOBS[job](table, threads, workdir)
        fn()  # warm-up (imports, page cache, worker start-up paths)
        benchmark.group = f"prep {MAX_LEN}-token sequences"
        n_tok = tokens_of(table)
        benchmark.extra_info.update(job=job, label=LABELS[job], threads=threads, tokens=n_tok)
        benchmark.pedantic(fn, rounds=3, iterations=1)
        benchmark.extra_info["tokens_per_s"] = n_tok / benchmark.stats.stats.min


# ---------------------------------------------------------------------------------------------
# standalone report


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (``num_proc`` workers)."""
    import resource

    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _machine_busy_seconds() -> float:
    """CPU seconds spent by every process of the machine so far (Linux), else NaN."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()[1:]
        ticks = [int(x) for x in fields]
        idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
        return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def _best_of(fn: Callable[[], Any], rounds: int) -> Tuple[float, float, float]:
    """(wall seconds, CPU seconds, CPU seconds of other processes) of the fastest of
    ``rounds`` runs, after one warm-up. The last one shows how much a shared machine lent
    to others during the run."""
    fn()
    best = (float("inf"), float("inf"), float("nan"))
    for _ in range(rounds):
        gc.collect()
        c0 = _cpu_seconds()
        m0 = _machine_busy_seconds()
        t0 = time.perf_counter()
        fn()
        wall = time.perf_counter() - t0
        if wall < best[0]:
            cpu = _cpu_seconds() - c0
            best = (wall, cpu, max(0.0, _machine_busy_seconds() - m0 - cpu))
    return best


def _fmt_duration(s: float) -> str:
    if s < 120:
        return f"{s:.0f} s"
    if s < 2 * 3600:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.1f} h"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=200_000, help="sequences for fastmask jobs")
    p.add_argument("--hf-rows", type=int, default=20_000, help="sequences for the HF job")
    p.add_argument("--rounds", type=int, default=3, help="best of this many runs")
    p.add_argument("--threads", default="1,2", help="thread counts, comma-separated")
    p.add_argument("--jobs", default=",".join(JOBS), help="jobs, comma-separated")
    p.add_argument("--dir", default=_bench_dir(), help="where outputs are written")
    p.add_argument("--json", default=None, help="also write the numbers to this JSON file")
    args = p.parse_args(argv)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if root not in sys.path:
        sys.path.insert(0, root)  # run from a checkout without installing
    import fastmask
    from fastmask import bench as bm

    threads = [int(x) for x in args.threads.split(",") if x]
    jobs = [j for j in args.jobs.split(",") if j]
    unknown = [j for j in jobs if j not in JOBS]
    if unknown:
        p.error(f"unknown jobs: {', '.join(unknown)} (choose from {', '.join(JOBS)})")
    workdir = tempfile.mkdtemp(prefix="fastmask-bench-prep-", dir=args.dir)
    results = []
    try:
        big = make_table(args.rows)
        small = make_table(args.hf_rows)
        for job in jobs:
            table = small if job == "hf-map" else big
            n_tok = tokens_of(table)
            for th in threads:
                try:
                    fn = JOBS[job](table, th, workdir)
                except ImportError as e:
                    print(f"skipped {job}: {e}", file=sys.stderr)
                    break
                secs, cpu, others = _best_of(fn, args.rounds)
                rate = n_tok / secs
                results.append({"job": job, "label": LABELS[job], "threads": th,
                                "rows": table.num_rows, "tokens": n_tok, "seconds": secs,
                                "cpu_seconds": cpu, "other_processes_cpu": others / secs,
                                "tokens_per_s": rate,
                                "tokens_per_cpu_s": n_tok / cpu if cpu > 0 else None,
                                # instances are cut once; the masked copies are written k times
                                "projected_s": PROJECT_TOKENS * (
                                    1 if job == "instances" else PROJECT_DUPE) / rate})
                print(f"  {LABELS[job]:<52} {th} thr  {rate / 1e6:8.1f} M tok/s  "
                      f"(this job kept {cpu / secs:.2f} cores busy, other processes "
                      f"{others / secs:.2f})", file=sys.stderr)
    finally:
        _stop_engine()
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"fastmask {fastmask.__version__}; {bm.machine_line(bm.machine_info())}")
    print(f"corpus: synthetic, sequences of up to {MAX_LEN} tokens "
          f"({tokens_of(big) / big.num_rows:.0f} on average); outputs under {args.dir}")
    print()
    print(f"| job | threads | M tokens/s | M tokens per CPU-s | cores used (others) | "
          f"1 B tokens x dupe_factor {PROJECT_DUPE} |")
    print("|---|---|---|---|---|---|")
    for r in results:
        per_cpu = r["tokens_per_cpu_s"]
        print(f"| {r['label']} | {r['threads']} | {r['tokens_per_s'] / 1e6:.1f} | "
              f"{per_cpu / 1e6 if per_cpu else float('nan'):.1f} | "
              f"{r['cpu_seconds'] / r['seconds']:.2f} ({r['other_processes_cpu']:.2f}) | "
              f"{_fmt_duration(r['projected_s'])}"
              f"{' (once)' if r['job'] == 'instances' else ''} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": bm.machine_info(), "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
