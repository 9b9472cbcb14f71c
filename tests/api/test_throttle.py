"""The throttle: starts paced at the rate, never more than the rate in any second, paused for
everyone after a 429."""

from __future__ import annotations

import asyncio
import time

from bulk_onboard.api.throttle import Throttle
from tests.support.windows import most_in_any_second


async def starts_of(throttle: Throttle, workers: int, each: int) -> list[float]:
    starts: list[float] = []

    async def worker() -> None:
        for _ in range(each):
            await throttle.admit()
            starts.append(time.monotonic())

    async with asyncio.TaskGroup() as group:
        for _ in range(workers):
            group.create_task(worker())
    return sorted(starts)


async def test_no_burst_at_start_up_and_never_over_the_rate_in_any_second() -> None:
    starts = await starts_of(Throttle(20), workers=8, each=4)
    assert len(starts) == 32
    assert most_in_any_second(starts) <= 20
    assert starts[1] - starts[0] >= 1 / 20 * 0.9  # the second start waits: no start-up burst


async def test_a_high_rate_is_achieved_despite_millisecond_timers() -> None:
    starts = await starts_of(Throttle(2000), workers=32, each=40)
    achieved = (len(starts) - 1) / (starts[-1] - starts[0])
    assert achieved > 2000 * 0.9
    assert achieved <= 2000
    assert most_in_any_second(starts) <= 2000


class FakeTime:
    """A clock that only moves when someone sleeps, so tests never wait."""

    def __init__(self, overshoot: float = 0.0) -> None:
        self.now = 0.0
        self.overshoot = overshoot

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds + self.overshoot
        await asyncio.sleep(0)


async def test_late_wake_ups_are_made_up_and_the_window_cap_holds() -> None:
    # Every sleep overshoots by 0.7 ms, as the event loop's millisecond timers do.
    fake = FakeTime(overshoot=0.0007)
    throttle = Throttle(1000, clock=fake.clock, sleep=fake.sleep)
    starts = []
    for _ in range(3000):
        await throttle.admit()
        starts.append(fake.now)
    achieved = (len(starts) - 1) / (starts[-1] - starts[0])
    assert 1000 * 0.98 <= achieved <= 1000
    assert most_in_any_second(starts) <= 1000


async def test_unlimited_rate_admits_at_once() -> None:
    fake = FakeTime()
    throttle = Throttle(None, clock=fake.clock, sleep=fake.sleep)
    for _ in range(1000):
        await throttle.admit()
    assert fake.now == 0.0  # never slept


async def test_pause_holds_back_every_worker() -> None:
    fake = FakeTime()
    throttle = Throttle(None, clock=fake.clock, sleep=fake.sleep)
    throttle.pause(3.0)
    await asyncio.gather(throttle.admit(), throttle.admit())
    assert fake.now >= 3.0


async def test_shorter_pause_does_not_shorten_a_longer_one() -> None:
    fake = FakeTime()
    throttle = Throttle(5, clock=fake.clock, sleep=fake.sleep)
    throttle.pause(3.0)
    throttle.pause(0.5)
    await throttle.admit()
    assert fake.now >= 3.0


async def test_a_stop_ends_the_wait_for_a_slot_and_starts_nothing() -> None:
    throttle = Throttle(1)
    stop = asyncio.Event()
    assert await throttle.admit(stop)  # the first slot is now
    waiting = asyncio.create_task(throttle.admit(stop))  # the next is a second away
    await asyncio.sleep(0.05)
    stop.set()
    assert await asyncio.wait_for(waiting, 0.5) is False
    assert await throttle.admit(stop) is False  # already stopped: no wait, no start


async def test_a_stop_ends_a_429_pause_and_starts_nothing() -> None:
    throttle = Throttle(None)
    stop = asyncio.Event()
    throttle.pause(30)
    waiting = asyncio.create_task(throttle.admit(stop))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    stop.set()
    assert await asyncio.wait_for(waiting, 0.5) is False


async def test_a_stop_ends_a_wait_on_an_injected_clock_too() -> None:
    fake = FakeTime()
    stop = asyncio.Event()

    async def never_wakes(seconds: float) -> None:
        await asyncio.Event().wait()  # only the stop can end this nap

    throttle = Throttle(1, clock=fake.clock, sleep=never_wakes)
    assert await throttle.admit(stop)
    waiting = asyncio.create_task(throttle.admit(stop))
    await asyncio.sleep(0.01)
    stop.set()
    assert await asyncio.wait_for(waiting, 0.5) is False
