"""Type stubs of the fastmask.prep package (its public names)."""

import argparse
from typing import Any, Dict, Iterator, Optional, Sequence, Tuple

from .._api import Masker

INPUT_FORMATS: Tuple[str, ...]
OUTPUT_FORMATS: Tuple[str, ...]

class UsageError(ValueError): ...

class PrepStats:
    path: str
    rows: int
    tokens: int
    samples: int
    dupe_factor: int
    seconds: float
    def __init__(self, path: str, rows: int = ..., tokens: int = ..., samples: int = ...,
                 dupe_factor: int = ..., seconds: float = ...) -> None: ...
    @property
    def tokens_per_second(self) -> float: ...

def as_table(data: Any) -> Any: ...
def iter_static(data: Any, masker: Masker, *, dupe_factor: int = ..., column: str = ...,
                layout: str = ..., max_predictions_per_seq: Optional[int] = ...,
                keep_columns: Sequence[str] = ..., batch_size: int = ...,
                num_threads: int = ...,
                sample_id_column: Optional[str] = ...) -> Iterator[Any]: ...
def write_static(data: Any, output: str, masker: Masker, *, dupe_factor: int = ...,
                 output_format: Optional[str] = ..., column: str = ..., layout: str = ...,
                 max_predictions_per_seq: Optional[int] = ...,
                 keep_columns: Sequence[str] = ..., batch_size: int = ...,
                 num_threads: int = ..., shard_size: Optional[int] = ...,
                 progress: bool = ..., overwrite: bool = ..., compression: Optional[str] = ...,
                 metadata: Optional[Dict[str, Any]] = ...,
                 sample_id_column: Optional[str] = ...,
                 _output: Any = ...) -> PrepStats: ...
def add_parser(subparsers: Any) -> argparse.ArgumentParser: ...
def run(args: argparse.Namespace) -> int: ...
def main(argv: Optional[Sequence[str]] = ...) -> int: ...
