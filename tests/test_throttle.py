"""The throttle: request starts evenly spaced at the rate, and paused for everyone after a 429."""

from __future__ import annotations

import asyncio
import time

from bulk_onboard.throttle import Throttle


def most_in_one_second(times: list[float]) -> int:
    times = sorted(times)
    best = 0
    start = 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_starts_never_exceed_the_rate_in_any_second_even_at_start_up() -> None:
    throttle = Throttle(20)
    starts: list[float] = []

    async def worker() -> None:
        for _ in range(6):
            await throttle.admit()
            starts.append(time.monotonic())

    async with asyncio.TaskGroup() as group:
        for _ in range(8):
            group.create_task(worker())
    assert len(starts) == 48
    assert most_in_one_second(starts) <= 20
    gaps = [b - a for a, b in zip(sorted(starts), sorted(starts)[1:], strict=False)]
    assert min(gaps) >= 1 / 20 * 0.9


async def test_unlimited_rate_admits_at_once() -> None:
    throttle = Throttle(None)
    t0 = time.monotonic()
    for _ in range(1000):
        await throttle.admit()
    assert time.monotonic() - t0 < 0.5


async def test_pause_holds_back_every_worker() -> None:
    throttle = Throttle(None)
    throttle.pause(0.3)
    t0 = time.monotonic()
    await asyncio.gather(throttle.admit(), throttle.admit())
    assert time.monotonic() - t0 >= 0.29
    assert throttle.pauses == 1


async def test_shorter_pause_does_not_shorten_a_longer_one() -> None:
    throttle = Throttle(None)
    throttle.pause(0.3)
    throttle.pause(0.05)
    t0 = time.monotonic()
    await throttle.admit()
    assert time.monotonic() - t0 >= 0.29
