"""The text report of a results document."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from .common import INPUT_DESCRIPTIONS
from .machine import machine_line
from .peers import SHORT


def _by_size(x: float, steps: Sequence[Tuple[float, str]], smallest: str) -> str:
    """``x`` in the format of the first step whose bound it reaches."""
    for bound, fmt in steps:
        if x >= bound:
            return fmt.format(x)
    return smallest.format(x)


def _fmt_ms(ms: Optional[float]) -> str:
    if ms is None:
        return "—"
    return _by_size(ms, ((1000, "{:,.0f}"), (100, "{:.0f}"), (10, "{:.1f}"), (1, "{:.2f}")),
                    "{:.3f}")


def _fmt_ratio(x: Optional[float]) -> str:
    if x is None:
        return ""
    return _by_size(x, ((100, "{:,.0f}x"), (10, "{:.0f}x"), (1, "{:.1f}x")), "{:.2f}x")


def _fmt_tokens(n: float) -> str:
    if n >= 1e6:
        return f"{n / 1e6:.2f}M"
    if n >= 1e3:
        return f"{n / 1e3:.1f}k"
    return f"{n:.0f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> List[str]:
    widths = [max(len(h), *(len(r[k]) for r in rows)) if rows else len(h)
              for k, h in enumerate(header)]

    def line(cells):
        out = []
        for k, c in enumerate(cells):
            out.append(c.ljust(widths[k]) if align[k] == "l" else c.rjust(widths[k]))
        return "  " + "  ".join(out).rstrip()

    return [line(header), "  " + "  ".join("-" * w for w in widths)] + [line(r) for r in rows]


def _label(doc: Dict[str, Any], name: str) -> str:
    for p in doc["peers"]:
        if p["name"] == name:
            return p["label"]
    return name



def headline_table(doc: Dict[str, Any], scenario_id: Optional[str] = None) -> List[str]:
    """Rows of the detailed table for one scenario: every peer, steady and fresh."""
    sid = scenario_id or doc.get("headline")
    sc = next((s for s in doc["scenarios"] if s["id"] == sid), None)
    if sc is None:
        return []
    steady = {r["peer"]: r for r in doc["results"] if r["scenario"] == sid and
              r["mode"] == "steady"}
    fresh = {r["peer"]: r for r in doc["results"] if r["scenario"] == sid and
             r["mode"] == "fresh"}
    order = [p["name"] for p in doc["peers"]]
    with_fresh = bool(fresh)
    rows = []
    for name in order:
        r = steady.get(name)
        if r is None:
            continue
        f = fresh.get(name)
        ratio = r.get("vs_fastmask")
        if name == "fastmask":
            rel = "1.00"
        elif ratio is None:
            rel = ""
        elif ratio >= 1:
            rel = f"{_fmt_ratio(ratio)} slower"
        else:
            rel = f"{_fmt_ratio(ratio)} (fastmask = {_fmt_ratio(1 / ratio)})"
        row = [_label(doc, name), _fmt_ms(r["median_ms"]),
               f"{r['mtok_per_s']:.1f}" if r.get("mtok_per_s") else "—"]
        if with_fresh:
            row += [_fmt_ms(f["median_ms"]) if f else "—",
                    _fmt_ms(f.get("later_calls_median_ms")) if f else "—"]
        row += [f"{r['q1_ms']:.3g}–{r['q3_ms']:.3g}", str(r["calls"]), rel]
        rows.append(row)
    title = (f"{sc['batch_size']} sequences x <={sc['max_length']} tokens "
             f"({_fmt_tokens(sc['tokens'])} tokens per batch), "
             f"{'whole-word' if sc['masking'] == 'words' else 'token'} masking, "
             f"{INPUT_DESCRIPTIONS.get(sc['inputs'], sc['inputs'])} in")
    out = [title]
    header = ["implementation", "ms/batch", "Mtok/s"]
    if with_fresh:
        header += ["fresh 1st", "fresh next"]
    header += ["IQR ms", "calls", "time / fastmask"]
    out += _table(header, rows, "lrr" + ("rr" if with_fresh else "") + "rrl")
    return out


def matrix_table(doc: Dict[str, Any], masking: str) -> List[str]:
    """One line per scenario: fastmask's time and throughput, then each peer's time and its
    ratio to fastmask."""
    scs = [s for s in doc["scenarios"] if s["masking"] == masking]
    if not scs:
        return []
    steady = {(r["scenario"], r["peer"]): r for r in doc["results"] if r["mode"] == "steady"}
    peers = [p["name"] for p in doc["peers"] if p["name"] != "fastmask" and any(
        (s["id"], p["name"]) in steady for s in scs)]
    header = ["B", "L", "inputs", "tokens", "fastmask ms", "Mtok/s"] + [SHORT.get(p, p)
                                                                        for p in peers]
    rows = []
    for s in scs:
        base = steady.get((s["id"], "fastmask"))
        row = [str(s["batch_size"]), str(s["max_length"]), s["inputs"], _fmt_tokens(s["tokens"]),
               _fmt_ms(base["median_ms"]) if base else "—",
               f"{base['mtok_per_s']:.0f}" if base and base.get("mtok_per_s") else "—"]
        for p in peers:
            r = steady.get((s["id"], p))
            if r is None:
                row.append("—")
            else:
                row.append(f"{_fmt_ms(r['median_ms'])} ({_fmt_ratio(r.get('vs_fastmask'))})")
        rows.append(row)
    kind = "whole-word masking" if masking == "words" else "token masking"
    return [f"All scenarios, {kind}: ms per batch (peer time / fastmask time)"] + _table(
        header, rows, "rrlrrr" + "r" * len(peers))


def scaling_lines(doc: Dict[str, Any]) -> List[str]:
    out = []
    tok = [e for e in doc["scaling"]["tokens"] if "ns_per_token" in e]
    if tok:
        out.append("Time against the number of tokens (token masking, list inputs): fit "
                   "ms = a + b x tokens on relative errors; k = exponent of ms ~ tokens^k "
                   "(1 = linear)")
        rows = []
        order = {p["name"]: k for k, p in enumerate(doc["peers"])}
        for e in sorted(tok, key=lambda e: order.get(e["peer"], 99)):
            rows.append([_label(doc, e["peer"]), f"{e['ns_per_token']:.2f}",
                         f"{e['intercept_us']:.0f}", f"{e['r2']:.4f}", f"{e['exponent']:.2f}",
                         f"{e['ns_per_token_min']:.2f}–{e['ns_per_token_max']:.2f}",
                         str(len(e["points"]))])
        out += _table(["implementation", "b ns/token", "a µs", "R²", "k", "ns/token range",
                       "sizes"], rows, "lrrrrrr")
    th = doc["scaling"]["threads"]
    if th:
        counts = sorted({r["threads"] for r in th})
        ids = list(dict.fromkeys(r["scenario"] for r in th))
        rows = []
        for sid in ids:
            row = [sid]
            for t in counts:
                r = next((x for x in th if x["scenario"] == sid and x["threads"] == t), None)
                if r is None:
                    row.append("—")
                elif t == 1:
                    row.append(_fmt_ms(r["median_ms"]))
                else:
                    row.append(f"{_fmt_ms(r['median_ms'])} ({r['speedup']:.2f}x)"
                               if r.get("speedup") else _fmt_ms(r["median_ms"]))
            rows.append(row)
        if out:
            out.append("")
        out.append("Threads: Masker(num_threads=N), ms per batch (speedup over 1 thread)")
        out += _table(["scenario"] + [f"{t} thread{'s' if t > 1 else ''}" for t in counts],
                      rows, "l" + "r" * len(counts))
    return out


def floor_table(doc: Dict[str, Any], scenario_id: Optional[str] = None) -> List[str]:
    """fastmask's time over the floor of each input form at the headline's sizes (or those of
    ``scenario_id``), one row per masking kind and input form."""
    sid = scenario_id or doc.get("headline")
    sc = next((s for s in doc["scenarios"] if s["id"] == sid), None)
    if sc is None:
        return []
    info = {s["id"]: s for s in doc["scenarios"]}
    rows = []
    for r in doc.get("floors", []):
        s = info.get(r["scenario"])
        if s is None or (s["batch_size"], s["max_length"]) != (sc["batch_size"],
                                                                sc["max_length"]):
            continue
        words = r.get("vs_tokens")
        rows.append([s["inputs"], "whole-word" if s["masking"] == "words" else "token",
                     _fmt_ms(r["fastmask_ms"]), _fmt_ms(r.get("pad_floor_ms")),
                     _fmt_ms(r.get("copy_floor_ms")), SHORT.get(r["floor"], r["floor"]),
                     _fmt_ratio(r.get("vs_floor")), _fmt_ratio(r.get("vs_floor_min")),
                     _fmt_ratio(words) if words else ""])
    if not rows:
        return []
    title = (f"fastmask against its floor, {sc['batch_size']} sequences x <={sc['max_length']} "
             "tokens (floor: lists = fastmask.pad reading them; arrays = writing the three "
             "padded outputs)")
    return [title] + _table(["inputs", "masking", "fastmask ms", "pad floor ms", "copy floor ms",
                             "floor", "fastmask / floor", "of minima", "words / tokens"],
                            rows, "llrrrlrrr")


def loader_table(doc: Dict[str, Any]) -> List[str]:
    """The DataLoader scenario: batches per second by collator and worker count."""
    rows_doc = doc.get("loader") or []
    if not rows_doc:
        return []
    workers = sorted({r["workers"] for r in rows_doc})
    rows = []
    for name in dict.fromkeys(r["peer"] for r in rows_doc):
        row = [next(r["label"] for r in rows_doc if r["peer"] == name)]
        for w in workers:
            r = next((x for x in rows_doc if x["peer"] == name and x["workers"] == w), None)
            if r is None or not r.get("batches_per_s"):
                row.append("—")
            elif name == "shm-floor" or not r.get("vs_floor"):
                row.append(f"{r['batches_per_s']:,.0f}")
            else:
                row.append(f"{r['batches_per_s']:,.0f} ({_fmt_ratio(r['vs_floor'])})")
        rows.append(row)
    first = rows_doc[0]
    title = (f"DataLoader, {first['scenario']}: batches/s over epochs of "
             f"{first['batches_per_epoch']} batches (share of the floor's rate)")
    return [title] + _table(["collate_fn"] + [f"{w} workers" for w in workers], rows,
                            "l" + "r" * len(workers))


def timing_line(st: Dict[str, Any]) -> str:
    """How the numbers were taken, in one line."""
    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    line = f"median ms per batch over {plural(st['repeat'], 'call')} or more"
    if st["min_time_s"] > 0:
        line += f" (fast cases: enough to fill {st['min_time_s']:g} s)"
    line += (f", stopping after {st['max_time_s']:g} s once {min(3, st['repeat'])} are done; "
             f"{plural(st['warmup'], 'warm-up call')} first; steady state (outputs of the last "
             f"{st['kept_outputs']} batches alive); dtype {st['dtype']}")
    if st.get("headline_calls"):
        line += f"; the headline scenario gets at least {plural(st['headline_calls'], 'call')}"
    if st.get("fresh") and st["fresh"] != "none":
        line += (f"; fresh = first call (1st) and calls 2-5 (next) in {st['fresh_runs']} new "
                 "processes")
    return line


def format_report(doc: Dict[str, Any], sections: Sequence[str] = ("headline", "matrix",
                                                                    "scaling", "notes")) -> str:
    """The text report of a results document."""
    lines = [f"machine: {machine_line(doc['machine'])}",
             f"data: {doc['data']['description']}",
             "timing: " + timing_line(doc["settings"])]
    for n in doc["data"].get("notes", []):
        lines.append(f"note: {n}")
    share = doc["machine"].get("other_cpu_share")
    load = doc["machine"].get("load_average")
    if share is not None:
        if share > 0.05:
            lines.append(f"warning: other processes used {100 * share:.0f} % of the machine's "
                         "CPU time during the run, so times may be inflated")
    elif load is not None and load > 0.5:
        lines.append(f"warning: the 1-minute load average was {load:.2f} when the run started; "
                     "other processes were using the CPUs, so times may be inflated")
    if "headline" in sections and doc.get("headline"):
        for block in (floor_table(doc), headline_table(doc), loader_table(doc)):
            if block:
                lines.append("")
                lines += block
    if "matrix" in sections:
        for m in ("tokens", "words"):
            ids = {s["id"] for s in doc["scenarios"] if s["masking"] == m}
            if ids and ids != {doc.get("headline")}:  # not just the headline again
                lines.append("")
                lines += matrix_table(doc, m)
    if "scaling" in sections:
        s = scaling_lines(doc)
        if s:
            lines.append("")
            lines += s
    if "notes" in sections:
        missing = [p for p in doc["peers"] if not p["available"]]
        if missing or doc["skipped"]:
            lines.append("")
        for p in missing:
            lines.append(f"skipped {p['label']}: {p['note']}")
        reasons: Dict[Tuple[str, str], List[str]] = {}
        for s in doc["skipped"]:
            reasons.setdefault((s["peer"], s["reason"]), []).append(s["scenario"])
        for (peer, why), scs in reasons.items():
            where = scs[0] if len(scs) == 1 else f"{len(scs)} scenarios"
            lines.append(f"skipped {SHORT.get(peer, peer)} in {where}: {why}")
        lines.append("")
        lines += [f"note: {n}" for n in doc["notes"]]
    return "\n".join(lines)


