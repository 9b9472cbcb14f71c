"""Progress for people (a tqdm bar on a terminal) or for logs (a line every few seconds)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bulk_onboard.base.outcomes import Status

if TYPE_CHECKING:
    from tqdm import tqdm

LOG_EVERY_S = 5.0
log = logging.getLogger("bulk_onboard")


class Progress:
    """Counts settled rows; shows them as a bar, as periodic log lines, or not at all."""

    def __init__(
        self,
        total: int | None,  # None: not known (validate reads the sheet once, as it goes)
        *,
        bar: bool,
        lines: bool = True,
        label: str = "rows",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.ok = 0
        self.failed = 0
        self.other = 0
        self._clock = clock
        self._started = clock()
        # No bar and no lines (--no-progress): the next log time never comes.
        self._next_log = self._started + LOG_EVERY_S if lines else float("inf")
        self._bar: tqdm[Any] | None = None
        if bar:
            from tqdm import tqdm  # only for a bar: 25-35 ms of imports a command without one skips

            self._bar = tqdm(total=total, unit=label, dynamic_ncols=True, smoothing=0.1)

    @property
    def answered(self) -> int:
        """Rows that got a verdict (succeeded, skipped or failed), not left unprocessed."""
        return self.ok + self.failed

    @property
    def done(self) -> int:
        return self.ok + self.failed + self.other

    def advance(self, status: Status, rows: int = 1) -> None:
        if status is Status.SUCCEEDED or status is Status.SKIPPED or status is Status.VALID:
            self.ok += rows
        elif status is Status.FAILED:
            self.failed += rows
        else:
            self.other += rows
        if self._bar is not None:
            self._bar.set_postfix_str(f"ok={self.ok} failed={self.failed}", refresh=False)
            self._bar.update(rows)
        elif (now := self._clock()) >= self._next_log:
            self._next_log = now + LOG_EVERY_S
            self.log_line(now)

    def log_line(self, now: float | None = None) -> None:
        elapsed = max((now or self._clock()) - self._started, 1e-9)
        log.info(
            "progress: %d%s rows, %d ok, %d failed, %.1f rows/s",
            self.done,
            "" if self.total is None else f"/{self.total}",
            self.ok,
            self.failed,
            self.done / elapsed,
            extra={
                "event": "progress",
                "done": self.done,
                "total": self.total,
                "ok": self.ok,
                "failed": self.failed,
            },
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
