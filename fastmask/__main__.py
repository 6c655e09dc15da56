"""``python -m fastmask`` and the ``fastmask`` console script."""

import sys
from typing import Optional, Sequence


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the ``fastmask`` command line; returns the exit code."""
    from .cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
