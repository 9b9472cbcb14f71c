"""Counting events in sliding 1 s windows, as a rate limit is judged."""

from __future__ import annotations

from collections.abc import Sequence


def most_in_any_second(times: Sequence[float]) -> int:
    """The largest number of events inside any half-open 1 s window."""
    times = sorted(times)
    best = start = 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best
