"""`bulk-onboard run` vs a bare aiohttp loop posting the same bodies to the same sandbox.

The sandbox runs in its own process (pinned to the last core where taskset exists); both clients
use the same concurrency and no rate limit. Prints rows/s of each, their ratio, and medians over
several repeats. Usage: python -m bench.compare [--rows 3000] [--repeats 3] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.sheet import write_sheet
from bulk_onboard.columns import ColumnMap
from bulk_onboard.normalise import NormaliseOptions, normalise
from bulk_onboard.reader import open_table

KEY = "bench-key"


def start_sandbox() -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, "-m", "bulk_onboard.sandbox", "--port", "0", "--api-key", KEY]
    cores = os.cpu_count() or 1
    if shutil.which("taskset") and cores > 1:
        cmd = ["taskset", "-c", str(cores - 1), *cmd]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    url = next(word for word in line.split() if word.startswith("http://"))
    return proc, url


def bodies_of(sheet: Path) -> list[dict[str, object]]:
    table = open_table(str(sheet))
    columns = ColumnMap.from_headers(table.headers)
    out = []
    for chunk in table.chunks:
        for raw in chunk:
            item = normalise(raw, columns, NormaliseOptions())
            assert item.request is not None
            out.append(item.request.to_body())
    return out


async def bare_loop(url: str, bodies: list[dict[str, object]], concurrency: int) -> float:
    """Rows/s of the simplest correct client: N tasks pulling from a shared iterator."""
    feed = iter(bodies)
    headers = {"X-Api-Key": KEY}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def worker() -> None:
            for body in feed:
                async with session.post(url + "/v1/imap_auth", json=body) as response:
                    await response.read()
                    assert response.status == 200, response.status

        t0 = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for _ in range(concurrency):
                group.create_task(worker())
        return len(bodies) / (time.perf_counter() - t0)


def tool_run(url: str, sheet: Path, out: Path, concurrency: int) -> tuple[float, float]:
    """(rows/s from the run's own summary, wall rows/s of the whole command incl. start-up)."""
    env = {**os.environ, "MAILREACH_API_KEY": KEY, "MAILREACH_API_URL": url}
    cmd = [sys.executable, "-m", "bulk_onboard", "run", str(sheet), "--out", str(out),
           "--rate", "0", "--concurrency", str(concurrency), "--no-progress"]  # fmt: skip
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"run failed ({done.returncode}): {done.stderr[-2000:]}")
    summary = json.loads((out / "latest" / "summary.json").read_text())
    assert summary["succeeded"] == summary["rows_total"]
    return float(summary["rows_per_s"]), summary["rows_total"] / wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    sheet = write_sheet(work / "bench.csv", args.rows)
    bodies = bodies_of(sheet)
    proc, url = start_sandbox()
    try:
        bare, tool, wall = [], [], []
        for _ in range(args.repeats):
            bare.append(asyncio.run(bare_loop(url, bodies, args.concurrency)))
            rate, wall_rate = tool_run(url, sheet, work / "out", args.concurrency)
            tool.append(rate)
            wall.append(wall_rate)
        b, t, w = statistics.median(bare), statistics.median(tool), statistics.median(wall)
        print(f"rows={args.rows} repeats={args.repeats} concurrency={args.concurrency}")
        print(f"bare aiohttp loop     median {b:8.0f} rows/s   runs {[round(x) for x in bare]}")
        print(f"bulk-onboard run      median {t:8.0f} rows/s   runs {[round(x) for x in tool]}")
        print(f"  (whole command incl. Python start-up: median {w:.0f} rows/s)")
        print(f"ratio run / bare      {t / b:.3f}")
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
