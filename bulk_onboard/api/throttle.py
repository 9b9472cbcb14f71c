"""Admission of request starts: paced at --rate, never more than --rate in any 1 s, and held
back for every worker after a 429.

Written by hand rather than with aiolimiter: aiolimiter wakes a waiter when the bucket has
leaked "enough since now", so every wake-up pays the event loop's timer rounding (epoll sleeps in
whole milliseconds) and the lateness is never made up — measured here, `--rate 2000` achieved
~840/s and `--rate 200` ~183/s. This pacer reserves absolute slots instead (GCRA: slot k is
start + k/rate), so late wake-ups don't lower the mean rate, and it keeps a log of the last
`rate` starts so no 1 s window ever holds more than `rate` of them, however the loop hiccups.
No burst at start-up: the first slot is now, the next 1/rate later.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable

# The server counts arrivals, not our starts, and transit times jitter by milliseconds: spacing
# starts 1 % wider than 1/rate (and counting the cap over 1.01 s) keeps the server's count in any
# 1 s window at or under the rate unless the jitter exceeds 10 ms, for 1 % less throughput.
_MARGIN = 1.01
_WINDOW_S = 1.0 * _MARGIN
# Event loops time in whole milliseconds: uvloop's libuv wakes a shorter sleep at once, so a
# worker would spin until its slot (measured: 3x the CPU at 2,000/s). A slot less than this away
# is taken now, at most 1 ms early: slots are absolute, so the mean rate is kept, and the window
# cap, which never starts early (it sleeps at least this long), still bounds any 1 s.
_TIMER_S = 0.001


class Throttle:
    """Shared by all workers of a run: `await admit()` before each request is sent."""

    __slots__ = ("_cap", "_clock", "_interval", "_next_slot", "_resume_at", "_sleep", "_starts")

    def __init__(
        self,
        rate: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._interval = _MARGIN / rate if rate else 0.0
        # At most `cap` starts in any 1 s; a fractional rate (0.5/s) still allows one.
        self._cap = max(1, math.floor(rate)) if rate else 0
        self._starts: deque[float] = deque(maxlen=self._cap or 1)
        self._clock = clock
        self._sleep = sleep
        self._next_slot = 0.0
        self._resume_at = 0.0

    async def admit(self, stop: asyncio.Event | None = None) -> bool:
        """Wait until this worker may start a request; True then. False, at once, if `stop` is
        set first (or already): after a stop no request may start, so no slot is taken."""
        if not await self._wait_until(self._resume_at, stop):
            return False
        if not self._interval:
            return True
        slot = max(self._next_slot, self._clock())
        self._next_slot = slot + self._interval
        if not await self._wait_until(slot, stop):
            return False
        starts = self._starts
        while True:
            now = self._clock()
            # A hiccup can bunch late slots together: never let a 1 s window exceed the cap.
            # And a 429 may have arrived while we waited for our slot: honour it before sending.
            window_wait = starts[0] + _WINDOW_S - now if len(starts) == self._cap else 0.0
            wait = max(window_wait, self._resume_at - now)
            if wait <= 0:
                break
            if not await self._nap(max(wait, _TIMER_S), stop):
                return False
        starts.append(self._clock())
        return True

    async def _wait_until(self, when: float, stop: asyncio.Event | None) -> bool:
        while (wait := when - self._clock()) >= _TIMER_S:
            if not await self._nap(wait, stop):
                return False
        return stop is None or not stop.is_set()

    async def _nap(self, seconds: float, stop: asyncio.Event | None) -> bool:
        """Sleep `seconds`, cut short by `stop`; False if stopped."""
        if stop is None:
            await self._sleep(seconds)
            return True
        if stop.is_set():
            return False
        if self._sleep is asyncio.sleep:
            # The real clock: waiting for the stop under a timeout costs one timer, not tasks
            # (at 2,000/s every start naps once).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    await stop.wait()
            return not stop.is_set()
        sleeping = asyncio.ensure_future(self._sleep(seconds))  # an injected clock (tests)
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({sleeping, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeping.cancel()
            stopping.cancel()
        return not stop.is_set()

    def pause(self, seconds: float) -> None:
        """Hold back every worker for `seconds` (the server said Retry-After)."""
        self._resume_at = max(self._resume_at, self._clock() + seconds)
