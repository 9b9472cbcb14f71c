"""The sandbox served from a thread of the test process: the same app as `sandbox_process`, up in
milliseconds instead of a second, for tests that start one per example (the property test).

    with sandbox_thread(SandboxConfig(api_key=SANDBOX_KEY, fail_rate=0.2)) as box:
        run_cli([...], url=box.url)
        box.accepted()
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bulk_onboard.sandbox import SandboxConfig, running_sandbox


@dataclass
class SandboxThread:
    url: str  # http://127.0.0.1:PORT/api

    def requests(self) -> list[dict[str, Any]]:
        """The server's own log: one entry per /v1 request, with its arrival time."""
        with urllib.request.urlopen(self.url + "/_sandbox/requests", timeout=10) as response:
            data: dict[str, Any] = json.load(response)
        return list(data["requests"])

    def accounts(self) -> int:
        with urllib.request.urlopen(self.url + "/_sandbox/requests", timeout=10) as response:
            return int(json.load(response)["accounts"])

    def accepted(self) -> list[str]:
        """Emails of the imap_auth requests the server answered 200, in arrival order."""
        answered = [
            r for r in self.requests() if r["path"].endswith("/v1/imap_auth") and r["status"] == 200
        ]
        return [r["email"] for r in sorted(answered, key=lambda r: r["t"])]


@contextmanager
def sandbox_thread(config: SandboxConfig) -> Iterator[SandboxThread]:
    """Serve a sandbox with `config` on a free loopback port for the `with` body."""
    loop = asyncio.new_event_loop()
    started: dict[str, Any] = {}
    ready = threading.Event()

    async def serve() -> None:
        stop = asyncio.Event()
        started["stop"] = stop
        try:
            async with running_sandbox(config) as box:
                started["url"] = box.base_url
                ready.set()
                await stop.wait()
        finally:
            ready.set()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(10), "the sandbox did not start in time"
    assert "url" in started, "the sandbox did not start"
    try:
        yield SandboxThread(started["url"])
    finally:
        loop.call_soon_threadsafe(started["stop"].set)
        thread.join(10)
        loop.close()
