"""Admission of request starts: evenly spaced at --rate, and held back for every worker after a 429.

aiolimiter does the spacing. It is given a bucket of ONE request leaking at `rate` per second, so
starts are at least 1/rate apart from the very first one: a bucket of `rate` would let a whole
second's burst through at start-up and then keep leaking, i.e. up to 2 x rate in the first second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from aiolimiter import AsyncLimiter


class Throttle:
    """Shared by all workers of a run: `await admit()` before each request is sent."""

    __slots__ = ("_clock", "_limiter", "_resume_at", "_sleep", "pauses")

    def __init__(
        self,
        rate: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._limiter = AsyncLimiter(1, 1.0 / rate) if rate else None
        self._clock = clock
        self._sleep = sleep
        self._resume_at = 0.0
        self.pauses = 0

    async def admit(self) -> None:
        """Wait until this worker may start a request."""
        while (wait := self._resume_at - self._clock()) > 0:
            await self._sleep(wait)
        if self._limiter is not None:
            await self._limiter.acquire()
            # A 429 may have arrived while we queued for a slot: honour it before sending.
            while (wait := self._resume_at - self._clock()) > 0:
                await self._sleep(wait)

    def pause(self, seconds: float) -> None:
        """Hold back every worker for `seconds` (the server said Retry-After)."""
        resume_at = self._clock() + seconds
        if resume_at > self._resume_at:
            self._resume_at = resume_at
            self.pauses += 1
