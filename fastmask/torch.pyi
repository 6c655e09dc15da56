"""Type stubs of fastmask.torch (the PyTorch collate_fn and its helpers)."""

from collections.abc import Mapping
from typing import Any, Dict, Iterable, Iterator, List, Literal, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from ._api import Masker

__all__ = [
    "MLMCollator",
    "Batch",
    "IndexedDataset",
    "IndexedExample",
    "EpochSampler",
    "EpochCallback",
]

Example = Union[Mapping[str, Any], Sequence[int], torch.Tensor, np.ndarray]

class Batch(Dict[str, Any]):
    def to(self, *args: Any, **kwargs: Any) -> Batch: ...

class MLMCollator:
    _masker_class: type[Masker]
    mlm: bool
    return_tensors: str
    sample_id_key: str
    epoch_key: str
    dupe_factor: Optional[int]
    flatten: bool
    position_ids_start: int
    rank: Optional[int]
    seed: Optional[int]
    vocab_size: int
    mask_token_id: Optional[int]
    pad_token_id: int
    ignore_index: int
    whole_word: bool
    def __init__(
        self,
        vocab_size: int,
        mask_token_id: Optional[int] = ...,
        *,
        mlm: bool = ...,
        return_tensors: Literal["pt", "np"] = ...,
        sample_id_key: str = ...,
        epoch_key: str = ...,
        dupe_factor: Optional[int] = ...,
        flatten: bool = ...,
        position_ids_start: int = ...,
        rank: Optional[int] = ...,
        pad_token_id: int = ...,
        special_ids: Sequence[int] = ...,
        mlm_probability: float = ...,
        mask_replace_prob: float = ...,
        random_replace_prob: float = ...,
        selection: Literal["bernoulli", "exact", "span"] = ...,
        max_predictions: Optional[int] = ...,
        random_ids: Literal["non_special", "all"] = ...,
        ignore_index: int = ...,
        seed: Optional[int] = ...,
        whole_word: bool = ...,
        word_table: Any = ...,
        word_convention: str = ...,
        action: Literal["token", "unit"] = ...,
        span_lengths: Union[str, Sequence[float]] = ...,
        padding: Literal["longest", "max_length"] = ...,
        max_length: Optional[int] = ...,
        truncation: bool = ...,
        pad_to_multiple_of: Optional[int] = ...,
        padding_side: Literal["right", "left"] = ...,
        dtype: Any = ...,
        num_threads: int = ...,
    ) -> None: ...
    @classmethod
    def from_tokenizer(cls, tokenizer: Any, **options: Any) -> MLMCollator: ...
    @property
    def epoch(self) -> int: ...
    def set_epoch(self, epoch: int) -> None: ...
    def __call__(
        self,
        examples: Union[Sequence[Example], Mapping[str, Sequence[Any]]],
        return_tensors: Optional[Literal["pt", "np"]] = ...,
    ) -> Dict[str, Any]: ...

class IndexedExample(Mapping[str, Any]):
    def __init__(self, data: Dict[str, Any]) -> None: ...
    def __getitem__(self, key: str) -> Any: ...
    def __iter__(self) -> Iterator[str]: ...
    def __len__(self) -> int: ...
    def copy(self) -> Dict[str, Any]: ...

class IndexedDataset(Dataset[IndexedExample]):
    dataset: Any
    sample_id_key: str
    epoch_key: str
    offset: int
    columns: Optional[Tuple[str, ...]]
    def __init__(
        self,
        dataset: Any,
        *,
        sample_id_key: str = ...,
        epoch_key: str = ...,
        offset: int = ...,
        columns: Optional[Sequence[str]] = ...,
    ) -> None: ...
    def __len__(self) -> int: ...
    def __getitem__(self, key: Union[int, Tuple[int, int]]) -> IndexedExample: ...
    def __getitems__(self, keys: Sequence[Union[int, Tuple[int, int]]]) -> List[IndexedExample]: ...

class EpochSampler(Sampler[Any]):
    sampler: Iterable[Any]
    epoch: int
    start: int
    def __init__(self, sampler: Iterable[Any], epoch: int = ..., start: int = ...) -> None: ...
    def set_epoch(self, epoch: int, start: int = ...) -> None: ...
    def __iter__(self) -> Iterator[Any]: ...
    def __len__(self) -> int: ...

class EpochCallback:
    targets: Tuple[Any, ...]
    def __init__(self, *targets: Any) -> None: ...
    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None: ...
    def on_epoch_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None: ...
    def __getattr__(self, name: str) -> Any: ...
