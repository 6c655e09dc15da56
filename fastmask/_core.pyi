"""Type stubs of the compiled bindings (fastmask/_core.pyx)."""

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import numpy.typing as npt

from ._config import KernelConfig

OK: int
ERR_ID_RANGE: int
ERR_LENGTH: int
STATUS: Dict[int, str]

class CoreConfig:
    def __init__(self, kc: KernelConfig) -> None: ...

def workspace_bytes(width: int) -> int: ...
def normalize_rows(seqs: Sequence[Any], name: str) -> Tuple[List[Any], npt.NDArray[np.int64]]: ...
def fill_rows(rows: List[Any], out: npt.NDArray[Any], left: bool, lo: int, hi: int, pad: int,
              name: str) -> None: ...
def pad_ragged(values: npt.NDArray[Any], offsets: npt.NDArray[np.int64], out: npt.NDArray[Any],
               left: bool, truncate: bool, pad_id: int, vocab_size: int,
               lengths_out: npt.NDArray[np.int64]) -> Tuple[int, int, int]: ...
def pad_u8(values: npt.NDArray[np.uint8], offsets: npt.NDArray[np.int64],
           out: npt.NDArray[np.uint8], left: bool, truncate: bool, fill: int) -> Tuple[int, int]: ...
def mask_batch(core: CoreConfig, epoch: int, ids: npt.NDArray[Any], labels: npt.NDArray[Any],
               attention: Optional[npt.NDArray[Any]], lengths: npt.NDArray[np.int64], left: bool,
               special_mask: Optional[npt.NDArray[np.uint8]],
               word_starts: Optional[npt.NDArray[np.uint8]], sample_ids: npt.NDArray[np.uint64],
               row_begin: int, row_end: int) -> Tuple[int, int, int]: ...
def philox4x32_10(ctr: Sequence[int], key: Sequence[int]) -> Tuple[int, int, int, int]: ...
def stream_block(seed: int, epoch: int, sid: int, domain: int,
                 block: int) -> Tuple[int, int, int, int]: ...
def bounded(seed: int, epoch: int, sid: int, domain: int, block: int, range_: int,
            x: int) -> int: ...
