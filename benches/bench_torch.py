"""The torch collate_fn against Hugging Face's DataCollatorForLanguageModeling, in one run.

Data: the synthetic BERT-layout corpus of the core benchmark (256 sequences of up to 512 tokens,
about 90 000 tokens per batch), as lists of dicts, the way a tokenizer or a ``datasets.Dataset``
hands them to a collator. Both collators get the same examples and return torch tensors.

* ``collate``: end to end, list of dicts -> dict of tensors, steady state (the last 2 batches
  stay alive, as a DataLoader's prefetch keeps them), plus fastmask on a cold heap. Three
  example forms: ``input_ids`` only; ``input_ids`` + ``special_tokens_mask`` (Hugging Face's
  fast path); a tokenizer's full output (``input_ids``, ``token_type_ids``, ``attention_mask``,
  ``special_tokens_mask``). Target: fastmask >= 50x faster than HF.
* ``whole word``: fastmask with a word table or per-example ``offset_mapping`` against HF's
  ``whole_word_mask=True`` (which needs pre-padded ``offset_mapping``).
* ``transfer``: the worker's side of handing one batch to the main process (torch's
  multiprocessing pickler moves the tensors to shared memory and writes handles), int64
  against ``dtype="int32"``. The main process's side shows in the DataLoader figures.
* ``dataloader``: batches per second of a DataLoader over a list of 2048 dict examples
  (8 batches of 256 per epoch), num_workers 0 and 2 (persistent), for both collators and the
  floor collate of ``fastmask bench`` (it only allocates its outputs, in shared memory in a
  worker: the DataLoader's own limit).

Run: ``python -m pytest benches/bench_torch.py`` (pytest-benchmark prints each group side by
side), or ``python benches/bench_torch.py`` for a short summary table.
"""

from __future__ import annotations

import collections
import io
import itertools
import sys
import time
import warnings
from multiprocessing.reduction import ForkingPickler
from typing import Any, Callable, Dict, List

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from conftest import CTX, QUICK, cold_setup, scenario, scenario_data, steady_step  # noqa: E402

from fastmask import bench as bm  # noqa: E402
from fastmask.bench.corpus import RawBatch  # noqa: E402
from fastmask.bench.verify import check_masked  # noqa: E402
from fastmask.torch import MLMCollator  # noqa: E402

SCENARIO = scenario(256, 512, "tokens", "list")
LOADER_BATCHES = 2 if QUICK else 8  # batches per DataLoader epoch


# ---------------------------------------------------------------------------------------------
# data and collators


def examples(form: str) -> List[List[Dict[str, Any]]]:
    """The scenario's batches as lists of dict examples."""
    data = scenario_data(SCENARIO)
    out = []
    for i in range(len(data)):
        ids = data.lists(i)
        if form == "ids":
            out.append([{"input_ids": x} for x in ids])
        elif form == "ids+stm":  # Hugging Face's fast path: no per-row special-token lookup
            out.append([{"input_ids": x, "special_tokens_mask": sm}
                        for x, sm in zip(ids, data.special_masks(i))])
        elif form == "tokenizer":
            sms = data.special_masks(i)
            out.append([{"input_ids": x, "token_type_ids": [0] * len(x),
                         "attention_mask": [1] * len(x), "special_tokens_mask": sm}
                        for x, sm in zip(ids, sms)])
        elif form == "offsets":
            spans = data.source.char_offsets(data.raw[i])
            o = data.raw[i].offsets.tolist()
            sp = [tuple(p) for p in spans.tolist()]
            out.append([{"input_ids": x, "offset_mapping": sp[o[j]:o[j + 1]]}
                        for j, x in enumerate(ids)])
        elif form == "hf-wwm":
            out.append(data.hf_wwm_examples(i))
        else:
            raise ValueError(form)
    return out


def hf_tokenizer():
    return bm.hf_tokenizer(scenario_data(SCENARIO).source, CTX)


def hf_collator(**kw):
    pytest.importorskip("transformers")
    from transformers import DataCollatorForLanguageModeling

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return DataCollatorForLanguageModeling(hf_tokenizer(), seed=0, **kw)


def fm_collator(**kw):
    src = scenario_data(SCENARIO).source
    opts = dict(pad_token_id=src.pad_id, special_ids=src.special_ids, seed=0)
    opts.update(kw)
    return MLMCollator(src.vocab_size, src.mask_id, **opts)


COLLATORS: Dict[str, Callable[[], Any]] = {
    "fastmask": fm_collator,
    "fastmask int32": lambda: fm_collator(dtype="int32"),
    "fastmask flatten": lambda: fm_collator(flatten=True),
    "hf": hf_collator,
    "shm floor": bm.SharedFloorCollate,  # only allocates its outputs (in shared memory in a worker)
}


