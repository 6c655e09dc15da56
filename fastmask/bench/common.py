"""Constants shared by every part of the benchmark engine, and its one error type."""

from __future__ import annotations

SCHEMA = "fastmask.bench/1"

BATCH_SIZES = (32, 256, 1024)
MAX_LENGTHS = (128, 512, 2048)
MASKINGS = ("tokens", "words")
INPUT_FORMS = ("list", "arrays", "ndarray", "ragged")
DEFAULT_INPUTS = ("list", "ndarray", "ragged")
HEADLINE = (256, 512, "tokens", "list")

INPUT_DESCRIPTIONS = {
    "list": "Python lists of ints",
    "arrays": "a list of 1-D int64 arrays",
    "ndarray": "a 2-D int64 array padded to the maximum length, with lengths",
    "ragged": "flat int64 values with offsets (the Arrow list layout)",
}


class BenchError(Exception):
    """A problem with the benchmark's inputs (bad file, bad option) that the CLI reports."""

