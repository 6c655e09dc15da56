"""Where a batch's stream keys come from when the examples do not carry them.

* :class:`EpochCell`: the epoch set with ``MLMCollator.set_epoch``, kept in shared memory so
  that every copy of the collator reads it, ``DataLoader`` workers included;
* :class:`FallbackStreams`: the numbering of examples without sample ids. Each collating
  process (the main process or one worker) counts the examples it sees; the sample id, seed and
  slot are laid out so that the streams of different processes, ranks and worker starts never
  overlap (the layout is documented on ``MLMCollator``, "Examples without sample ids").
"""

from __future__ import annotations

import os
import threading
from typing import Any, Callable, Optional, Tuple

import numpy as np
import torch

__all__ = ["EpochCell", "FallbackStreams", "MAX_RANK", "detect_rank", "torch_seed"]

MAX_RANK = 1 << 16
_FALLBACK_BASE = 1 << 47  # fallback sample ids live in [2**47, 2**48)
_SLOT_SHIFT = 39
_MAX_SLOTS = 1 << (47 - _SLOT_SHIFT)  # 256: the main process and up to 255 workers
_COUNTER_LIMIT = 1 << _SLOT_SHIFT
_NONCE_MASK = (1 << 48) - 1


class EpochCell:
    """An int64 in shared memory: written by the main process, read by every worker.

    The value lives in a shared-memory torch storage. Forked workers inherit the mapping; when
    workers are spawned, torch's multiprocessing pickler sends a handle to the same memory. An
    ordinary ``pickle``/``copy.deepcopy`` gives an independent copy.
    """

    __slots__ = ("tensor", "_view")

    def __init__(self, value: int = 0):
        self.tensor = _shared(torch.full((1,), value, dtype=torch.int64))
        self._view = self.tensor.numpy()

    def get(self) -> int:
        return int(self._view[0])

    def set(self, value: int) -> None:
        self._view[0] = value

    def __getstate__(self):
        return {"tensor": self.tensor}

    def __setstate__(self, state):
        # a cell sent to a spawned worker arrives shared; an ordinary copy becomes a new cell
        self.tensor = _shared(state["tensor"])
        self._view = self.tensor.numpy()


def _shared(t: torch.Tensor) -> torch.Tensor:
    if not t.is_shared():
        try:
            t.share_memory_()
        except (RuntimeError, OSError):  # pragma: no cover - no usable shared memory
            pass
    return t


def detect_rank() -> int:
    """This process's rank: torch.distributed when initialised, else $RANK, else 0."""
    try:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            return int(dist.get_rank())
    except (ImportError, RuntimeError, ValueError):  # pragma: no cover - exotic builds
        pass
    env = os.environ.get("RANK")
    if env is not None:
        try:
            return int(env)
        except ValueError:
            pass
    return 0


class _Stream:
    """Fallback numbering of one collating process (the main process or one worker)."""

    __slots__ = ("pid", "masker", "slot", "next", "lock")

    def __init__(self, pid: int, masker: Any, slot: int):
        self.pid = pid
        self.masker = masker
        self.slot = slot
        self.next = 0
        self.lock = threading.Lock()

    def take(self, n: int) -> np.ndarray:
        with self.lock:
            start = self.next
            if start + n > _COUNTER_LIMIT:
                raise RuntimeError(
                    "this process has collated 2**39 examples without sample ids; give the "
                    "examples sample ids (IndexedDataset) to go on")
            self.next = start + n
        base = _FALLBACK_BASE | (self.slot << _SLOT_SHIFT)
        return np.arange(base + start, base + start + n, dtype=np.uint64)


class FallbackStreams:
    """The sample ids (and the masker keyed by the right seed) for examples without sample ids.

    One stream per process, made on the first batch a process collates: a worker started by
    fork or spawn starts its own. Copies (pickling, ``deepcopy``) start afresh.

    Args:
        seed: the collator's seed.
        rank: the distributed rank, or ``None`` to detect it when a stream starts.
    """

    def __init__(self, seed: int, rank: Optional[int]):
        self.seed = seed
        self.rank = rank
        self._stream: Optional[_Stream] = None
        self._lock = threading.Lock()

    def take(self, n: int, masker: Any, rekey: Callable[[int], Any]) -> Tuple[Any, np.ndarray]:
        """``n`` fresh sample ids of this process and the masker to use with them.

        ``masker`` is the collator's own (seed ``seed``); ``rekey(seed)`` builds one with another
        seed, called once per process when the rank or the worker nonce changes the seed.
        """
        pid = os.getpid()
        st = self._stream
        if st is None or st.pid != pid:
            with self._lock:
                st = self._stream
                if st is None or st.pid != pid:
                    st = self._stream = self._start(pid, masker, rekey)
        return st.masker, st.take(n)

    def _start(self, pid: int, masker: Any, rekey: Callable[[int], Any]) -> _Stream:
        info = torch.utils.data.get_worker_info()
        if info is None:
            slot, nonce = 0, 0
        else:
            slot = info.id + 1
            if slot >= _MAX_SLOTS:
                raise RuntimeError(f"examples without sample ids support at most {_MAX_SLOTS - 1}"
                                   f" DataLoader workers, this is worker {info.id}; give the "
                                   "examples sample ids (IndexedDataset)")
            nonce = (info.seed - info.id) & _NONCE_MASK
        rank = self.rank if self.rank is not None else detect_rank()
        if not 0 <= rank < MAX_RANK:
            raise RuntimeError(f"rank {rank} is not below {MAX_RANK}: give the examples sample "
                               "ids (IndexedDataset)")
        key = self.seed ^ (rank << 48) ^ nonce
        return _Stream(pid, masker if key == self.seed else rekey(key), slot)

    def __getstate__(self):
        return {"seed": self.seed, "rank": self.rank}

    def __setstate__(self, state):
        type(self).__init__(self, state["seed"], state["rank"])


def torch_seed() -> int:
    """A 64-bit seed drawn from torch's default generator.

    So ``torch.manual_seed(s)`` / ``transformers.set_seed(s)`` before a collator is built fix
    its seed, as they fix the draws of Hugging Face's collator; an unseeded process gets a fresh
    one (torch seeds its default generator from the OS at start-up).
    """
    hi, lo = torch.randint(0, 1 << 32, (2,), dtype=torch.int64).tolist()
    return (hi << 32) | lo
