"""The core benchmark: 256 sequences of up to 512 tokens (about 90 000 tokens) given as Python
lists, padded and masked. fastmask's C core against the pure-Python reference, the
NumPy-vectorized implementation, Hugging Face's collator and the two memory floors, all in one
run.

Target: at most 0.5 ms per batch, within about 2.5x of the pad-only floor. ``test_core_floors``
runs fastmask and both floors on every input form (lists are bounded by ``fastmask.pad`` reading
them, arrays by writing the three padded outputs; targets in issue 13: lists <= 1.5x, arrays
<= 2.0x of their floor).

Two states are measured:

* steady: the outputs of the last 2 batches stay alive while the next one is made (what a
  DataLoader with prefetching sees);
* cold: before each call the kept outputs are dropped and free heap pages go back to the OS,
  so the call writes into untouched pages, as in a fresh process. ``extra_info`` also records
  the first call in real fresh processes (``fresh_process_first_call_ms``).

Every peer's output is checked before it is timed (see conftest.py; ``FASTMASK_BENCH_QUICK=1``
runs each benchmark once on 8 x 32 batches).
"""

import pytest
from conftest import (
    CTX,
    QUICK,
    SOURCE,
    cold_setup,
    peer_or_skip,
    prepared,
    run,
    scenario,
    steady_step,
)

from fastmask import bench as bm

CORE = scenario(256, 512, "tokens", "list")
PEERS = ("fastmask", "reference", "numpy", "hf", "pad-floor", "copy-floor")


@pytest.mark.parametrize("name", PEERS)
def test_core_steady(benchmark, name):
    peer = peer_or_skip(name)
    fn, data = prepared(peer, CORE)
    run(benchmark, peer, fn, data, group=f"core {CORE.id}: steady")


@pytest.mark.parametrize("name", ("fastmask", "pad-floor", "copy-floor"))
@pytest.mark.parametrize("form", bm.INPUT_FORMS)
def test_core_floors(benchmark, form, name):
    """fastmask and both floors on every input form, one group per form: lists are bounded by
    fastmask.pad reading them, arrays by writing the three padded outputs."""
    peer = peer_or_skip(name)
    sc = scenario(256, 512, "tokens", form)
    fn, data = prepared(peer, sc)
    benchmark.extra_info["floor_of_form"] = bm.FLOOR_OF[form]
    run(benchmark, peer, fn, data, group=f"core {sc.id}: fastmask and its floors")


@pytest.mark.parametrize("name", ("fastmask", "numpy", "pad-floor", "copy-floor"))
def test_core_cold(benchmark, name):
    peer = peer_or_skip(name)
    fn, data = prepared(peer, CORE)
    benchmark.group = f"core {CORE.id}: cold heap"
    step = steady_step(fn, len(data))
    runs = bm.time_fresh(name, CORE, SOURCE, CTX, runs=1 if QUICK else 3, calls=1)
    assert runs and all(len(r) == 1 and r[0] > 0 for r in runs)
    benchmark.extra_info.update(
        scenario=CORE.id, peer=name, tokens_per_batch=data.tokens,
        fresh_process_first_call_ms=[r[0] * 1e3 for r in runs])
    benchmark.pedantic(step, setup=cold_setup(step), rounds=30, iterations=1)


@pytest.mark.parametrize("name", ("fastmask", "numpy", "hf-wwm", "pad-floor"))
def test_core_whole_word_steady(benchmark, name):
    peer = peer_or_skip(name)
    sc = scenario(256, 512, "words", "list")
    fn, data = prepared(peer, sc)
    run(benchmark, peer, fn, data, group=f"core {sc.id}: steady")
