"""The sandbox as its own process, as users and benchmarks run it, plus a reader of its log."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

SANDBOX_KEY = "test-key-not-a-secret"
POLL_INTERVAL_S = 0.02


@dataclass
class SandboxProcess:
    url: str  # http://127.0.0.1:PORT/api
    proc: subprocess.Popen[str]

    def requests(self) -> list[dict[str, Any]]:
        """The server's own log: one entry per /v1 request, with its arrival time."""
        with urllib.request.urlopen(self.url + "/_sandbox/requests", timeout=10) as response:
            data: dict[str, Any] = json.load(response)
        return list(data["requests"])

    def accounts(self) -> int:
        with urllib.request.urlopen(self.url + "/_sandbox/requests", timeout=10) as response:
            return int(json.load(response)["accounts"])

    def imap_auth(self, status: int | None = None) -> list[dict[str, Any]]:
        return [
            r
            for r in self.requests()
            if r["path"].endswith("/v1/imap_auth") and (status is None or r["status"] == status)
        ]

    def accepted(self) -> list[str]:
        """Emails of the imap_auth requests the server answered 200, in arrival order."""
        return [r["email"] for r in sorted(self.imap_auth(status=200), key=lambda r: r["t"])]

    def wait_for_imap_auth(
        self, count: int, *, status: int | None = 200, timeout_s: float = 30.0
    ) -> list[dict[str, Any]]:
        """Poll the server's log until it holds `count` imap_auth requests of `status`.

        A request is logged once it has been answered, so with status 200 this waits until
        `count` rows were accepted by the server.
        """
        deadline = time.monotonic() + timeout_s
        while len(found := self.imap_auth(status)) < count:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the sandbox logged {len(found)} of {count} requests")
            time.sleep(POLL_INTERVAL_S)
        return found

    def kill(self) -> None:
        """SIGKILL the sandbox, as a crash would: nothing in flight is answered any more."""
        self.proc.kill()
        self.proc.wait()


@contextmanager
def sandbox_process(*knobs: str) -> Iterator[SandboxProcess]:
    """Start `python -m bulk_onboard.sandbox --port 0 KNOBS...`; stop it afterwards."""
    cmd = [sys.executable, "-m", "bulk_onboard.sandbox", "--port", "0", "--api-key", SANDBOX_KEY]
    proc = subprocess.Popen([*cmd, *knobs], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = next(word for word in line.split() if word.startswith("http://"))
        yield SandboxProcess(url, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
