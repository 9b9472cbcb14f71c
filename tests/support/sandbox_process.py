"""The sandbox as its own process, as users and benchmarks run it, plus a reader of its log."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

SANDBOX_KEY = "test-key-not-a-secret"


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
