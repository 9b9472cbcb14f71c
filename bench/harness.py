"""What every benchmark needs: a sandbox in its own process, the tool as a child, server logs.

The sandbox is pinned to the last core and the client to the first (taskset), so the client's
CPU is its own. Children are started by bench/own_usage.py, so each one's peak RSS and CPU are
its own, not the benchmark's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KEY = "bench-key"
CORES = os.cpu_count() or 1


OWN_USAGE = Path(__file__).with_name("own_usage.py")


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
    """Run a command on `core`; its own wall time, CPU time and peak RSS (bench/own_usage.py)."""
    with tempfile.TemporaryDirectory(prefix="bench-usage-") as folder:
        report = Path(folder) / "usage.json"
        launcher = [sys.executable, "-S", str(OWN_USAGE), str(report)]
        proc = subprocess.run(
            pinned([*launcher, *cmd], core),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        usage = json.loads(report.read_text())
    return ChildRun(
        proc.returncode, usage["wall_s"], usage["cpu_s"], usage["peak_rss_mb"], proc.stderr
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
