"""Type stubs of fastmask/instances.py."""

from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np
import numpy.typing as npt

TASKS: Tuple[str, ...]
LABEL_COLUMNS: Dict[str, Optional[str]]

class Documents:
    values: npt.NDArray[Any]
    sentence_offsets: npt.NDArray[np.int64]
    document_offsets: npt.NDArray[np.int64]
    word_starts: Optional[npt.NDArray[np.uint8]]
    def __init__(self, values: npt.ArrayLike, sentence_offsets: npt.ArrayLike,
                 document_offsets: npt.ArrayLike,
                 word_starts: Optional[npt.ArrayLike] = ...) -> None: ...
    def __len__(self) -> int: ...
    @property
    def num_sentences(self) -> int: ...
    @property
    def num_tokens(self) -> int: ...
    @classmethod
    def from_lists(cls, documents: Sequence[Sequence[Sequence[int]]]) -> "Documents": ...
    @classmethod
    def from_arrow(cls, array: Any, word_starts: Any = ...) -> "Documents": ...
    def drop_empty_sentences(self) -> "Documents": ...

class Instances:
    input_ids: npt.NDArray[Any]
    offsets: npt.NDArray[np.int64]
    token_type_ids: npt.NDArray[np.uint8]
    special_tokens_mask: npt.NDArray[np.uint8]
    label: Optional[npt.NDArray[np.int8]]
    document: npt.NDArray[np.int64]
    task: str
    word_starts: Optional[npt.NDArray[np.uint8]]
    def __init__(self, input_ids: npt.NDArray[Any], offsets: npt.NDArray[np.int64],
                 token_type_ids: npt.NDArray[np.uint8],
                 special_tokens_mask: npt.NDArray[np.uint8],
                 label: Optional[npt.NDArray[np.int8]], document: npt.NDArray[np.int64],
                 task: str, word_starts: Optional[npt.NDArray[np.uint8]] = ...) -> None: ...
    def __len__(self) -> int: ...
    @property
    def label_column(self) -> Optional[str]: ...
    @property
    def num_tokens(self) -> int: ...
    def __getitem__(self, i: int) -> Dict[str, Any]: ...
    def masker_inputs(self) -> Dict[str, npt.NDArray[Any]]: ...
    def to_arrow(self, *, include_document: bool = ...,
                 include_special_tokens_mask: bool = ...) -> Any: ...

def create_instances(documents: Any, *, cls_token_id: int, sep_token_id: int,
                     max_seq_length: int = ..., short_seq_prob: float = ..., task: str = ...,
                     seed: int = ..., variant: int = ..., start: int = ...,
                     stop: Optional[int] = ..., num_proc: int = ...) -> Instances: ...
