"""Getting sample ids and epochs to wherever collation runs.

* :class:`IndexedDataset` wraps a map-style dataset and attaches each example's index as its
  sample id (and, given ``(epoch, index)`` pairs, the epoch);
* :class:`EpochSampler` wraps a sampler and yields ``(epoch, index)`` pairs, so the epoch
  travels with the indices to every worker, persistent ones included;
* :class:`EpochCallback` calls ``set_epoch`` from a Hugging Face ``Trainer`` (duck-typed:
  ``transformers`` is not imported).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from torch.utils.data import Dataset, Sampler

from .. import _config as C
from .._checks import check_int

__all__ = ["IndexedExample", "IndexedDataset", "EpochSampler", "EpochCallback"]


class IndexedExample(Mapping):
    """A read-only mapping: one example with its sample id (and epoch) attached.

    It is deliberately not a ``dict``: Hugging Face's ``Trainer`` (``remove_unused_columns``)
    filters dict examples down to the model's arguments, which would drop the sample id, and
    passes other mappings through unchanged. ``dict(example)`` gives a plain dict.
    """

    __slots__ = ("_data",)

    def __init__(self, data: Dict[str, Any]):
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def keys(self):
        return self._data.keys()

    def items(self):
        return self._data.items()

    def values(self):
        return self._data.values()

    def copy(self) -> Dict[str, Any]:
        return dict(self._data)

    def __repr__(self) -> str:
        return f"IndexedExample({self._data!r})"

    def __getstate__(self):
        return self._data

    def __setstate__(self, state):
        self._data = state


class IndexedDataset(Dataset):
    """Wraps a map-style dataset so that each example carries its sample id.

    ``dataset[i]`` becomes an :class:`IndexedExample` with the fields of the original example
    (a dict; any other example, such as a list of ids or a tensor, becomes ``input_ids``) plus
    ``sample_id_key = offset + i``. Indexed with an ``(epoch, i)`` pair, as yielded by
    :class:`EpochSampler`, it also attaches ``epoch_key = epoch``.

    Args:
        dataset: any map-style dataset (``datasets.Dataset``, a list, a torch ``Dataset``).
        sample_id_key / epoch_key: field names; keep them equal to the collator's.
        offset: added to every index, to keep several datasets' sample ids apart.
        columns: keep only these fields of the original examples (the sample id and epoch are
            always attached). Useful under ``Trainer``, whose column filter lets
            :class:`IndexedExample` through unfiltered.
    """

    def __init__(self, dataset: Any, *, sample_id_key: str = "sample_id", epoch_key: str = "epoch",
                 offset: int = 0, columns: Optional[Sequence[str]] = None):
        self.dataset = dataset
        self.sample_id_key = sample_id_key
        self.epoch_key = epoch_key
        self.offset = check_int("offset", offset, 0, C.MAX_SAMPLE_ID - 1)
        if columns is not None:
            if isinstance(columns, str):
                columns = [columns]
            columns = tuple(columns)
        self.columns = columns

    def __len__(self) -> int:
        return len(self.dataset)

    def _split(self, key: Any) -> Tuple[Optional[int], int]:
        if isinstance(key, tuple):
            if len(key) != 2:
                raise IndexError(f"IndexedDataset takes an index or an (epoch, index) pair, got "
                                 f"{key!r}")
            epoch, index = key
            epoch = check_int("epoch", epoch, 0, C.MAX_EPOCH - 1)
        else:
            epoch, index = None, key
        try:
            index = operator.index(index)
        except TypeError:
            raise TypeError(f"IndexedDataset index must be an integer, got "
                            f"{type(index).__name__}") from None
        if index < 0:
            index += len(self)
            if index < 0:
                raise IndexError(f"index {key!r} is out of range for {len(self)} examples")
        return epoch, index

    def _wrap(self, example: Any, epoch: Optional[int], index: int) -> IndexedExample:
        if isinstance(example, Mapping):
            if self.columns is None:
                data = dict(example)
            else:
                data = {k: example[k] for k in self.columns if k in example}
        else:
            data = {"input_ids": example}
        sid = self.offset + index
        if sid >= C.MAX_SAMPLE_ID:
            raise ValueError(f"sample id {sid} (offset {self.offset} + index {index}) is not "
                             "below 2**48")
        data[self.sample_id_key] = sid
        if epoch is not None:
            data[self.epoch_key] = epoch
        return IndexedExample(data)

    def __getitem__(self, key: Any) -> IndexedExample:
        epoch, index = self._split(key)
        return self._wrap(self.dataset[index], epoch, index)

    def __getitems__(self, keys: Sequence[Any]) -> List[IndexedExample]:
        split = [self._split(k) for k in keys]
        getitems = getattr(self.dataset, "__getitems__", None)
        if getitems is not None:
            examples = getitems([i for _, i in split])
        else:
            examples = [self.dataset[i] for _, i in split]
        return [self._wrap(ex, e, i) for ex, (e, i) in zip(examples, split)]


class EpochSampler(Sampler):
    """Wraps a sampler (or batch sampler) to yield ``(epoch, index)`` pairs.

    With :class:`IndexedDataset` the epoch then travels with each index into every worker,
    persistent workers included, with no shared state. ``set_epoch`` is forwarded to the wrapped
    sampler (e.g. ``DistributedSampler``, whose shuffle depends on it).

    ``set_epoch(epoch, start=n)`` skips the first ``n`` items of that epoch (indices, or batches
    for a batch sampler): resuming mid-epoch then reproduces the rest of the epoch, masks
    included.
    """

    def __init__(self, sampler: Iterable, epoch: int = 0, start: int = 0):
        self.sampler = sampler
        self.epoch = 0
        self.start = 0
        self.set_epoch(epoch, start)

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        self.epoch = check_int("epoch", epoch, 0, C.MAX_EPOCH - 1)
        self.start = check_int("start", start, 0)
        inner = getattr(self.sampler, "set_epoch", None)
        if inner is not None:
            inner(self.epoch)

    def __iter__(self) -> Iterator[Any]:
        e = self.epoch
        for k, item in enumerate(self.sampler):
            if k < self.start:
                continue
            if isinstance(item, list):
                yield [(e, i) for i in item]
            else:
                yield (e, item)

    def __len__(self) -> int:
        return max(0, len(self.sampler) - self.start)  # type: ignore[arg-type]


class EpochCallback:
    """A Hugging Face ``TrainerCallback`` that calls ``set_epoch`` on its targets.

    ``Trainer(..., callbacks=[EpochCallback(collator)])`` sets the collator's epoch (and that of
    any other target with ``set_epoch``, e.g. an :class:`EpochSampler`) at the start of training
    and of every epoch, from ``state.epoch``, so a resumed run uses the right epoch. It is
    duck-typed: ``transformers`` is not imported.
    """

    def __init__(self, *targets: Any):
        if not targets:
            raise TypeError("EpochCallback needs at least one target with set_epoch()")
        for t in targets:
            if not callable(getattr(t, "set_epoch", None)):
                raise TypeError(f"{type(t).__name__} has no set_epoch()")
        self.targets = targets

    def _apply(self, state: Any) -> None:
        epoch = int(math.floor(float(getattr(state, "epoch", 0) or 0) + 1e-6))
        for t in self.targets:
            t.set_epoch(epoch)

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._apply(state)

    def on_epoch_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._apply(state)

    def __getattr__(self, name: str):
        if name.startswith("on_"):
            return _no_event
        raise AttributeError(name)


def _no_event(*args: Any, **kwargs: Any) -> None:
    return None
