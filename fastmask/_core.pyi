"""Type stubs of the compiled bindings (fastmask/_core.pyx).

Buffers in, status out: every function takes NumPy arrays of the stated dtypes (C-contiguous),
writes into the ones it is given, and either returns a status tuple (status, row, pos) from the
C core (csrc/fastmask.h) or raises ``ValueError``/``TypeError`` for bad Python input.
``IdArray`` stands for a 2-D int32 or int64 array (both are accepted where it appears).
"""

from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

from ._config import KernelConfig

IdArray = Union[npt.NDArray[np.int32], npt.NDArray[np.int64]]
FillArray = Union[npt.NDArray[np.uint8], npt.NDArray[np.int32], npt.NDArray[np.int64]]
Status = Tuple[int, int, int]  # (FM_* status, row, position); -1 where it does not apply
Row = Union[List[Any], Tuple[Any, ...], npt.NDArray[np.integer[Any]]]

# status codes of the C core (FM_OK, FM_ERR_* of csrc/fastmask.h) and their messages
OK: int
ERR_ARG: int
ERR_ID_RANGE: int
ERR_LENGTH: int
ERR_RNG: int
ERR_WORKSPACE: int
ERR_SPAN: int
STATUS: Dict[int, str]

# the `kind` argument of word_starts_ragged
STARTS_FROM_WORD_IDS: int
STARTS_FROM_SPANS: int
STARTS_FROM_TABLE: int

class CoreConfig:
    """An ``fm_config`` built from a KernelConfig, owning its tables."""

    def __init__(self, kc: KernelConfig) -> None: ...

def workspace_bytes(width: int) -> int: ...
def simd_path() -> str: ...

# ---- reading Python rows ---------------------------------------------------------------------
def normalize_rows(seqs: Sequence[Any], name: str) -> Tuple[List[Row], npt.NDArray[np.int64]]: ...
def fill_rows(rows: List[Row], out: FillArray, left: bool, lo: int, hi: int, pad: int,
              name: str, first: int = ...) -> npt.NDArray[np.int64]: ...

# ---- padding and attention (csrc/pad.c) ------------------------------------------------------
def pad_ragged(values: Union[npt.NDArray[np.int32], npt.NDArray[np.int64]],
               offsets: npt.NDArray[np.int64], out: IdArray, left: bool, truncate: bool,
               pad_id: int, vocab_size: int, lengths_out: npt.NDArray[np.int64]) -> Status: ...
def pad_u8(values: npt.NDArray[np.uint8], offsets: npt.NDArray[np.int64],
           out: npt.NDArray[np.uint8], left: bool, truncate: bool, fill: int) -> Tuple[int, int]: ...
def attention_from_lengths(out: FillArray, lengths: npt.NDArray[np.int64], left: bool) -> None: ...
def lengths_of_mask(mask: FillArray, left: bool
                    ) -> Tuple[int, int, int, npt.NDArray[np.int64]]: ...
def unpad(arr: npt.NDArray[Any], lengths: npt.NDArray[np.int64], left: bool) -> npt.NDArray[Any]: ...

# ---- word starts (csrc/words.c) ----------------------------------------------------------------
def word_ids_to_starts(rows: List[Sequence[Optional[int]]], out: npt.NDArray[np.uint8],
                       left: bool, name: str) -> None: ...
def offsets_to_starts(rows: List[Sequence[Sequence[int]]], out: npt.NDArray[np.uint8],
                      left: bool, name: str) -> None: ...
def word_starts_ragged(kind: int, values: npt.NDArray[np.int64], offsets: npt.NDArray[np.int64],
                       out: npt.NDArray[np.uint8], left: bool, truncate: bool,
                       table: Optional[npt.NDArray[np.uint8]] = ...) -> Status: ...

# ---- masking (csrc/mask.c) ---------------------------------------------------------------------
def mask_batch(core: CoreConfig, epoch: int, ids: IdArray, labels: IdArray,
               attention: Optional[IdArray], lengths: npt.NDArray[np.int64], left: bool,
               special_mask: Optional[npt.NDArray[np.uint8]],
               word_starts: Optional[npt.NDArray[np.uint8]], sample_ids: npt.NDArray[np.uint64],
               row_begin: int, row_end: int, values: Optional[IdArray] = None,
               offsets: Optional[npt.NDArray[np.int64]] = None) -> Status: ...
def fill_mask_rows(core: CoreConfig, epoch: int, rows: List[Row], ids: IdArray, labels: IdArray,
                   attention: IdArray, lengths: npt.NDArray[np.int64], left: bool,
                   special_mask: Optional[npt.NDArray[np.uint8]],
                   word_starts: Optional[npt.NDArray[np.uint8]],
                   sample_ids: npt.NDArray[np.uint64], lo: int, hi: int, name: str) -> Status: ...

# ---- the generator, exposed for tests (csrc/stream.c) ------------------------------------------
def philox4x32_10(ctr: Sequence[int], key: Sequence[int]) -> Tuple[int, int, int, int]: ...
def stream_block(seed: int, epoch: int, sid: int, domain: int,
                 block: int) -> Tuple[int, int, int, int]: ...
def bounded(seed: int, epoch: int, sid: int, domain: int, block: int, range_: int,
            x: int) -> int: ...
