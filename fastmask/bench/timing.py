"""How calls are timed: in a steady state inside this process, and first calls in fresh
processes."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import time
import warnings
from dataclasses import asdict, dataclass, replace
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

from .data import DataSource, Scenario, ScenarioData
from .peers import Context, get_peer


@dataclass
class Timing:
    """How many calls a measurement makes."""

    repeat: int = 20  # timed calls wanted
    warmup: int = 2
    min_time: float = 0.2  # keep calling (up to 10 x repeat) until this much time was timed
    max_time: float = 2.0  # stop once this much was timed (after at least min(3, repeat) calls)
    keep: int = 2  # outputs of the last `keep` batches stay alive


#: The headline scenario is the number people quote, so its measurements get at least this many
#: timed calls after at least ``HEADLINE_WARMUP`` warm-up calls, and at least
#: ``HEADLINE_MIN_TIME`` seconds of them, whatever the run's timing (``--quick`` included); only
#: a peer slower than ``HEADLINE_MAX_TIME / HEADLINE_CALLS`` per call gets fewer.
HEADLINE_CALLS = 30
HEADLINE_WARMUP = 3
HEADLINE_MIN_TIME = 0.2
HEADLINE_MAX_TIME = 2.0


def headline_timing(timing: Timing) -> Timing:
    """``timing`` raised to the headline scenario's minimum number of calls."""
    return replace(timing, repeat=max(timing.repeat, HEADLINE_CALLS),
                   warmup=max(timing.warmup, HEADLINE_WARMUP),
                   min_time=max(timing.min_time, HEADLINE_MIN_TIME),
                   max_time=max(timing.max_time, HEADLINE_MAX_TIME))


def time_steady(fn: Callable[[int], Any], n_batches: int, timing: Timing,
                slow: bool = False, check: Optional[Callable[[Any], None]] = None) -> List[float]:
    """Times calls of ``fn`` in a steady state; returns seconds per call.

    Batches are used in turn; the outputs of the last ``timing.keep`` calls stay alive while
    the next one runs, as a DataLoader's prefetch keeps them. ``check``, when given, is called
    (untimed) on the output of the first call, which processes batch 0.
    """
    kept: collections.deque = collections.deque(maxlen=max(timing.keep, 1))
    clock = time.perf_counter
    warm = 1 if slow or check is not None else 0
    warm = max(warm, 0 if slow else timing.warmup)
    spent = 0.0
    for k in range(warm):
        t0 = clock()
        kept.append(fn(k % n_batches))
        dt = clock() - t0
        spent += dt
        if k == 0 and check is not None:
            check(kept[-1])
        if dt > timing.max_time / 4 or spent > timing.max_time / 2:
            break
    times: List[float] = []
    total = 0.0
    least = min(3, timing.repeat)
    cap = max(timing.repeat, 1) * 10
    k = warm
    while True:
        i = k % n_batches
        t0 = clock()
        out = fn(i)
        dt = clock() - t0
        kept.append(out)
        del out
        times.append(dt)
        total += dt
        k += 1
        n = len(times)
        if n >= least and total >= timing.max_time:
            break
        if n >= timing.repeat and (total >= timing.min_time or n >= cap):
            break
    kept.clear()
    return times


def time_interleaved(fns: Sequence[Callable[[int], Any]], n_batches: int, timing: Timing,
                     checks: Optional[Sequence[Optional[Callable[[Any], None]]]] = None
                     ) -> List[List[float]]:
    """Times several implementations of one scenario in turns; returns seconds per call of each.

    Round r calls each of ``fns`` once, on batch r mod ``n_batches``, the first one first in even
    rounds and last in odd ones: a change in the machine's load during the measurement then
    reaches all of them alike, and the ratios between them hold where separate measurements
    would not (fastmask against its floors). Warm-up, the outputs kept alive (per function) and
    the stop rules are those of :func:`time_steady`, applied to the slowest function's total.
    ``checks[j]``, when given, is called (untimed) on the first output of ``fns[j]``.
    """
    m = len(fns)
    kept: List[collections.deque] = [collections.deque(maxlen=max(timing.keep, 1))
                                      for _ in range(m)]
    clock = time.perf_counter
    order = list(range(m))
    for k in range(max(timing.warmup, 1 if checks else 0)):
        for j in order:
            kept[j].append(fns[j](k % n_batches))
            check = checks[j] if checks is not None else None
            if k == 0 and check is not None:
                check(kept[j][-1])
    times: List[List[float]] = [[] for _ in range(m)]
    total = [0.0] * m
    least = min(3, timing.repeat)
    cap = max(timing.repeat, 1) * 10
    r = 0
    while True:
        i = r % n_batches
        for j in (order if r % 2 == 0 else order[::-1]):
            t0 = clock()
            out = fns[j](i)
            dt = clock() - t0
            kept[j].append(out)
            del out
            times[j].append(dt)
            total[j] += dt
        r += 1
        if r >= least and max(total) >= timing.max_time:
            break
        if r >= timing.repeat and (min(total) >= timing.min_time or r >= cap):
            break
    for d in kept:
        d.clear()
    return times


def _stats(times: Sequence[float]) -> Dict[str, Any]:
    ms = np.asarray(times, dtype=np.float64) * 1e3
    return {"median_ms": float(np.median(ms)), "min_ms": float(ms.min()),
            "q1_ms": float(np.percentile(ms, 25)), "q3_ms": float(np.percentile(ms, 75)),
            "calls": int(ms.shape[0])}


def batches_for(tokens_estimate: float) -> int:
    """Distinct batches cycled through in a measurement (fewer for big ones, to save memory)."""
    if tokens_estimate > 600_000:
        return 2
    if tokens_estimate > 150_000:
        return 3
    return 4


# ---- fresh processes ------------------------------------------------------------------------


def worker(spec: Dict[str, Any]) -> Dict[str, Any]:
    """Runs in a fresh interpreter: builds the scenario's data and the peer, then times its
    first calls."""
    source = DataSource.from_spec(spec["source"])
    sc = Scenario(**spec["scenario"])
    ctx = Context(seed=spec["seed"], dtype=spec["dtype"])
    peer = get_peer(spec["peer"])
    data = ScenarioData(source, sc, spec["batches"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fn = peer.prepare(data, ctx)
        kept: collections.deque = collections.deque(maxlen=2)
        times = []
        for k in range(spec["calls"]):
            t0 = time.perf_counter()
            kept.append(fn(k % len(data)))
            times.append(time.perf_counter() - t0)
    return {"times": times}


def _child_env() -> Dict[str, str]:
    import fastmask

    root = os.path.dirname(os.path.dirname(os.path.abspath(fastmask.__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return env


def time_fresh(peer: str, sc: Scenario, source: DataSource, ctx: Context, runs: int,
               calls: int = 5, timeout: float = 600) -> List[List[float]]:
    """Times the first ``calls`` calls in each of ``runs`` fresh Python processes."""
    spec = {"source": source.to_spec(), "scenario": asdict(sc), "peer": peer,
            "seed": ctx.seed, "dtype": ctx.dtype, "batches": min(calls, 2), "calls": calls}
    out = []
    for _ in range(runs):
        proc = subprocess.run([sys.executable, "-m", "fastmask.bench", "--worker"],
                              input=json.dumps(spec), capture_output=True, text=True,
                              timeout=timeout, env=_child_env())
        if proc.returncode != 0:
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise RuntimeError(f"fresh process failed: {tail}")
        out.append(json.loads(proc.stdout.strip().splitlines()[-1])["times"])
    return out


