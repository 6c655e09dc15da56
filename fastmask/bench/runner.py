"""A benchmark run: the plan of (scenario, peer) pairs, the measurements, and the results
document they make."""

from __future__ import annotations

import datetime as _dt
import gc
import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .common import BATCH_SIZES, DEFAULT_INPUTS, HEADLINE, MASKINGS, MAX_LENGTHS, SCHEMA
from .data import DataSource, Scenario, ScenarioData, make_scenarios
from .loader import LOADER_BATCHES, LOADER_PEERS, LOADER_WORKERS, run_loader
from .machine import _cpu_snapshot, machine_info, other_cpu_share
from .peers import OTHER_MASKING, PEERS, Context, FastmaskPeer, Peer, _hf_return_tensors
from .progress import Progress
from .timing import (
    HEADLINE_CALLS,
    Timing,
    _stats,
    batches_for,
    headline_timing,
    time_fresh,
    time_interleaved,
    time_steady,
)


@dataclass
class Settings:
    """Everything that shapes a benchmark run (the CLI maps its options onto this)."""

    batch_sizes: Tuple[int, ...] = BATCH_SIZES
    max_lengths: Tuple[int, ...] = MAX_LENGTHS
    maskings: Tuple[str, ...] = MASKINGS
    inputs: Tuple[str, ...] = DEFAULT_INPUTS
    peers: Tuple[str, ...] = tuple(PEERS)
    timing: Timing = field(default_factory=Timing)
    fresh: str = "headline"  # "headline", "all" or "none"
    fresh_runs: int = 3
    fresh_calls: int = 5
    threads: Tuple[int, ...] = ()  # thread counts for the scaling table; () = none
    seed: int = 0
    dtype: str = "int64"
    reference_max_tokens: int = 100_000
    hf_wwm_max_cells: int = 1 << 28
    #: DataLoader scenario (on the headline scenario, token masking of lists): worker counts;
    #: () = none
    loader_workers: Tuple[int, ...] = LOADER_WORKERS
    loader_batches: int = LOADER_BATCHES  # batches per DataLoader epoch
    command: str = ""


def _headline(scenarios: Sequence[Scenario]) -> Optional[Scenario]:
    if not scenarios:
        return None
    want = Scenario(*HEADLINE)
    if want in scenarios:
        return want
    pool = [s for s in scenarios if s.masking == "tokens" and s.inputs == "list"] or list(
        scenarios)
    return min(pool, key=lambda s: (abs(math.log(s.batch_size / 256)) +
                                    abs(math.log(s.max_length / 512))))


def _thread_scenarios(scenarios: Sequence[Scenario]) -> List[Scenario]:
    """The largest batches of the run (token masking; list and ragged inputs)."""
    toks = [s for s in scenarios if s.masking == "tokens"]
    if not toks:
        return []
    B = max(s.batch_size for s in toks)
    if B < 64:
        return []
    out = [s for s in toks if s.batch_size == B and s.inputs in ("list", "ragged")]
    return sorted(out, key=lambda s: (s.inputs, s.max_length))


def _measure(peer: Peer, data: ScenarioData, ctx: Context,
             timing: Timing) -> Tuple[Dict[str, Any], Optional[str]]:
    """Checks one peer's first output and times it on one scenario: ``(statistics, None)``, or
    ``({}, "failed: ...")`` (a wrong output fails as ``WrongOutput``)."""
    try:
        fn = peer.prepare(data, ctx)
        times = time_steady(fn, len(data), timing, slow=peer.slow,
                            check=lambda out: peer.check(out, data, 0))
    except Exception as e:
        return {}, f"failed: {type(e).__name__}: {e}"
    return _stats(times), None


#: Measured together, in turns (:func:`time_interleaved`): the floor ratios compare these.
FLOOR_GROUP = ("fastmask", "pad-floor", "copy-floor")


def _measure_group(peers: Sequence[Peer], data: ScenarioData, ctx: Context,
                   timing: Timing) -> List[Tuple[Dict[str, Any], Optional[str]]]:
    """:func:`_measure` for several peers timed in turns; if one of them fails to prepare or
    check, each is measured on its own instead."""
    try:
        fns = [p.prepare(data, ctx) for p in peers]
        checks = [(lambda out, p=p: p.check(out, data, 0)) for p in peers]
        times = time_interleaved(fns, len(data), timing, checks)
    except Exception:
        return [_measure(p, data, ctx, timing) for p in peers]
    return [(_stats(t), None) for t in times]


