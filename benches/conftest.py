"""Shared set-up of the pytest-benchmark suite in benches/.

Run it with ``python -m pytest benches/`` (add ``--benchmark-only`` to skip anything that is not
a benchmark, ``--benchmark-json=out.json`` to keep the numbers). Files named ``bench_*.py`` are
collected here, so the suite does not depend on the project's pytest configuration.

Every benchmark of one scenario shares a ``benchmark.group``, so pytest-benchmark prints the
peers side by side, measured in the same run.

Environment switches:
  FASTMASK_BENCH_FULL=1   the whole scenario matrix (3 batch sizes x 3 lengths x 2 maskings x
                          3 input forms); by default a representative subset runs.
"""

from __future__ import annotations

import collections
import ctypes
import ctypes.util
import gc
import itertools
import os
from typing import Any, Callable, Dict, Optional, Tuple

import pytest

pytest.importorskip("pytest_benchmark")

from fastmask import bench as bm  # noqa: E402

FULL = os.environ.get("FASTMASK_BENCH_FULL", "0") not in ("", "0")


def pytest_collect_file(file_path, parent):
    """Collects ``bench_*.py`` modules (pytest's default pattern is ``test_*.py``)."""
    if file_path.suffix == ".py" and file_path.name.startswith("bench_") and \
            not parent.session.isinitpath(file_path):
        return pytest.Module.from_parent(parent, path=file_path)
    return None


SOURCE = bm.DataSource.synthetic(0)
CTX = bm.Context(seed=0)
_DATA: Dict[bm.Scenario, bm.ScenarioData] = {}


def scenario_data(sc: bm.Scenario) -> bm.ScenarioData:
    """The batches of a scenario; only the most recent scenario is kept in memory."""
    if sc not in _DATA:
        _DATA.clear()
        gc.collect()
        _DATA[sc] = bm.ScenarioData(SOURCE, sc, bm.batches_for(0.68 * sc.batch_size *
                                                              sc.max_length))
    return _DATA[sc]


def peer_or_skip(name: str) -> bm.Peer:
    peer = bm.get_peer(name)
    why = peer.missing()
    if why:
        pytest.skip(why)
    return peer


def prepared(peer: bm.Peer, sc: bm.Scenario) -> Tuple[Callable[[int], Any], bm.ScenarioData]:
    why = peer.skip(sc, SOURCE, CTX)
    if why:
        pytest.skip(why)
    data = scenario_data(sc)
    return peer.prepare(data, CTX), data


def steady_step(fn: Callable[[int], Any], n_batches: int, keep: int = 2) -> Callable[[], None]:
    """One call per invocation, cycling through the batches; the outputs of the last ``keep``
    calls stay alive, as a DataLoader's prefetch keeps them."""
    kept: collections.deque = collections.deque(maxlen=keep)
    order = itertools.cycle(range(n_batches))

    def step() -> None:
        kept.append(fn(next(order)))

    step.kept = kept  # type: ignore[attr-defined]
    return step


_libc = None


def _malloc_trim() -> None:
    global _libc
    if _libc is None:
        name = ctypes.util.find_library("c")
        try:
            _libc = ctypes.CDLL(name) if name else False
        except OSError:
            _libc = False
    if _libc and hasattr(_libc, "malloc_trim"):
        _libc.malloc_trim(0)


def cold_setup(step: Callable[[], None]) -> Callable[[], None]:
    """A pedantic ``setup`` that drops kept outputs and hands free heap pages back to the OS,
    so the next call writes into pages the process has never touched, as a fresh process
    does."""

    def setup() -> None:
        step.kept.clear()  # type: ignore[attr-defined]
        gc.collect()
        _malloc_trim()

    return setup


def run(benchmark, peer: bm.Peer, fn: Callable[[int], Any], data: bm.ScenarioData,
        group: Optional[str] = None) -> None:
    """Times ``fn`` in the steady state under pytest-benchmark and records the scenario."""
    sc = data.scenario
    benchmark.group = group or sc.id
    benchmark.extra_info.update(scenario=sc.id, peer=peer.name, label=peer.label,
                                tokens_per_batch=data.tokens, padded_width=data.width)
    step = steady_step(fn, len(data))
    if peer.slow:
        benchmark.pedantic(step, rounds=3, iterations=1, warmup_rounds=1)
    else:
        step()  # warm-up: the first call may pay one-time costs (lazy imports, thread pools)
        benchmark(step)