def tokens_per_batch() -> float:
    return scenario_data(SCENARIO).tokens


def check_collated(name: str, out, i: int, whole_word: bool = False) -> None:
    """Fails unless ``out`` is a correct masking of batch ``i`` (fastmask.bench.verify)."""
    data = scenario_data(SCENARIO)
    src = data.source
    raw = data.raw[i]
    if "flatten" in name:  # one row holding the whole batch, no attention mask
        raw = RawBatch(raw.values, np.array([0, raw.tokens]))
        out = dict(out, attention_mask=np.ones((1, raw.tokens), dtype=np.int64))
    check_masked(out, raw, vocab_size=src.vocab_size, mask_id=src.mask_id, pad_id=src.pad_id,
                 special_ids=src.special_ids, word_table=src.word_table if whole_word else None,
                 random_avoids_specials=not name.startswith("hf"))


def _bench(benchmark, fn, n_batches, group, name, slow=False, whole_word=False, **info):
    check_collated(name, fn(0), 0, whole_word)
    benchmark.group = group
    benchmark.extra_info.update(peer=name, tokens_per_batch=tokens_per_batch(), **info)
    step = steady_step(fn, n_batches)
    if slow:
        benchmark.pedantic(step, rounds=5, iterations=1, warmup_rounds=1)
    else:
        step()
        benchmark(step)


# ---------------------------------------------------------------------------------------------
# end-to-end collation


# the option variants are measured on input_ids-only dicts
@pytest.mark.parametrize("name, form", [
    (name, form) for form in ("ids", "ids+stm", "tokenizer")
    for name in ("fastmask", "fastmask int32", "fastmask flatten", "hf")
    if form == "ids" or name in ("fastmask", "hf")])
def test_collate(benchmark, name, form):
    batches = examples(form)
    collate = COLLATORS[name]()
    _bench(benchmark, lambda i: collate(batches[i]), len(batches),
           f"torch collate 256x512, dicts ({form}) -> tensors", name, slow=name == "hf")


@pytest.mark.parametrize("form", ["ids", "tokenizer"])
def test_collate_cold(benchmark, form):
    batches = examples(form)
    collate = fm_collator()
    check_collated("fastmask", collate(batches[0]), 0)
    benchmark.group = f"torch collate 256x512, dicts ({form}) -> tensors: cold heap"
    benchmark.extra_info.update(peer="fastmask", tokens_per_batch=tokens_per_batch())
    step = steady_step(lambda i: collate(batches[i]), len(batches))
    benchmark.pedantic(step, setup=cold_setup(step), rounds=30, iterations=1)


@pytest.mark.parametrize("name", ["fastmask word table", "fastmask offset_mapping", "hf"])
def test_collate_whole_word(benchmark, name):
    src = scenario_data(SCENARIO).source
    if name == "hf":
        batches = examples("hf-wwm")
        collate = hf_collator(whole_word_mask=True)
    elif name == "fastmask word table":
        batches = examples("ids")
        collate = fm_collator(whole_word=True, word_table=src.word_table)
    else:
        batches = examples("offsets")
        collate = fm_collator(whole_word=True)
    _bench(benchmark, lambda i: collate(batches[i]), len(batches),
           "torch collate 256x512, whole-word masking", name, slow=name == "hf", whole_word=True)


# ---------------------------------------------------------------------------------------------
# worker -> main transfer


def transfer(batch) -> Any:
    """A DataLoader worker's side of sending one batch: torch's reducers move the tensors to
    shared memory and pickle handles to them."""
    buf = io.BytesIO()
    ForkingPickler(buf, 4).dump(batch)
    return buf


def fresh_batches(dtype: str):
    """Setup callables that collate a new batch each time: a batch already moved to shared
    memory would not be moved again."""
    collate = fm_collator(dtype=dtype)
    source = examples("ids")
    pool = itertools.cycle(range(len(source)))
    return lambda: collate(source[next(pool)])


@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_transfer(benchmark, dtype):
    make = fresh_batches(dtype)
    first = make()
    nbytes = sum(v.numel() * v.element_size() for v in first.values())
    benchmark.group = "torch worker side of sending one 256x512 batch to the main process"
    benchmark.extra_info.update(dtype=dtype, bytes_per_batch=nbytes)
    buf = benchmark.pedantic(transfer, setup=lambda: ((make(),), {}), rounds=40, iterations=1,
                             warmup_rounds=2)
    assert 0 < buf.getbuffer().nbytes < nbytes  # handles to shared memory, not the data


