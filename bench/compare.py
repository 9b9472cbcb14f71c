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
import resource
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


async def bare_loop(
    url: str, bodies: list[dict[str, object]], concurrency: int
) -> tuple[float, float]:
    """(rows/s, CPU µs/row) of the simplest correct client: N tasks pulling from one iterator."""
    feed = iter(bodies)
    headers = {"X-Api-Key": KEY}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def worker() -> None:
            for body in feed:
                async with session.post(url + "/v1/imap_auth", json=body) as response:
                    await response.read()
                    assert response.status == 200, response.status

        t0, c0 = time.perf_counter(), time.process_time()
        async with asyncio.TaskGroup() as group:
            for _ in range(concurrency):
                group.create_task(worker())
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        return len(bodies) / wall, cpu / len(bodies) * 1e6


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def tool_run(url: str, sheet: Path, out: Path, concurrency: int) -> tuple[float, float, float]:
    """(rows/s from the run's summary, wall rows/s incl. start-up, CPU µs/row incl. start-up)."""
    env = {**os.environ, "MAILREACH_API_KEY": KEY, "MAILREACH_API_URL": url}
    cmd = [sys.executable, "-m", "bulk_onboard", "run", str(sheet), "--out", str(out),
           "--rate", "0", "--concurrency", str(concurrency), "--no-progress"]  # fmt: skip
    t0, c0 = time.perf_counter(), children_cpu_s()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall, cpu = time.perf_counter() - t0, children_cpu_s() - c0
    if done.returncode != 0:
        raise SystemExit(f"run failed ({done.returncode}): {done.stderr[-2000:]}")
    summary = json.loads((out / "latest" / "summary.json").read_text())
    assert summary["succeeded"] == summary["rows_total"]
    rows = summary["rows_total"]
    return float(summary["rows_per_s"]), rows / wall, cpu / rows * 1e6


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
        bare, tool, wall, bare_cpu, tool_cpu = [], [], [], [], []
        for _ in range(args.repeats):
            rate, cpu = asyncio.run(bare_loop(url, bodies, args.concurrency))
            bare.append(rate)
            bare_cpu.append(cpu)
            rate, wall_rate, cpu = tool_run(url, sheet, work / "out", args.concurrency)
            tool.append(rate)
            wall.append(wall_rate)
            tool_cpu.append(cpu)
        b, t, w = statistics.median(bare), statistics.median(tool), statistics.median(wall)
        print(f"rows={args.rows} repeats={args.repeats} concurrency={args.concurrency}")
        print(f"bare aiohttp loop     median {b:8.0f} rows/s   runs {[round(x) for x in bare]}")
        print(f"bulk-onboard run      median {t:8.0f} rows/s   runs {[round(x) for x in tool]}")
        print(f"  (whole command incl. Python start-up: median {w:.0f} rows/s)")
        print(f"ratio run / bare      {t / b:.3f}")
        print(
            f"client CPU per row: bare {statistics.median(bare_cpu):.0f} µs, "
            f"run {statistics.median(tool_cpu):.0f} µs (incl. interpreter start-up)"
        )
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
