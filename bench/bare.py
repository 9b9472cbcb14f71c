"""The bare baseline as a process of its own: post bodies from a JSON file with N tasks.

`python -m bench.bare URL BODIES.json CONCURRENCY` is the simplest correct client of the
sandbox: no reading, no validation, no journal, no reports. It runs on the same event loop as the
tool (uvloop when installed), so the two compare like for like, start-up included.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp
import orjson

from bench.harness import KEY
from bulk_onboard.engine import event_loop


async def post_all(url: str, bodies: list[dict[str, object]], concurrency: int) -> None:
    feed = iter(bodies)
    connector = aiohttp.TCPConnector(limit=concurrency)
    headers = {"X-Api-Key": KEY, "Content-Type": "application/json"}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def worker() -> None:
            for body in feed:
                async with session.post(url + "/v1/imap_auth", data=orjson.dumps(body)) as answer:
                    await answer.read()
                    assert answer.status == 200, answer.status

        async with asyncio.TaskGroup() as group:
            for _ in range(concurrency):
                group.create_task(worker())


def main() -> None:
    url, bodies, concurrency = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    event_loop.run(post_all(url, orjson.loads(bodies.read_bytes()), concurrency))


if __name__ == "__main__":
    main()
