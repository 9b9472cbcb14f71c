"""The workers' queue: retries once due go before new rows, and it ends only when nothing can
come back."""

from __future__ import annotations

import asyncio

from bulk_onboard.engine.work_queue import WorkQueue


async def test_a_due_retry_goes_before_new_rows_and_a_waiting_one_does_not() -> None:
    queue: WorkQueue[str] = WorkQueue(10, 100)
    for row in ("a", "b", "c"):
        await queue.put_new(row)
    assert await queue.get() == "a"
    queue.retry_at("a", 0.05)
    assert await queue.get() == "b"  # a still waits out its backoff
    await asyncio.sleep(0.1)
    assert await queue.get() == "a"  # due now: before the new row c
    assert await queue.get() == "c"


async def test_get_waits_for_a_retry_and_ends_once_every_row_is_done() -> None:
    queue: WorkQueue[str] = WorkQueue(10, 100)
    await queue.put_new("a")
    queue.close()
    assert await queue.get() == "a"
    queue.retry_at("a", 0.05)
    assert await asyncio.wait_for(queue.get(), 1) == "a"  # closed, yet a came back
    other = asyncio.create_task(queue.get())
    await asyncio.sleep(0.01)
    assert not other.done(), "a is still out: it may come back"
    queue.done()
    assert await asyncio.wait_for(other, 1) is None
    assert await queue.get() is None


async def test_release_makes_every_waiting_row_due_at_once() -> None:
    queue: WorkQueue[str] = WorkQueue(10, 100)
    for row in ("a", "b"):
        await queue.put_new(row)
    queue.close()
    for _ in range(2):
        queue.retry_at(str(await queue.get()), 60)
    assert queue.waiting == 2
    queue.release_waiting()
    assert [await asyncio.wait_for(queue.get(), 1) for _ in range(2)] == ["a", "b"]


async def test_the_producer_waits_for_room_among_new_rows() -> None:
    queue: WorkQueue[int] = WorkQueue(2, 100)
    await queue.put_new(1)
    await queue.put_new(2)
    third = asyncio.create_task(queue.put_new(3))
    await asyncio.sleep(0.01)
    assert not third.done()
    assert await queue.get() == 1
    await asyncio.wait_for(third, 1)


async def test_past_max_waiting_no_new_row_is_handed_out_until_one_is_sent_again() -> None:
    queue: WorkQueue[str] = WorkQueue(10, 1)
    for row in ("a", "b"):
        await queue.put_new(row)
    assert await queue.get() == "a"
    queue.retry_at("a", 0.05)
    assert await asyncio.wait_for(queue.get(), 1) == "a"  # not b: a's wait fills the queue
    assert await queue.get() == "b"
