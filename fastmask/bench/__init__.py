"""The benchmark engine behind ``fastmask bench``, ``fastmask demo`` and ``benches/``.

It builds scenarios (batch size x maximum length x masking x input form) on synthetic data with a
realistic length distribution, or on a user's token file; prepares every installed peer for each
scenario; times them in a steady state (outputs of the last two batches kept alive, as a
DataLoader's prefetch keeps them) and, in fresh processes, their first calls; and turns the
numbers into JSON, a text report and a PNG chart.

The modules, from the bottom up: ``common`` (constants, :class:`BenchError`), ``machine``,
``corpus`` (synthetic tokens, token files), ``data`` (:class:`DataSource`, scenarios and their
batches), ``baseline`` (the NumPy peer), ``peers``, ``timing``, ``progress``, ``runner``
(:func:`run`), ``loader`` (the DataLoader scenario), ``verify`` (output checks), ``results``
(JSON), ``report`` (text) and ``chart`` (PNG).

Nothing here needs more than NumPy: Hugging Face's collator, torch, tqdm and matplotlib are
used when they are installed and skipped, with a note saying how to install them, when not.
"""

from .baseline import NumpyMasker
from .chart import chart_figure, plot_chart
from .common import (
                     BATCH_SIZES,
                     DEFAULT_INPUTS,
                     HEADLINE,
                     INPUT_DESCRIPTIONS,
                     INPUT_FORMS,
                     MASKINGS,
                     MAX_LENGTHS,
                     SCHEMA,
                     BenchError,
)
from .corpus import (
                     RawBatch,
                     SyntheticVocab,
                     load_token_file,
                     synthetic_batch,
                     synthetic_lengths,
)
from .data import DataSource, Scenario, ScenarioData, make_scenarios
from .loader import LOADER_BATCHES, LOADER_PEERS, LOADER_WORKERS, SharedFloorCollate, run_loader
from .machine import default_threads, machine_info, machine_line, other_cpu_share
from .peers import (
                     OTHER_MASKING,
                     PEERS,
                     SHORT,
                     Context,
                     CopyFloorPeer,
                     FastmaskPeer,
                     HFPeer,
                     HFWholeWordPeer,
                     NumpyPeer,
                     PadFloorPeer,
                     Peer,
                     ReferencePeer,
                     get_peer,
                     hf_tokenizer,
)
from .progress import Progress
from .report import (
                     floor_table,
                     format_report,
                     headline_table,
                     loader_table,
                     matrix_table,
                     scaling_lines,
                     timing_line,
)
from .results import load_json, save_json, validate_results
from .runner import FLOOR_OF, Settings, floor_ratios, run, token_scaling
from .timing import (
                     HEADLINE_CALLS,
                     HEADLINE_WARMUP,
                     Timing,
                     batches_for,
                     headline_timing,
                     time_fresh,
                     time_interleaved,
                     time_steady,
)

__all__ = [
    "SCHEMA", "BATCH_SIZES", "MAX_LENGTHS", "MASKINGS", "INPUT_FORMS", "DEFAULT_INPUTS",
    "HEADLINE", "INPUT_DESCRIPTIONS", "BenchError",
    "machine_info", "machine_line", "other_cpu_share", "default_threads",
    "synthetic_lengths", "SyntheticVocab", "RawBatch", "synthetic_batch", "load_token_file",
    "DataSource", "Scenario", "ScenarioData", "make_scenarios",
    "NumpyMasker",
    "Context", "Peer", "FastmaskPeer", "ReferencePeer", "NumpyPeer", "HFPeer",
    "HFWholeWordPeer", "PadFloorPeer", "CopyFloorPeer", "PEERS", "SHORT", "OTHER_MASKING",
    "get_peer", "hf_tokenizer",
    "Timing", "time_steady", "time_interleaved", "time_fresh", "batches_for", "headline_timing",
    "HEADLINE_CALLS",
    "HEADLINE_WARMUP",
    "Progress",
    "Settings", "run", "token_scaling", "floor_ratios", "FLOOR_OF",
    "LOADER_PEERS", "LOADER_WORKERS", "LOADER_BATCHES", "SharedFloorCollate", "run_loader",
    "save_json", "load_json", "validate_results",
    "format_report", "headline_table", "floor_table", "loader_table", "matrix_table",
    "scaling_lines", "timing_line",
    "plot_chart", "chart_figure",
]
