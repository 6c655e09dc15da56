"""The PNG chart of a results document (needs matplotlib).

:func:`chart_figure` builds the figure and :func:`plot_chart` writes it. The figure has only the
panels the data can fill, each labelled (``Axes.get_label()``) so that tests can find it:

* ``"headline"``: ms per batch of every peer in the headline scenario (bars, always there);
* ``"batch"`` / ``"length"``: throughput against batch size / sequence length, when the run has
  more than one of them;
* ``"tokens"``: time against tokens with the linear fit, when a fit was made (three sizes or
  more);
* ``"threads"``: thread scaling, when the run measured it.

Legends sit outside the plotting areas, below the panels; axis ticks are the measured values
written as plain numbers (32, 256, 1024), with no minor ticks.
"""

from __future__ import annotations

import math
import os
from typing import Any, Dict, List, Tuple

import numpy as np

from .common import BenchError
from .peers import SHORT

COLORS = {"fastmask": "#d62728", "hf": "#1f77b4", "hf-wwm": "#17becf", "numpy": "#2ca02c",
          "reference": "#9467bd", "pad-floor": "#7f7f7f", "copy-floor": "#bcbd22"}


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise BenchError("the chart needs matplotlib: pip install matplotlib "
                         "(or pip install 'fastmask[plot]')") from None
    return plt


def _plain(v: float, _pos: Any = None) -> str:
    return f"{v:g}"


