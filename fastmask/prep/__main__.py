"""``python -m fastmask.prep ...``: the same as ``fastmask prep ...``."""

import sys

from .command import main

sys.exit(main())
