"""Shared set-up of the pytest-benchmark suite in benches/.

Run it with ``python -m pytest benches/`` (add ``--benchmark-only`` to skip anything that is not
a benchmark, ``--benchmark-json=out.json`` to keep the numbers). Files named ``bench_*.py`` are
collected here, so the suite does not depend on the project's pytest configuration.

Every benchmark of one scenario shares a ``benchmark.group``, so pytest-benchmark prints the
peers side by side, measured in the same run. Before timing, every benchmark checks that what
it times is right (:mod:`fastmask.bench.verify`; fastmask against its reference where both run).

Environment switches:
  FASTMASK_BENCH_FULL=1   the whole scenario matrix (3 batch sizes x 3 lengths x 2 maskings x
                          3 input forms); by default a representative subset runs.
  FASTMASK_BENCH_QUICK=1  quick mode, for CI: tiny sizes (:func:`tiny`), every benchmark
                          function called once, its outputs checked, nothing timed. Also the
                          mode when pytest-benchmark is not installed.
"""

from __future__ import annotations

import collections
import ctypes
import ctypes.util
import gc
import importlib.util
import itertools
import os
import time
from typing import Any, Callable, Dict, Optional, Tuple

import pytest

from fastmask import bench as bm
from fastmask.bench.verify import check_same

FULL = os.environ.get("FASTMASK_BENCH_FULL", "0") not in ("", "0")
QUICK = os.environ.get("FASTMASK_BENCH_QUICK", "0") not in ("", "0") or \
    importlib.util.find_spec("pytest_benchmark") is None


def tiny(batch_size: int, max_length: int) -> Tuple[int, int]:
    """The sizes a benchmark uses: as given, or in quick mode 1/32 of the batch size (at least
    2) and 1/16 of the length (at least 16): 256 x 512 becomes 8 x 32."""
    if not QUICK:
        return batch_size, max_length
    return max(2, batch_size // 32), max(16, max_length // 16)


def scenario(batch_size: int, max_length: int, masking: str, inputs: str) -> bm.Scenario:
    return bm.Scenario(*tiny(batch_size, max_length), masking, inputs)


def pytest_configure(config):
    # quick mode brings its own ``benchmark`` fixture: pytest-benchmark, when installed, would
    # reject it (and time nothing worth keeping anyway)
    if QUICK:
        for name in ("benchmark", "pytest_benchmark.plugin"):
            plugin = config.pluginmanager.get_plugin(name)
            if plugin is not None:
                config.pluginmanager.unregister(plugin)


def pytest_report_header(config):
    if QUICK:
        return ("benches: quick mode (tiny sizes, each benchmark called once, outputs checked, "
                "nothing timed)")
    return None


class _Stats:
    def __init__(self, seconds: float):
        self.min = self.max = self.mean = self.median = seconds
        self.rounds = 1


class OneCall:
    """Quick mode's ``benchmark`` fixture: pytest-benchmark's interface, one call, no timing
    worth the name (``stats`` holds that one call's duration)."""

    def __init__(self) -> None:
        self.group: Optional[str] = None
        self.extra_info: Dict[str, Any] = {}
        self.calls = 0
        self.stats = None

    def _once(self, fn, args=(), kwargs=None):
        t0 = time.perf_counter()
        out = fn(*args, **(kwargs or {}))
        self.stats = type("Stats", (), {"stats": _Stats(time.perf_counter() - t0)})()
        self.calls += 1
        return out

    def __call__(self, fn, *args, **kwargs):
        return self._once(fn, args, kwargs)

    def pedantic(self, fn, args=(), kwargs=None, setup=None, rounds=1, iterations=1,
                 warmup_rounds=0):
        if setup is not None:
            made = setup()
            if made is not None:
                args, kwargs = made
        return self._once(fn, args, kwargs)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if call.when == "call":
        item._bench_passed = outcome.get_result().passed


if QUICK:
    @pytest.fixture
    def benchmark(request):
        b = OneCall()
        yield b
        if getattr(request.node, "_bench_passed", False):
            assert b.calls == 1, "a benchmark function must call its benchmark exactly once"


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
    fn = peer.prepare(data, CTX)
    verify(peer, fn, data)
    return fn, data


def verify(peer: bm.Peer, fn: Callable[[int], Any], data: bm.ScenarioData) -> None:
    """Fails the benchmark unless ``fn``'s output for batch 0 is right; fastmask's must also be
    bit-identical to its pure-Python reference's (always in quick mode, else where the
    reference peer runs)."""
    out = fn(0)
    peer.check(out, data, 0)
    if peer.kind == "fastmask":
        ref = bm.PEERS["reference"]
        if QUICK or ref.skip(data.scenario, SOURCE, CTX) is None:
            check_same(out, ref.prepare(data, CTX)(0), "the pure-Python reference")


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