def run(settings: Settings, source: Optional[DataSource] = None,
        progress: bool = True, log: Callable[[str], None] = lambda s: None) -> Dict[str, Any]:
    """Runs the benchmark; returns the results document (see :func:`validate_results`)."""
    machine = machine_info()  # before the run: the load average must not count the run itself
    cpu_start = _cpu_snapshot()
    source = source or DataSource.synthetic(settings.seed)
    scenarios = make_scenarios(settings.batch_sizes, settings.max_lengths, settings.maskings,
                               settings.inputs)
    ctx = Context(seed=settings.seed, dtype=settings.dtype,
                  reference_max_tokens=settings.reference_max_tokens,
                  hf_wwm_max_cells=settings.hf_wwm_max_cells)
    names = list(dict.fromkeys(["fastmask"] + [p for p in settings.peers if p in PEERS]))
    peers_doc = []
    active: List[Peer] = []
    for name in names:
        p = PEERS[name]
        miss = p.missing()
        peers_doc.append({"name": p.name, "label": p.label, "kind": p.kind,
                          "available": miss is None, "note": miss})
        if miss is None:
            active.append(p)
    headline = _headline(scenarios)
    fresh_set = [] if settings.fresh == "none" else (
        list(scenarios) if settings.fresh == "all" else [headline] if headline else [])
    thread_scs = _thread_scenarios(scenarios) if len(settings.threads) > 1 else []

    # plan: (scenario, peer) pairs that run, and the ones skipped with a reason
    skipped: List[Dict[str, Any]] = []
    plan: List[Tuple[Scenario, List[Peer]]] = []
    for sc in scenarios:
        run_here = []
        for p in active:
            why = p.skip(sc, source, ctx)
            if why is None:
                run_here.append(p)
            elif why != OTHER_MASKING:
                skipped.append({"scenario": sc.id, "peer": p.name, "reason": why})
        plan.append((sc, run_here))
    steps = sum(len(ps) for _, ps in plan)
    steps += sum(len([p for p in ps if sc in fresh_set]) for sc, ps in plan)
    steps += len(thread_scs) * len(settings.threads)
    loader_sc = headline if headline is not None and headline.masking == "tokens" and \
        headline.inputs == "list" and settings.loader_workers else None
    loader_names = [n for n in LOADER_PEERS if n != "hf" or "hf" in settings.peers]
    steps += 1 if loader_sc else 0

    scen_doc: List[Dict[str, Any]] = []
    results: List[Dict[str, Any]] = []
    thread_doc: List[Dict[str, Any]] = []
    with warnings.catch_warnings(), Progress(steps, "fastmask bench", progress) as bar:
        warnings.simplefilter("ignore")
        for sc, ps in plan:
            est = 0.68 * sc.batch_size * sc.max_length
            data = ScenarioData(source, sc, batches_for(est))
            scen_doc.append({"id": sc.id, "batch_size": sc.batch_size,
                             "max_length": sc.max_length, "masking": sc.masking,
                             "inputs": sc.inputs, "tokens": data.tokens,
                             "padded_width": data.width, "batches": len(data)})
            timing = headline_timing(settings.timing) if sc == headline else settings.timing
            group = [p for p in ps if p.name in FLOOR_GROUP]
            together = dict(zip((p.name for p in group), _measure_group(group, data, ctx, timing)))
            for p in ps:
                bar.set(f"{sc.id} · {p.name}")
                r, err = together[p.name] if p.name in together else _measure(p, data, ctx, timing)
                if err:  # a peer failing must not sink the whole report
                    skipped.append({"scenario": sc.id, "peer": p.name, "reason": err})
                    log(f"{p.name} failed on {sc.id}: {err[len('failed: '):]}")
                else:
                    results.append(dict(r, scenario=sc.id, peer=p.name, mode="steady",
                                        threads=1))
                bar.update()
            if sc in thread_scs:
                for t in settings.threads:
                    bar.set(f"{sc.id} · {t} threads")
                    r, err = _measure(FastmaskPeer(t), data, ctx, timing)
                    if err:
                        log(f"threads={t} failed on {sc.id}: {err[len('failed: '):]}")
                    else:
                        thread_doc.append(dict(r, scenario=sc.id, threads=t))
                    bar.update()
            del data
            gc.collect()
        for sc, ps in plan:
            if sc not in fresh_set:
                continue
            for p in ps:
                bar.set(f"{sc.id} · {p.name} (fresh process)")
                try:
                    runs = time_fresh(p.name, sc, source, ctx, settings.fresh_runs,
                                      settings.fresh_calls if not p.slow else 2)
                except Exception as e:
                    skipped.append({"scenario": sc.id, "peer": p.name + " (fresh)",
                                    "reason": f"failed: {e}"})
                    log(f"fresh {p.name} failed on {sc.id}: {e}")
                else:
                    first = [r[0] for r in runs]
                    later = [t for r in runs for t in r[1:]]
                    r = {"scenario": sc.id, "peer": p.name, "mode": "fresh", "threads": 1}
                    r.update(_stats(first))
                    r["first_call_ms"] = [t * 1e3 for t in first]
                    r["later_calls_median_ms"] = (float(np.median(later)) * 1e3 if later
                                                  else None)
                    r["processes"] = len(runs)
                    results.append(r)
                bar.update()
        loader_doc: List[Dict[str, Any]] = []
        if loader_sc is not None:
            bar.set(f"{loader_sc.id} · DataLoader")
            data = ScenarioData(source, loader_sc, batches_for(0.68 * loader_sc.batch_size *
                                                               loader_sc.max_length))
            loader_doc, loader_skipped = run_loader(data, ctx, settings.timing,
                                                    settings.loader_workers, loader_names,
                                                    settings.loader_batches, log)
            skipped += loader_skipped
            del data
            bar.update()

    _add_ratios(results, scen_doc)
    share = other_cpu_share(cpu_start, _cpu_snapshot())
    machine["other_cpu_share"] = None if share is None else round(share, 4)
    doc = {
        "schema": SCHEMA,
        "created": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "command": settings.command,
        "machine": machine,
        "data": {"source": source.kind, "description": source.describe(),
                 "vocab_size": source.vocab_size, "notes": list(source.notes)},
        "settings": {
            "repeat": settings.timing.repeat, "warmup": settings.timing.warmup,
            "min_time_s": settings.timing.min_time, "max_time_s": settings.timing.max_time,
            "kept_outputs": settings.timing.keep, "headline_calls": HEADLINE_CALLS,
            "fresh": settings.fresh,
            "fresh_runs": settings.fresh_runs, "seed": settings.seed, "dtype": settings.dtype,
            "threads": list(settings.threads),
            "reference_max_tokens": settings.reference_max_tokens,
            "hf_wwm_max_cells": settings.hf_wwm_max_cells,
            "hf_return_tensors": _hf_return_tensors(),
            "loader_workers": list(settings.loader_workers) if loader_sc else [],
            "loader_batches": settings.loader_batches,
        },
        "headline": headline.id if headline else None,
        "peers": peers_doc,
        "scenarios": scen_doc,
        "results": results,
        "skipped": skipped,
        "scaling": {"tokens": token_scaling(results, scen_doc),
                    "threads": _thread_speedups(thread_doc)},
        "floors": floor_ratios(results, scen_doc),
        "loader": loader_doc,
        "notes": _notes(peers_doc),
    }
    return doc


