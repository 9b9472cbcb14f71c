"""The fault knobs: dropped connections, 429s, 503s and latency, decided per /v1 request.

Decisions only; the HTTP side (closing the transport, sleeping, answering) is app.py's.
One `random.Random(seed)` drives every random choice so a test run is reproducible, and a knob
left at zero draws nothing from it: turning one knob on never changes another knob's sequence.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable

from bulk_onboard.sandbox.config import SandboxConfig

RATE_WINDOW_S = 1.0


class Faults:
    """Per-app fault state: the RNG and the sliding window of admitted arrival times."""

    __slots__ = ("_admitted", "_clock", "_config", "_rng", "_tries")

    def __init__(self, config: SandboxConfig, clock: Callable[[], float]) -> None:
        self._config = config
        self._rng = random.Random(config.seed)
        self._clock = clock
        self._admitted: deque[float] = deque()
        self._tries: dict[str, int] = {}  # imap_auth requests seen per email (fail_first)

    def drop_connection(self) -> bool:
        """Whether this request's connection is to be closed without an answer."""
        rate = self._config.reset_rate
        return rate > 0.0 and self._rng.random() < rate

    def retry_after_s(self) -> int | None:
        """None if the request is admitted, else the whole seconds until the window has room.

        Only admitted requests fill the window: a client hammering through 429s is not locked
        out for longer than its admitted traffic alone would justify.
        """
        limit = self._config.rate_limit
        if limit is None:
            return None
        now = self._clock()
        window = self._admitted
        while window and window[0] <= now - RATE_WINDOW_S:
            window.popleft()
        if len(window) + 1 > limit:
            oldest = window[0] if window else now
            return max(1, math.ceil(oldest + RATE_WINDOW_S - now))
        window.append(now)
        return None

    def fail(self) -> bool:
        """Whether this request is to be answered 503."""
        rate = self._config.fail_rate
        return rate > 0.0 and self._rng.random() < rate

    def fail_first_tries(self, email: str) -> bool:
        """Whether this imap_auth request for `email` is one of its first `fail_first`."""
        tries = self._tries.get(email, 0) + 1
        self._tries[email] = tries
        return tries <= self._config.fail_first

    def delay_s(self) -> float:
        """The latency to add to this request: the base plus uniform jitter, in seconds."""
        delay_ms = self._config.latency_ms
        if self._config.jitter_ms > 0.0:
            delay_ms += self._rng.uniform(0.0, self._config.jitter_ms)
        return delay_ms / 1000.0
