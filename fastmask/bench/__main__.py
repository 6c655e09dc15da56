"""``python -m fastmask.bench --worker``: times the first calls of one peer in a fresh process
(used by :func:`fastmask.bench.time_fresh`)."""

from __future__ import annotations

import json
import sys
from typing import Sequence

from .timing import worker


def _worker_main(argv: Sequence[str]) -> int:
    if list(argv) != ["--worker"]:
        sys.stderr.write("usage: python -m fastmask.bench --worker < spec.json\n"
                         "(internal: times the first calls of one peer in a fresh process; "
                         "use `fastmask bench` instead)\n")
        return 2
    spec = json.loads(sys.stdin.read())
    print(json.dumps(worker(spec)))
    return 0


if __name__ == "__main__":
    sys.exit(_worker_main(sys.argv[1:]))
