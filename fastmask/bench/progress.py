"""The progress bar of a benchmark run."""

from __future__ import annotations

import sys
import time
from typing import Any


class Progress:
    """tqdm when it is installed, else a one-line bar on stderr (only on a terminal)."""

    def __init__(self, total: int, desc: str = "", enabled: bool = True,
                 stream: Any = None) -> None:
        self.total = max(int(total), 1)
        self.n = 0
        self.stream = stream or sys.stderr
        self._bar = None
        self._enabled = enabled
        self._last = 0.0
        self._desc = desc
        if not enabled:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            tqdm = None
        if tqdm is not None:
            # disable=None: quiet when stderr is not a terminal
            self._bar = tqdm(total=self.total, desc=desc, file=self.stream, leave=False,
                             dynamic_ncols=True, unit="step", disable=None)
        else:
            self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def set(self, what: str) -> None:
        if not self._enabled:
            return
        if self._bar is not None:
            self._bar.set_postfix_str(what, refresh=True)
        else:
            self._draw(what)

    def update(self, n: int = 1) -> None:
        self.n = min(self.n + n, self.total)
        if not self._enabled:
            return
        if self._bar is not None:
            self._bar.update(n)
        else:
            self._draw("")

    def _draw(self, what: str) -> None:
        if not self._tty:
            return
        now = time.monotonic()
        if what == "" and now - self._last < 0.1 and self.n < self.total:
            return
        self._last = now
        width = 24
        done = int(width * self.n / self.total)
        line = (f"\r{self._desc} [{'#' * done}{'.' * (width - done)}] {self.n}/{self.total} "
                f"{what}")[:110]
        self.stream.write(line.ljust(110))
        self.stream.flush()

    def close(self) -> None:
        if not self._enabled:
            return
        if self._bar is not None:
            self._bar.close()
        elif self._tty:
            self.stream.write("\r" + " " * 110 + "\r")
            self.stream.flush()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


