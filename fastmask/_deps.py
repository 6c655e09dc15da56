"""Optional dependencies: imported where a feature needs them, with the install hint when absent.

The core (``fastmask.Masker``, ``pad``, ``mask``) needs only NumPy; each integration names the
extra that brings its dependency (``pip install 'fastmask[torch]'`` and so on).
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["need"]


def need(module: str, extra: str, feature: str) -> ModuleType:
    """``import module``, or an ImportError saying which extra installs it for ``feature``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        if exc.name is not None and exc.name.split(".")[0] != top:
            raise  # the dependency is there but something inside it failed: show that
        raise ImportError(f"{feature} needs {top}: pip install 'fastmask[{extra}]'",
                          name=top) from exc