# ---------------------------------------------------------------------------------------------
# DataLoader throughput


def make_loader(name: str, workers: int):
    flat = [ex for batch in examples("ids") for ex in batch]
    data = list(itertools.islice(itertools.cycle(flat), LOADER_BATCHES * SCENARIO.batch_size))
    kw = dict(num_workers=workers)
    if workers:
        kw.update(persistent_workers=True, prefetch_factor=2)
    return torch.utils.data.DataLoader(data, batch_size=SCENARIO.batch_size, shuffle=False,
                                       collate_fn=COLLATORS[name](), **kw)


def one_epoch(loader) -> int:
    n = 0
    for _ in loader:
        n += 1
    return n


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("name", ["fastmask", "fastmask int32", "hf", "shm floor"])
def test_dataloader(benchmark, name, workers):
    loader = make_loader(name, workers)
    assert one_epoch(loader) == LOADER_BATCHES  # starts persistent workers, warms up
    benchmark.group = f"torch DataLoader epoch of {LOADER_BATCHES} batches of 256x512, " \
                      f"num_workers={workers}"
    benchmark.extra_info.update(peer=name, workers=workers, batches=LOADER_BATCHES)
    rounds = 3 if name == "hf" else 10
    assert benchmark.pedantic(one_epoch, args=(loader,), rounds=rounds,
                              iterations=1) == LOADER_BATCHES


# ---------------------------------------------------------------------------------------------
# a short summary without pytest


def _median_ms(fn, n_batches, calls):
    kept = collections.deque(maxlen=2)
    for i in range(2):
        kept.append(fn(i % n_batches))
    times = []
    for k in range(calls):
        t0 = time.perf_counter()
        kept.append(fn(k % n_batches))
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2] * 1e3


def main() -> None:
    print(bm.machine_line(bm.machine_info()))
    print(f"batch: 256 sequences x <=512 tokens, {tokens_per_batch():.0f} tokens on average\n")
    rows = []
    for form in ("ids", "ids+stm", "tokenizer"):
        batches = examples(form)
        res = {}
        names = ("fastmask", "fastmask int32", "fastmask flatten", "hf") if form == "ids" \
            else ("fastmask", "hf")
        for name in names:
            c = COLLATORS[name]()
            res[name] = _median_ms(lambda i, c=c, batches=batches: c(batches[i]), len(batches),
                                   5 if name == "hf" else 200)
        for name, ms in res.items():
            rows.append((f"collate dicts ({form})", name, f"{ms:.3f} ms",
                         f"{res['hf'] / ms:.0f}x"))
    src = scenario_data(SCENARIO).source
    ww = {"fastmask word table": (examples("ids"),
                                  fm_collator(whole_word=True, word_table=src.word_table)),
          "fastmask offset_mapping": (examples("offsets"), fm_collator(whole_word=True)),
          "hf": (examples("hf-wwm"), hf_collator(whole_word_mask=True))}
    res = {k: _median_ms(lambda i, b=b, c=c: c(b[i]), len(b), 5 if k == "hf" else 50)
           for k, (b, c) in ww.items()}
    for name, ms in res.items():
        rows.append(("collate whole-word", name, f"{ms:.3f} ms", f"{res['hf'] / ms:.0f}x"))
    for dtype in ("int64", "int32"):
        make = fresh_batches(dtype)
        times = []
        for _ in range(40):
            b = make()
            t0 = time.perf_counter()
            transfer(b)
            times.append(time.perf_counter() - t0)
        ms = sorted(times)[len(times) // 2] * 1e3
        nbytes = sum(v.numel() * v.element_size() for v in b.values())
        rows.append(("worker side of sending a batch", dtype, f"{ms:.3f} ms",
                     f"{nbytes / 2**20:.2f} MiB"))
    for workers in (0, 2):
        for name in ("fastmask", "fastmask int32", "hf", "shm floor"):
            loader = make_loader(name, workers)
            one_epoch(loader)
            t0 = time.perf_counter()
            reps = 1 if name == "hf" else 5
            for _ in range(reps):
                one_epoch(loader)
            rate = reps * LOADER_BATCHES / (time.perf_counter() - t0)
            rows.append((f"DataLoader num_workers={workers}", name, f"{rate:.1f} batches/s",
                         ""))
            del loader
    w = [max(len(r[k]) for r in rows) for k in range(4)]
    for r in rows:
        print("  ".join(r[k].ljust(w[k]) for k in range(4)))


if __name__ == "__main__":
    sys.exit(main())