def _plain_log(axis) -> None:
    """A log axis ticked at 1, 2 and 5 times the powers of ten, written as plain numbers."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(_plain))
    axis.set_minor_locator(NullLocator())


def _number_ticks(ax, xs=None) -> None:
    """Ticks at the measured values ``xs`` on x (plain numbers, or 1-2-5 steps on a log x
    without ``xs``); plain numbers on y."""
    from matplotlib.ticker import FuncFormatter, NullLocator

    if xs is not None:
        ax.set_xticks(list(xs), labels=[_plain(x) for x in xs])
        ax.xaxis.set_minor_locator(NullLocator())
    elif ax.get_xscale() == "log":
        _plain_log(ax.xaxis)
    if ax.get_yscale() == "log":
        _plain_log(ax.yaxis)
    else:
        ax.yaxis.set_major_formatter(FuncFormatter(_plain))
        ax.yaxis.set_minor_locator(NullLocator())


def _pick(values, want):
    return min(values, key=lambda v: abs(math.log(v / want))) if values else None


def _panels(doc: Dict[str, Any]) -> Tuple[List[str], Dict[str, Any]]:
    """Which panels the document can fill, and what each one draws."""
    info = {s["id"]: s for s in doc["scenarios"]}
    steady = [r for r in doc["results"] if r["mode"] == "steady"]
    masking = "tokens" if any(s["masking"] == "tokens" for s in doc["scenarios"]) else "words"
    inputs = "list" if any(s["inputs"] == "list" for s in doc["scenarios"]) else \
        doc["scenarios"][0]["inputs"] if doc["scenarios"] else "list"
    Ls = sorted({s["max_length"] for s in doc["scenarios"]})
    Bs = sorted({s["batch_size"] for s in doc["scenarios"]})
    L0, B0 = _pick(Ls, 512), _pick(Bs, 256)

    def series(fixed_key, fixed_val, x_key):
        out: Dict[str, List[Tuple[int, float]]] = {}
        for r in steady:
            s = info[r["scenario"]]
            if s["masking"] == masking and s["inputs"] == inputs and s[fixed_key] == fixed_val \
                    and r.get("mtok_per_s"):
                out.setdefault(r["peer"], []).append((s[x_key], r["mtok_per_s"]))
        return {k: sorted(v) for k, v in out.items()}

    names: List[str] = []
    what: Dict[str, Any] = {}
    if doc.get("headline"):
        names.append("headline")
        what["headline"] = [r for r in steady if r["scenario"] == doc["headline"]]
    for name, fixed_key, fixed_val, x_key, xs in (
            ("batch", "max_length", L0, "batch_size", Bs),
            ("length", "batch_size", B0, "max_length", Ls)):
        data = series(fixed_key, fixed_val, x_key)
        if len(xs) > 1 and any(len(v) > 1 for v in data.values()):
            names.append(name)
            what[name] = (data, fixed_val, masking, inputs)
    fits = [e for e in doc["scaling"]["tokens"] if "ns_per_token" in e]
    if fits:
        names.append("tokens")
        what["tokens"] = fits
    if doc["scaling"]["threads"]:
        names.append("threads")
        what["threads"] = doc["scaling"]["threads"]
    return names, what


def chart_figure(doc: Dict[str, Any]):
    """The chart as a matplotlib Figure (the caller closes it)."""
    plt = _pyplot()
    names, what = _panels(doc)
    order = [p["name"] for p in doc["peers"]]
    ncols = 1 if len(names) == 1 else 2
    nrows = max(1, math.ceil(len(names) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(6.5 * ncols, 4.6 * nrows + 0.8),
                             squeeze=False)
    flat = [ax for row in axes for ax in row]
    for ax in flat[len(names):]:
        fig.delaxes(ax)
    m = doc["machine"]
    fig.suptitle(f"fastmask {m['fastmask']} benchmark — {m['cpu']}, {m['usable_cpus']} CPUs, "
                 f"Python {m['python']}, numpy {m['numpy']} ({doc['created'][:10]}); "
                 "steady-state medians", fontsize=10)
    handles: Dict[str, Any] = {}

    def line(ax, name, xs, ys, **kw):
        (h,) = ax.plot(xs, ys, color=COLORS.get(name), label=SHORT.get(name, name), **kw)
        handles.setdefault(SHORT.get(name, name), h)

    for ax, name in zip(flat, names):
        ax.set_label(name)
        ax.grid(True, which="major", alpha=0.3)
        if name == "headline":
            rows = sorted(what[name], key=lambda r: order.index(r["peer"])
                          if r["peer"] in order else 99)
            ys = np.arange(len(rows))
            ax.barh(ys, [r["median_ms"] for r in rows],
                    color=[COLORS.get(r["peer"], "#555555") for r in rows])
            ax.set_yticks(ys, labels=[SHORT.get(r["peer"], r["peer"]) for r in rows])
            ax.invert_yaxis()
            ax.set_xscale("log")
            _plain_log(ax.xaxis)
            ax.set_xlabel("ms per batch (lower is better)")
            ax.set_title(f"headline: {doc['headline']}", fontsize=10)
        elif name in ("batch", "length"):
            data, fixed, masking, inputs = what[name]
            for peer in order:
                pts = data.get(peer)
                if pts:
                    line(ax, peer, [p[0] for p in pts], [p[1] for p in pts], marker="o",
                         linestyle="--" if peer.endswith("floor") else "-",
                         linewidth=2.5 if peer == "fastmask" else 1.5)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            xs = sorted({p[0] for pts in data.values() for p in pts})
            _number_ticks(ax, xs)
            if name == "batch":
                ax.set_xlabel("batch size (sequences)")
                title = f"throughput vs batch size (max length {fixed})"
            else:
                ax.set_xlabel("max sequence length (tokens)")
                title = f"throughput vs sequence length (batch {fixed})"
            ax.set_ylabel("Mtokens/s (higher is better)")
            ax.set_title(f"{title}, {masking} masking, {inputs} in", fontsize=10)
        elif name == "tokens":
            for e in what[name]:
                x = [p[0] for p in e["points"]]
                line(ax, e["peer"], x, [p[1] for p in e["points"]], marker="o",
                     linestyle="none")
                grid = np.geomspace(min(x), max(x), 50)
                ys = e["intercept_us"] / 1e3 + e["ns_per_token"] * 1e-6 * grid
                ok = ys > 0  # a negative intercept cannot be drawn on a log scale
                ax.plot(grid[ok], ys[ok], color=COLORS.get(e["peer"]), alpha=0.6, linewidth=1)
            ax.set_xscale("log")
            ax.set_yscale("log")
            _number_ticks(ax)
            ax.set_xlabel("real tokens per batch")
            ax.set_ylabel("ms per batch")
            ax.set_title("time against tokens (lines: linear fit a + b x tokens)", fontsize=10)
        else:
            th = what[name]
            for sid in dict.fromkeys(r["scenario"] for r in th):
                pts = sorted((r["threads"], r["speedup"]) for r in th
                             if r["scenario"] == sid and r.get("speedup"))
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=sid)
            counts = sorted({r["threads"] for r in th})
            ax.plot([1, counts[-1]], [1, counts[-1]], color="#999999", linestyle=":",
                    label="ideal")
            _number_ticks(ax, counts)
            ax.set_xlabel("threads (Masker(num_threads=N))")
            ax.set_ylabel("speedup over 1 thread")
            ax.set_title("thread scaling, largest batches", fontsize=10)
            # its own legend (scenarios, not peers), below the panel, off the data
            ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2,
                      frameon=False)
    bottom = 0.0
    if handles:
        fig.legend(list(handles.values()), list(handles), loc="lower center",
                   ncol=min(len(handles), 7), fontsize=9, frameon=False)
        bottom = 0.7 / fig.get_figheight()
    fig.tight_layout(rect=(0, bottom, 1, 0.95))
    return fig


def plot_chart(doc: Dict[str, Any], path: str) -> str:
    """Writes the chart of ``doc`` as a PNG to ``path``; returns ``path``. Needs matplotlib."""
    plt = _pyplot()
    fig = chart_figure(doc)
    try:
        d = os.path.dirname(os.path.abspath(path))
        os.makedirs(d, exist_ok=True)
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
    return path
