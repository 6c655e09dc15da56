"""The DataLoader scenario: batches per second of a ``torch.utils.data.DataLoader`` over dict
examples, with 0 and 2 worker processes, for fastmask's collator, Hugging Face's, and a floor.

The floor (:class:`SharedFloorCollate`) only allocates the three ``(B, W)`` int64 outputs, in
shared memory when it runs in a worker (as torch's own ``default_collate`` does), and writes
nothing: what is left of its time is the DataLoader's own work (fetching the examples, moving
the batch from the worker to the main process). A collator close to it in batches/s is limited
by the transport, not by its own work.

Every collator gets the same examples: ``input_ids`` and ``special_tokens_mask`` lists (Hugging
Face's fast path), cycled from the scenario's batches in order, so loader batch ``j`` is the
scenario's batch ``j % n``; fastmask's and HF's first batch is checked before timing.
"""

from __future__ import annotations

import importlib.util
import itertools
import math
import time
import warnings
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .data import ScenarioData
from .peers import Context, _hf_missing, hf_tokenizer
from .timing import Timing
from .verify import WrongOutput, check_masked

#: The collators of the DataLoader scenario, in report order, with their labels.
LOADER_PEERS = {
    "fastmask": "fastmask.torch.MLMCollator",
    "hf": "HF DataCollatorForLanguageModeling",
    "shm-floor": "floor: allocate the 3 outputs in shared memory (no work)",
}
LOADER_WORKERS = (0, 2)
LOADER_BATCHES = 8  # batches per epoch


def loader_missing(name: str) -> Optional[str]:
    """None when the collator ``name`` can run here, else how to install what it needs."""
    if importlib.util.find_spec("torch") is None:
        return "torch not installed: pip install torch (or pip install 'fastmask[torch]')"
    if name == "hf":
        return _hf_missing()
    return None


def _shared_empty(shape: Tuple[int, ...], dtype) -> Any:
    import torch

    if torch.utils.data.get_worker_info() is None:
        return torch.empty(shape, dtype=dtype)
    numel = math.prod(shape)
    try:  # straight into shared memory, as default_collate does in a worker
        proto = torch.empty(0, dtype=dtype)
        storage = proto._typed_storage()._new_shared(numel, device=proto.device)
        return proto.new(storage).resize_(shape)
    except (AttributeError, RuntimeError, TypeError):  # another torch: allocate, then move
        return torch.empty(shape, dtype=dtype).share_memory_()


