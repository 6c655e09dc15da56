"""The machine a benchmark runs on: CPU, cores, versions, and how busy other processes kept it."""

from __future__ import annotations

import importlib
import importlib.util
import os
import platform
import subprocess
import sys
from typing import Any, Dict, Optional, Tuple

import numpy as np


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    if sys.platform == "darwin":
        try:
            out = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"],
                                 capture_output=True, text=True, timeout=5)
            if out.returncode == 0 and out.stdout.strip():
                return out.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _version(module: str) -> Optional[str]:
    if importlib.util.find_spec(module) is None:
        return None
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        try:
            return str(getattr(importlib.import_module(module), "__version__", "unknown"))
        except Exception:
            return None


def machine_info() -> Dict[str, Any]:
    """The facts a reader needs to compare benchmark numbers across machines."""
    import fastmask

    info = {
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count() or 1,
        "usable_cpus": _usable_cpus(),
        "machine": platform.machine(),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "numpy": np.__version__,
        "fastmask": getattr(fastmask, "__version__", "unknown"),
    }
    for module in ("torch", "transformers", "tokenizers"):
        info[module] = _version(module)
    try:
        info["load_average"] = round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        info["load_average"] = None
    return info


def _cpu_snapshot() -> Optional[Tuple[float, float, float]]:
    """(CPU seconds the whole machine spent busy, wall-clock CPU seconds available, CPU seconds
    of this process and its finished children), or None where /proc/stat is missing."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    busy = sum(fields[:8]) - idle
    t = os.times()
    own = t.user + t.system + t.children_user + t.children_system
    return busy / hz, sum(fields[:8]) / hz, own


def other_cpu_share(start, end) -> Optional[float]:
    """Share of the machine's CPU time used by other processes between two snapshots."""
    if start is None or end is None:
        return None
    busy = end[0] - start[0]
    total = end[1] - start[1]
    own = end[2] - start[2]
    if total <= 0:
        return None
    return max(0.0, min(1.0, (busy - own) / total))


def machine_line(info: Dict[str, Any]) -> str:
    """One line: CPU, cores, OS, Python and library versions."""
    parts = [f"{info['cpu']} ({info['logical_cpus']} logical CPUs, {info['usable_cpus']} usable)",
             f"{info['system']} {info['machine']}",
             f"{info['python_implementation']} {info['python']}",
             f"numpy {info['numpy']}", f"fastmask {info['fastmask']}"]
    for module in ("torch", "transformers"):
        if info.get(module):
            parts.append(f"{module} {info[module]}")
    return " · ".join(parts)


def default_threads() -> Tuple[int, ...]:
    """1, 2, 4, ... up to the usable CPUs (always including that number)."""
    n = _usable_cpus()
    out = []
    k = 1
    while k < n:
        out.append(k)
        k *= 2
    out.append(n)
    return tuple(out)
