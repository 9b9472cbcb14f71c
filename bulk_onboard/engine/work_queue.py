"""What the workers take next: a row waiting out a backoff once it is due, else a new row.

A row that must be retried is put back here with the time it is due, and the worker that sent
it takes the next row. A worker never sleeps out a backoff: against an API that answers 503 to
every first and second try, workers that slept 1 s + 2 s per row left the rate unused (300 rows
at --rate 25 took 97 s where the rate allows 36 s).

New rows are bounded (the producer waits for room), and so are rows waiting out a backoff: past
`max_waiting` of them no new row is handed out until one is sent again, so an API that fails
every request fast can't make the queue hold the whole sheet. `get` answers None only when
nothing can come any more: the producer is done, nothing waits, and no row handed out can come
back.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")
# The loop may run a timer up to its clock resolution early: a row due that soon counts as due,
# or the timer would be re-armed and fire again at once until the row's time came.
_EARLY_S = 0.001


class WorkQueue(Generic[T]):
    """`put_new` (producer), `close` (producer done); `get`, then `done` or `retry_at` (workers)."""

    def __init__(self, max_new: int, max_waiting: int) -> None:
        self._loop = asyncio.get_running_loop()
        self._clock = self._loop.time  # the timers' own clock
        self._max_new = max_new
        self._max_waiting = max_waiting
        self._new: deque[T] = deque()
        self._due: deque[T] = deque()  # retries whose time has come, oldest first
        self._waiting: list[tuple[float, int, T]] = []  # retries by due time
        self._order = itertools.count()  # ties keep their order
        self._timer: asyncio.TimerHandle | None = None
        self._out = 0  # handed out by get, not yet done or put back
        self._closed = False
        self._takers: deque[asyncio.Future[None]] = deque()
        self._producer: asyncio.Future[None] | None = None

    @property
    def waiting(self) -> int:
        """Rows waiting out a backoff, due or not."""
        return len(self._due) + len(self._waiting)

    async def put_new(self, item: T) -> None:
        """Add a new row, once fewer than `max_new` new rows wait."""
        while len(self._new) >= self._max_new:
            self._producer = self._loop.create_future()
            await self._producer
        self._new.append(item)
        self._wake_one()

    def close(self) -> None:
        """No new row will come."""
        self._closed = True
        self._wake_all()

    def retry_at(self, item: T, delay_s: float) -> None:
        """Put back a row handed out by `get`, due in `delay_s` seconds."""
        self._out -= 1
        heapq.heappush(self._waiting, (self._clock() + delay_s, next(self._order), item))
        self._arm()

    def done(self) -> None:
        """A row handed out by `get` is settled."""
        self._out -= 1
        if self._finished():
            self._wake_all()

    def release_waiting(self) -> None:
        """Make every waiting row due now (a stop: they are to be settled, not sent)."""
        while self._waiting:
            self._due.append(heapq.heappop(self._waiting)[2])
        self._arm()
        self._wake_all()

    async def get(self) -> T | None:
        """The next row: a due retry first, else a new row; None when no row can come."""
        while True:
            if self._due:
                item = self._due.popleft()
                if self._new and self.waiting == self._max_waiting - 1:
                    self._wake_one()  # room again for a new row
            elif self._new and self.waiting < self._max_waiting:
                item = self._new.popleft()
                if self._producer is not None and not self._producer.done():
                    self._producer.set_result(None)
            elif self._finished():
                return None
            else:
                taker = self._loop.create_future()
                self._takers.append(taker)
                try:
                    await taker
                except asyncio.CancelledError:
                    if taker.done() and not taker.cancelled():
                        self._wake_one()  # pass on the row this taker was woken for
                    raise
                continue
            self._out += 1
            return item

    def _finished(self) -> bool:
        return (
            self._closed and not self._new and not self._due and not self._waiting and not self._out
        )

    def _arm(self) -> None:
        """One timer, for the earliest waiting row."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._waiting:
            self._timer = self._loop.call_at(self._waiting[0][0], self._due_now)

    def _due_now(self) -> None:
        self._timer = None
        now = self._clock() + _EARLY_S
        while self._waiting and self._waiting[0][0] <= now:
            self._due.append(heapq.heappop(self._waiting)[2])
            self._wake_one()
        self._arm()

    def _wake_one(self) -> None:
        while self._takers:
            taker = self._takers.popleft()
            if not taker.done():
                taker.set_result(None)
                return

    def _wake_all(self) -> None:
        while self._takers:
            taker = self._takers.popleft()
            if not taker.done():
                taker.set_result(None)
