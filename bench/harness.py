"""What every benchmark needs: a sandbox in its own process, the tool as a child, server logs.

The sandbox is pinned to the last core and the client to the first (taskset), so the client's
CPU is its own. Children are reaped with os.wait4, so each one's peak RSS and CPU are its own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KEY = "bench-key"
CORES = os.cpu_count() or 1


def pinned(cmd: list[str], core: int) -> list[str]:
    if shutil.which("taskset") and CORES > 1:
        return ["taskset", "-c", str(core % CORES), *cmd]
    return cmd


@dataclass
class Sandbox:
    url: str
    proc: subprocess.Popen[str]

    def requests(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(self.url + "/_sandbox/requests", timeout=30) as response:
            data: dict[str, Any] = json.load(response)
        return list(data["requests"])

    def clear(self) -> None:
        request = urllib.request.Request(self.url + "/_sandbox/requests", method="DELETE")
        urllib.request.urlopen(request, timeout=30).close()

    def imap_auth_times(self) -> list[float]:
        return sorted(r["t"] for r in self.requests() if r["path"].endswith("/v1/imap_auth"))


@contextmanager
def sandbox(*knobs: str) -> Iterator[Sandbox]:
    """A sandbox process on the last core; yields once it listens."""
    cmd = [sys.executable, "-m", "bulk_onboard.sandbox", "--port", "0", "--api-key", KEY, *knobs]
    proc = subprocess.Popen(pinned(cmd, CORES - 1), stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        yield Sandbox(next(w for w in line.split() if w.startswith("http://")), proc)
    finally:
        proc.terminate()
        proc.wait(30)


@dataclass
class ChildRun:
    code: int
    wall_s: float
    cpu_s: float
    max_rss_mb: float
    stderr: str


def run_child(cmd: Sequence[str], env: dict[str, str] | None = None, core: int = 0) -> ChildRun:
    """Run a command on `core`; its own wall time, CPU time and peak RSS."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        pinned(list(cmd), core),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    return ChildRun(
        proc.returncode, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, stderr
    )


def tool_env(url: str) -> dict[str, str]:
    return {**os.environ, "MAILREACH_API_KEY": KEY, "MAILREACH_API_URL": url}


def run_tool(url: str, sheet: Path, out: Path, *args: str) -> tuple[ChildRun, dict[str, Any]]:
    """`bulk-onboard run SHEET --out OUT ARGS` against `url`; the child's figures and summary."""
    cmd = [sys.executable, "-m", "bulk_onboard", "run", str(sheet), "--out", str(out),
           "--no-progress", *args]  # fmt: skip
    child = run_child(cmd, tool_env(url))
    if child.code not in (0, 1):
        raise SystemExit(f"run failed ({child.code}): {child.stderr[-2000:]}")
    summary: dict[str, Any] = json.loads((out / "latest" / "summary.json").read_text())
    return child, summary


def most_in_any_second(times: Sequence[float]) -> int:
    """The largest number of events inside any half-open 1 s window."""
    best = start = 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best
