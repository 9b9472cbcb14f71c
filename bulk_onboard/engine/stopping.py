"""How a run stops early: a signal (drain, then report) or an abort (key refused, API gone)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator

from bulk_onboard.base.outcomes import Unprocessed
from bulk_onboard.errors import ExitCode

log = logging.getLogger("bulk_onboard")

SIGNAL_EXIT = {signal.SIGINT: ExitCode.SIGINT, signal.SIGTERM: ExitCode.SIGTERM}


class StopControl:
    """`requested`: take no new rows. `hard`: abandon requests still in flight."""

    def __init__(self, in_flight: str = "requests", *, abandon: bool = True) -> None:
        self.in_flight = in_flight  # what is finished on a first signal: "requests", "checks"
        # Whether a second signal abandons what is in flight (`hard`). validate has nothing to
        # abandon: it only lists the rows it did not reach, so a second signal changes nothing.
        self.abandon = abandon
        self.requested = asyncio.Event()
        self.hard = asyncio.Event()
        self.reason = Unprocessed.INTERRUPTED
        self.exit_code: ExitCode | None = None
        self.message = ""

    def request(self, reason: Unprocessed, exit_code: ExitCode, message: str) -> None:
        """Stop taking rows; the first request's reason and exit code win."""
        if self.requested.is_set():
            return
        self.reason, self.exit_code, self.message = reason, exit_code, message
        self.requested.set()

    def on_signal(self, signum: signal.Signals) -> None:
        if self.requested.is_set() and self.reason is Unprocessed.INTERRUPTED:
            if not self.abandon:
                log.warning("%s received again: already stopping.", signum.name)
                return
            log.warning("Second signal: abandoning %s still in flight.", self.in_flight)
            self.hard.set()
            return
        self.request(Unprocessed.INTERRUPTED, SIGNAL_EXIT[signum], f"stopped by {signum.name}")
        log.warning(
            "%s received: finishing %s in flight, then writing the reports%s.",
            signum.name,
            self.in_flight,
            " (send it again to abandon them)" if self.abandon else "",
        )


@contextlib.contextmanager
def signals_handled(stop: StopControl) -> Iterator[None]:
    """Route SIGINT/SIGTERM to `stop` while the block runs (main thread only)."""
    loop = asyncio.get_running_loop()
    installed = []
    for signum in SIGNAL_EXIT:
        try:
            loop.add_signal_handler(signum, stop.on_signal, signum)
            installed.append(signum)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread, or no signals here: the library caller handles them
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
            # Not the default handler asyncio puts back: a late signal would raise
            # KeyboardInterrupt into the loop's shutdown or the reports being written, and the
            # job's exit code is already decided. The library gives the caller's back after.
            signal.signal(signum, signal.SIG_IGN)
