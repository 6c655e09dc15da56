"""Type stubs of fastmask/arrow.py."""

from typing import Any, Mapping, Optional, Sequence, Tuple, TypeVar, Union

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from ._api import Masker

LAYOUTS: Tuple[str, ...]
SPARSE_COLUMNS: Tuple[str, ...]

_Batch = TypeVar("_Batch", pa.Table, pa.RecordBatch)
SampleIds = Union[None, int, str, Sequence[int], npt.NDArray[np.integer], pa.Array,
                  pa.ChunkedArray]

def list_column(col: Any, name: str = ..., *, nulls_as: Optional[int] = ...,
                flag: bool = ...) -> Tuple[npt.NDArray[Any], npt.NDArray[np.int64]]: ...
def nested_lists(col: Any, name: str, levels: int = ...) -> Tuple[npt.NDArray[Any], ...]: ...
def word_starts_from_word_ids(values: npt.ArrayLike,
                              offsets: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]: ...
def list_array(values: npt.NDArray[Any], offsets: npt.NDArray[np.integer[Any]],
               large: bool = ...) -> pa.Array: ...
_list_array = list_array
def mask_batch(batch: Union[pa.Table, pa.RecordBatch, Mapping[str, Any]],
               sample_ids: SampleIds = ..., *, masker: Masker, epoch: int = ...,
               column: str = ..., labels_column: str = ...,
               special_tokens_mask_column: Optional[str] = ...,
               token_type_ids_column: Optional[str] = ...,
               word_ids_column: Optional[str] = ..., word_starts_column: Optional[str] = ...,
               layout: str = ..., max_predictions_per_seq: Optional[int] = ...,
               keep_columns: Optional[bool] = ...) -> Any: ...