class SharedFloorCollate:
    """A collate function that only allocates its outputs: ``input_ids``, ``labels`` and
    ``attention_mask``, int64, ``(len(examples), longest)``, uninitialised."""

    def __call__(self, examples: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
        import torch

        shape = (len(examples), max((len(e["input_ids"]) for e in examples), default=0))
        return {k: _shared_empty(shape, torch.int64)
                for k in ("input_ids", "labels", "attention_mask")}


def make_collate(name: str, data: ScenarioData, ctx: Context) -> Callable[[List[Dict]], Any]:
    """The collate function ``name`` (one of :data:`LOADER_PEERS`) for the scenario's data."""
    src = data.source
    if name == "fastmask":
        from ..torch import MLMCollator

        return MLMCollator(src.vocab_size, src.mask_id, pad_token_id=src.pad_id,
                           special_ids=src.special_ids, seed=ctx.seed, dtype=ctx.dtype)
    if name == "hf":
        from transformers import DataCollatorForLanguageModeling

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return DataCollatorForLanguageModeling(hf_tokenizer(src, ctx), mlm_probability=0.15,
                                                   seed=ctx.seed, return_tensors="pt")
    if name == "shm-floor":
        return SharedFloorCollate()
    raise ValueError(f"unknown DataLoader collator {name!r}; expected one of "
                     f"{', '.join(LOADER_PEERS)}")


def loader_examples(data: ScenarioData, batches: int) -> List[Dict[str, Any]]:
    """``batches`` batches of dict examples, cycled from the scenario's batches in order."""
    per = [data.hf_examples(i) for i in range(len(data))]
    return [ex for batch in itertools.islice(itertools.cycle(per), batches) for ex in batch]


def check_loader_batch(name: str, out: Any, data: ScenarioData) -> None:
    """The first loader batch of collator ``name`` is right (the floor: its shapes)."""
    raw = data.raw[0]
    if name == "shm-floor":
        want = (raw.lengths.shape[0], int(raw.lengths.max()))
        for k in ("input_ids", "labels", "attention_mask"):
            if tuple(out[k].shape) != want:
                raise WrongOutput(f"{k} has shape {tuple(out[k].shape)}, expected {want}")
        return
    src = data.source
    check_masked(out, raw, vocab_size=src.vocab_size, mask_id=src.mask_id, pad_id=src.pad_id,
                 special_ids=src.special_ids, random_avoids_specials=name != "hf")


def time_loader(collate: Callable, examples: List[Dict[str, Any]], batch_size: int,
                workers: int, timing: Timing,
                check: Optional[Callable[[Any], None]] = None) -> Tuple[List[float], int]:
    """Seconds per epoch of a DataLoader (persistent workers when ``workers > 0``), after one
    untimed epoch; ``check`` sees the first batch. Returns ``(times, batches per epoch)``: at
    least 2 epochs (1 when the untimed one took over twice ``timing.max_time``), up to
    ``min(timing.repeat, 5)``, fewer once ``timing.max_time`` is spent."""
    import torch

    kw: Dict[str, Any] = {"num_workers": workers}
    if workers:
        kw.update(persistent_workers=True, prefetch_factor=2)
    # a list is a valid map-style dataset at run time; torch's stubs ask for a Dataset
    loader: Any = torch.utils.data.DataLoader(examples,  # type: ignore[arg-type]
                                              batch_size=batch_size, shuffle=False,
                                              collate_fn=collate, **kw)
    n = 0
    t0 = time.perf_counter()
    for batch in loader:  # starts the workers, warms up
        if n == 0 and check is not None:
            check(batch)
        n += 1
    # a collator whose warm-up epoch alone outlasts max_time gets one timed epoch, not two
    least = 1 if time.perf_counter() - t0 > max(timing.max_time, 1e-9) * 2 else 2
    times: List[float] = []
    total = 0.0
    want = max(least, min(timing.repeat, 5))
    try:
        while len(times) < want and (len(times) < least or total < timing.max_time):
            t0 = time.perf_counter()
            for _ in loader:
                pass
            times.append(time.perf_counter() - t0)
            total += times[-1]
    finally:
        del loader  # persistent workers stop with their loader
    return times, n


def run_loader(data: ScenarioData, ctx: Context, timing: Timing,
               workers: Sequence[int] = LOADER_WORKERS, names: Sequence[str] = tuple(LOADER_PEERS),
               batches: int = LOADER_BATCHES,
               log: Callable[[str], None] = lambda s: None) -> Tuple[List[Dict], List[Dict]]:
    """The DataLoader scenario on ``data``: ``(rows, skipped)`` for the results document."""
    sc = data.scenario
    examples = loader_examples(data, batches)
    rows: List[Dict[str, Any]] = []
    skipped: List[Dict[str, Any]] = []
    for name in names:
        why = loader_missing(name)
        if why:
            skipped.append({"scenario": sc.id, "peer": f"loader:{name}", "reason": why})
            continue
        def check(out: Any, name: str = name) -> None:
            check_loader_batch(name, out, data)

        for w in workers:
            try:
                collate = make_collate(name, data, ctx)
                times, n = time_loader(collate, examples, sc.batch_size, w, timing, check=check)
            except Exception as e:  # one collator failing must not sink the report
                reason = f"failed: {type(e).__name__}: {e}"
                skipped.append({"scenario": sc.id, "peer": f"loader:{name}", "reason": reason})
                log(f"DataLoader {name} with {w} workers {reason}")
                break
            per_epoch = sorted(times)[len(times) // 2]
            rows.append({"scenario": sc.id, "peer": name, "label": LOADER_PEERS[name],
                         "workers": w, "batches_per_epoch": n, "epochs": len(times),
                         "batches_per_s": n / per_epoch if per_epoch > 0 else None})
    floor = {r["workers"]: r["batches_per_s"] for r in rows if r["peer"] == "shm-floor"}
    for r in rows:
        f = floor.get(r["workers"])
        r["vs_floor"] = r["batches_per_s"] / f if f and r["batches_per_s"] else None
    return rows, skipped
