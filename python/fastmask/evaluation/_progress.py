"""Progress bars of the evaluation runner (``_plan._Tracker``): a tqdm bar on stderr when
stderr is a terminal, plain periodic lines when it is not (a log file gets one line every few
seconds and a last one, never ``\\r`` redraws)."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

#: Seconds between two plain progress lines.
EVERY = 5.0


class Lines:
    """tqdm's ``update`` / ``close`` (and context manager) as plain lines on ``file``:
    ``desc: done/total unit (pct%), elapsed`` at most every ``every`` seconds, and at the end."""

    def __init__(
        self, total: int, unit: str, desc: str, file: TextIO | None = None, every: float = EVERY
    ) -> None:
        self.total, self.unit, self.desc = total, unit, desc
        self.file = file if file is not None else sys.stderr
        self.every, self.done = every, 0
        self.start = self.last = time.monotonic()
        self.closed = False

    def _line(self, now: float) -> None:
        pct = 100 * self.done / self.total if self.total else 100.0
        print(
            f"{self.desc}: {self.done}/{self.total} {self.unit} ({pct:.0f}%), "
            f"{now - self.start:.1f} s",
            file=self.file,
            flush=True,
        )
        self.last = now

    def update(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= self.every and self.done < self.total:
            self._line(now)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._line(time.monotonic())

    def __enter__(self) -> Lines:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def bar(total: int, unit: str, desc: str) -> Any:
    """A tqdm bar when stderr is a terminal, else :class:`Lines`."""
    if sys.stderr.isatty():
        from tqdm import tqdm  # type: ignore[import-untyped]

        return tqdm(total=total, unit=unit, desc=desc, leave=False)
    return Lines(total, unit, desc)
