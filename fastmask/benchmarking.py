"""The benchmark engine under its earlier name: everything lives in :mod:`fastmask.bench` now,
and this module re-exports its public names so existing imports keep working."""

from .bench import *  # noqa: F401,F403
from .bench import __all__  # noqa: F401
