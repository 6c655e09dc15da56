"""The results document on disk: saving, loading and checking its layout."""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List

from .common import SCHEMA, BenchError


def save_json(doc: Dict[str, Any], path: str) -> None:
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def load_json(path: str) -> Dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except OSError as e:
        raise BenchError(f"cannot read results file {path!r}: {e.strerror or e}") from None
    except json.JSONDecodeError as e:
        raise BenchError(f"{path} is not JSON: {e.msg} (line {e.lineno})") from None
    problems = validate_results(doc)
    if problems:
        raise BenchError(f"{path} is not a fastmask benchmark result: {problems[0]}")
    return doc


_RESULT_KEYS: Dict[str, type] = {"scenario": str, "peer": str, "mode": str, "median_ms": float,
                                   "min_ms": float, "q1_ms": float, "q3_ms": float, "calls": int}
_SCENARIO_KEYS: Dict[str, type] = {"id": str, "batch_size": int, "max_length": int, "masking": str,
                                   "inputs": str, "tokens": float, "padded_width": int}


def validate_results(doc: Any) -> List[str]:
    """Problems found in a results document (an empty list when it is well-formed)."""
    problems: List[str] = []
    if not isinstance(doc, dict):
        return ["the document is not a JSON object"]
    if doc.get("schema") != SCHEMA:
        problems.append(f"schema is {doc.get('schema')!r}, expected {SCHEMA!r}")
    for key, kind in (("created", str), ("machine", dict), ("settings", dict),
                     ("peers", list), ("scenarios", list), ("results", list),
                     ("skipped", list), ("scaling", dict), ("notes", list), ("data", dict)):
        if not isinstance(doc.get(key), kind):
            problems.append(f"{key!r} is missing or not a {kind.__name__}")
    if problems:
        return problems
    for key in ("cpu", "logical_cpus", "python", "numpy", "fastmask"):
        if key not in doc["machine"]:
            problems.append(f"machine.{key} is missing")
    ids = set()
    for i, s in enumerate(doc["scenarios"]):
        for key, typ in _SCENARIO_KEYS.items():
            v = s.get(key) if isinstance(s, dict) else None
            if not isinstance(v, (int, float) if typ is float else typ) or isinstance(v, bool):
                problems.append(f"scenarios[{i}].{key} is missing or not a {typ.__name__}")
        if isinstance(s, dict):
            ids.add(s.get("id"))
    for i, r in enumerate(doc["results"]):
        if not isinstance(r, dict):
            problems.append(f"results[{i}] is not an object")
            continue
        for key, typ in _RESULT_KEYS.items():
            v = r.get(key)
            if not isinstance(v, (int, float) if typ is float else typ) or isinstance(v, bool):
                problems.append(f"results[{i}].{key} is missing or not a {typ.__name__}")
        if r.get("scenario") not in ids:
            problems.append(f"results[{i}] refers to an unknown scenario {r.get('scenario')!r}")
        if r.get("mode") not in ("steady", "fresh"):
            problems.append(f"results[{i}].mode must be 'steady' or 'fresh'")
    for key in ("tokens", "threads"):
        if not isinstance(doc["scaling"].get(key), list):
            problems.append(f"scaling.{key} is missing or not a list")
    for key in ("floors", "loader"):  # added after the first layout: optional
        if key in doc and not isinstance(doc[key], list):
            problems.append(f"{key!r} is not a list")
    for i, r in enumerate(doc.get("loader") or []):
        if not isinstance(r, dict) or not isinstance(r.get("workers"), int) or \
                not isinstance(r.get("peer"), str):
            problems.append(f"loader[{i}] needs a 'peer' name and a 'workers' count")
    return problems


