"""fastmask: fast, reproducible batch preparation for masked-language-model pretraining.

The NumPy API is :class:`Masker` (configure once, call per batch), :func:`pad` and :func:`mask`.
The torch ``collate_fn`` lives in :mod:`fastmask.torch`, the word-boundary builders in
:mod:`fastmask.words`, Arrow / ``datasets`` batch functions in :mod:`fastmask.arrow`, static
masking of whole corpora in :mod:`fastmask.prep`, BERT/ALBERT sentence-pair instances in
:mod:`fastmask.instances`, and the pure-Python twin of the C core in :mod:`fastmask.reference`.
"""

try:
    from . import _core  # noqa: F401  (the compiled core; there is no silent Python fallback)
except ImportError as exc:  # pragma: no cover - only hit on a broken install
    raise ImportError(
        "fastmask's compiled extension (fastmask._core) failed to import: "
        f"{exc}. Reinstall with `pip install .` (a C compiler is needed to build it)."
    ) from exc

from ._api import SPAN_LENGTHS, Masker, mask, pad

__version__ = "0.1.0"
__all__ = ["Masker", "mask", "pad", "SPAN_LENGTHS", "__version__"]
