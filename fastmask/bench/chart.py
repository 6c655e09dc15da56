"""The PNG chart of a results document (needs matplotlib)."""

from __future__ import annotations

import math
import os
from typing import Any, Dict, List, Tuple

import numpy as np

from .common import BenchError
from .peers import SHORT


def plot_chart(doc: Dict[str, Any], path: str) -> str:
    """Writes a PNG: throughput against batch size and sequence length, time against tokens,
    and thread scaling. Needs matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise BenchError("the chart needs matplotlib: pip install matplotlib "
                         "(or pip install 'fastmask[plot]')") from None
    info = {s["id"]: s for s in doc["scenarios"]}
    steady = [r for r in doc["results"] if r["mode"] == "steady"]
    order = [p["name"] for p in doc["peers"]]
    colors = {"fastmask": "#d62728", "hf": "#1f77b4", "hf-wwm": "#17becf", "numpy": "#2ca02c",
              "reference": "#9467bd", "pad-floor": "#7f7f7f", "copy-floor": "#bcbd22"}

    def series(masking, inputs, fixed_key, fixed_val, x_key):
        out: Dict[str, List[Tuple[int, float]]] = {}
        for r in steady:
            s = info[r["scenario"]]
            if s["masking"] == masking and s["inputs"] == inputs and s[fixed_key] == fixed_val:
                out.setdefault(r["peer"], []).append((s[x_key], r["mtok_per_s"]))
        return {k: sorted(v) for k, v in out.items()}

    def pick(values, want):
        return min(values, key=lambda v: abs(math.log(v / want))) if values else None

    masking = "tokens" if any(s["masking"] == "tokens" for s in doc["scenarios"]) else "words"
    inputs = "list" if any(s["inputs"] == "list" for s in doc["scenarios"]) else \
        doc["scenarios"][0]["inputs"] if doc["scenarios"] else "list"
    Ls = sorted({s["max_length"] for s in doc["scenarios"]})
    Bs = sorted({s["batch_size"] for s in doc["scenarios"]})
    L0, B0 = pick(Ls, 512), pick(Bs, 256)

    fig, axes = plt.subplots(2, 2, figsize=(12, 9))
    m = doc["machine"]
    fig.suptitle(f"fastmask {m['fastmask']} benchmark — {m['cpu']}, {m['usable_cpus']} CPUs, "
                 f"Python {m['python']}, numpy {m['numpy']} ({doc['created'][:10]}); "
                 "steady-state medians", fontsize=11)

    for ax, (fixed_key, fixed_val, x_key, xlabel, title) in zip(
            (axes[0][0], axes[0][1]),
            (("max_length", L0, "batch_size", "batch size (sequences)",
              f"throughput vs batch size (max length {L0})"),
             ("batch_size", B0, "max_length", "max sequence length (tokens)",
              f"throughput vs sequence length (batch {B0})"))):
        data = series(masking, inputs, fixed_key, fixed_val, x_key)
        for name in order:
            pts = data.get(name)
            if not pts:
                continue
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o",
                    label=SHORT.get(name, name), color=colors.get(name),
                    linestyle="--" if name.endswith("floor") else "-",
                    linewidth=2.5 if name == "fastmask" else 1.5)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("Mtokens/s (higher is better)")
        ax.set_title(f"{title}, {masking} masking, {inputs} in", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        if data:
            ax.legend(fontsize=8)

    ax = axes[1][0]
    for e in doc["scaling"]["tokens"]:
        pts = e["points"]
        name = e["peer"]
        x = [p[0] for p in pts]
        ax.plot(x, [p[1] for p in pts], marker="o", linestyle="none",
                color=colors.get(name), label=SHORT.get(name, name))
        if "ns_per_token" in e:
            xs = np.geomspace(min(x), max(x), 50)
            ys = e["intercept_us"] / 1e3 + e["ns_per_token"] * 1e-6 * xs
            ok = ys > 0  # a negative intercept cannot be drawn on a log scale
            ax.plot(xs[ok], ys[ok], color=colors.get(name), alpha=0.6, linewidth=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("real tokens per batch")
    ax.set_ylabel("ms per batch")
    ax.set_title("time against tokens (lines: linear fit a + b x tokens)", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    if doc["scaling"]["tokens"]:
        ax.legend(fontsize=8)

    ax = axes[1][1]
    th = doc["scaling"]["threads"]
    if th:
        for sid in dict.fromkeys(r["scenario"] for r in th):
            pts = sorted((r["threads"], r["speedup"]) for r in th
                         if r["scenario"] == sid and r.get("speedup"))
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=sid)
        top = max(r["threads"] for r in th)
        ax.plot([1, top], [1, top], color="#999999", linestyle=":", label="ideal")
        ax.set_xticks(sorted({r["threads"] for r in th}))
        ax.set_xlabel("threads (Masker(num_threads=N))")
        ax.set_ylabel("speedup over 1 thread")
        ax.set_title("thread scaling, largest batches", fontsize=10)
        ax.legend(fontsize=8)
        ax.grid(True, alpha=0.3)
    else:
        ax.axis("off")
        ax.text(0.5, 0.5, "no thread-scaling data\n(runs with batches >= 64 and "
                "more than one CPU)", ha="center", va="center")
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