def _add_ratios(results: List[Dict[str, Any]], scenarios: List[Dict[str, Any]]) -> None:
    tokens = {s["id"]: s["tokens"] for s in scenarios}
    base = {(r["scenario"], r["mode"]): r["median_ms"] for r in results
            if r["peer"] == "fastmask"}
    for r in results:
        ms = r["median_ms"]
        r["mtok_per_s"] = tokens[r["scenario"]] / (ms * 1e3) if ms > 0 else None
        b = base.get((r["scenario"], r["mode"]))
        r["vs_fastmask"] = ms / b if b else None


#: The floor that bounds fastmask on each input form: lists must at least be read and padded
#: (``fastmask.pad``); arrays need no reading, so the floor is writing the three outputs.
FLOOR_OF = {"list": "pad-floor", "arrays": "pad-floor", "ndarray": "copy-floor",
            "ragged": "copy-floor"}


def floor_ratios(results: Sequence[Dict[str, Any]],
                 scenarios: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """For every scenario fastmask ran in (steady state): its time over each floor's, measured
    in the same run (medians, and minima: the ratio on a busy machine), the floor that bounds
    its input form (:data:`FLOOR_OF`), and for whole-word masking its time over token
    masking's in the same sizes and form."""
    steady = {(r["scenario"], r["peer"]): r for r in results if r["mode"] == "steady"}
    info = {s["id"]: s for s in scenarios}
    ids = {(s["batch_size"], s["max_length"], s["masking"], s["inputs"]): s["id"]
           for s in scenarios}
    out = []
    for s in scenarios:
        fm = steady.get((s["id"], "fastmask"))
        if fm is None:
            continue
        row: Dict[str, Any] = {"scenario": s["id"], "inputs": s["inputs"],
                               "masking": s["masking"], "floor": FLOOR_OF[s["inputs"]],
                               "fastmask_ms": fm["median_ms"], "fastmask_min_ms": fm["min_ms"]}
        for floor in ("pad-floor", "copy-floor"):
            f = steady.get((s["id"], floor))
            key = floor.replace("-", "_")
            row[f"{key}_ms"] = f["median_ms"] if f else None
            row[f"vs_{key}"] = fm["median_ms"] / f["median_ms"] if f and f["median_ms"] else None
            row[f"vs_{key}_min"] = fm["min_ms"] / f["min_ms"] if f and f["min_ms"] else None
        key = row["floor"].replace("-", "_")
        row["vs_floor"], row["vs_floor_min"] = row[f"vs_{key}"], row[f"vs_{key}_min"]
        row["vs_tokens"] = None
        if s["masking"] == "words":
            tid = ids.get((s["batch_size"], s["max_length"], "tokens", s["inputs"]))
            t = steady.get((tid, "fastmask")) if tid in info else None
            if t and t["median_ms"]:
                row["vs_tokens"] = fm["median_ms"] / t["median_ms"]
                row["vs_tokens_min"] = fm["min_ms"] / t["min_ms"] if t["min_ms"] else None
        out.append(row)
    return out


def token_scaling(results: Sequence[Dict[str, Any]],
                  scenarios: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """How time grows with the number of tokens, per peer, over the steady token-masking
    list-input scenarios: a fit ``ms = a + b * tokens`` minimising relative errors (R² is
    computed on relative errors too), and the exponent ``k`` of a power law
    ``ms ~ tokens^k`` (1 = linear)."""
    info = {s["id"]: s for s in scenarios}
    out = []
    by_peer: Dict[str, List[Tuple[float, float]]] = {}
    for r in results:
        s = info.get(r["scenario"])
        if r["mode"] != "steady" or s is None or s["masking"] != "tokens" or \
                s["inputs"] != "list":
            continue
        by_peer.setdefault(r["peer"], []).append((s["tokens"], r["median_ms"]))
    for peer, pts in by_peer.items():
        pts.sort()
        x = np.array([p[0] for p in pts])
        y = np.array([p[1] for p in pts])
        entry: Dict[str, Any] = {"peer": peer, "points": [[float(a), float(b)] for a, b in pts]}
        per_tok = y * 1e6 / x  # ns per token
        entry["ns_per_token_min"] = float(per_tok.min())
        entry["ns_per_token_max"] = float(per_tok.max())
        if len(pts) >= 3 and np.ptp(x) > 0:
            # weighted by 1/ms, so that relative errors count: small batches matter as much as
            # big ones (a plain fit is decided by the largest batches alone)
            b, a = np.polyfit(x, y, 1, w=1.0 / y)
            pred = a + b * x
            ss_res = float((((y - pred) / y) ** 2).sum())
            ym = np.average(y, weights=1.0 / y ** 2)
            ss_tot = float((((y - ym) / y) ** 2).sum())
            entry["ns_per_token"] = float(b * 1e6)
            entry["intercept_us"] = float(a * 1e3)
            entry["r2"] = 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0
            # exponent of a power law ms ~ tokens^k: 1 means linear
            entry["exponent"] = float(np.polyfit(np.log(x), np.log(y), 1)[0])
        out.append(entry)
    return out


def _thread_speedups(rows: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    one = {r["scenario"]: r["median_ms"] for r in rows if r["threads"] == 1}
    for r in rows:
        b = one.get(r["scenario"])
        r["speedup"] = b / r["median_ms"] if b and r["median_ms"] > 0 else None
    return rows


def _notes(peers_doc: List[Dict[str, Any]]) -> List[str]:
    names = {p["name"] for p in peers_doc if p["available"]}
    notes = ["Steady state: median over calls; the outputs of the last 2 batches stay alive, "
             "as a DataLoader's prefetch keeps them. Fresh: first call in a new Python process "
             "(median over processes).",
             "Ratios divide a peer's median time by fastmask's median time in the same run and "
             "scenario: above 1, fastmask is faster; for the floors, below 1."]
    if "hf" in names or "hf-wwm" in names:
        notes.append("HF gets dicts with input_ids and special_tokens_mask (its documented "
                     f"fast path) and returns {_hf_return_tensors()!r} tensors.")
    if "hf-wwm" in names:
        notes.append("HF whole-word masking needs offset_mapping, which tokenizer.pad does "
                     "not pad: its examples are pre-padded to the batch's longest sequence "
                     "outside the timing. It also forces mask_replace_prob=1.")
    notes.append("fastmask / floor divides fastmask's time by the floor of its input form, "
                 "measured in the same run: lists by fastmask.pad reading the lists, arrays by "
                 "writing the three padded outputs; 'of minima' divides the minimum times. "
                 "fastmask and the two floors are timed in turns (one call of each per round), "
                 "so that a change in the machine's load reaches all three alike.")
    notes.append("DataLoader: median epoch time over persistent-worker epochs after one "
                 "untimed epoch; the floor collate only allocates its outputs (in shared "
                 "memory in a worker), so its rate is the DataLoader's own limit.")
    if "reference" in names:
        notes.append("The pure-Python reference runs only on list inputs and small batches "
                     "(--reference-max-tokens).")
    return notes


