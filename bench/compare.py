"""`bulk-onboard run` vs a bare aiohttp loop posting the same bodies to the same sandbox.

The sandbox runs in its own process on the last core, both clients on the first, with the same
concurrency, no rate limit and the same event loop (uvloop when installed, as `run` uses).
Usage: python -m bench.compare [--rows 5000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.harness import KEY, run_tool, sandbox
from bench.sheet import write_sheet
from bulk_onboard.engine import event_loop
from bulk_onboard.rows.normalise import NormaliseOptions, normalise
from bulk_onboard.sheet.columns import ColumnMap
from bulk_onboard.sheet.reader import open_table


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
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers={"X-Api-Key": KEY}) as session:

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


@dataclass
class Comparison:
    rows: int
    bare_rows_s: list[float]
    run_rows_s: list[float]
    bare_cpu_us: list[float]
    run_cpu_us: list[float]  # the whole command, the workbook and HTML report included
    job_cpu_us: list[float]  # up to the CSV reports: reading, submitting, journal, CSVs

    @property
    def ratio(self) -> float:
        return statistics.median(self.run_rows_s) / statistics.median(self.bare_rows_s)


def compare(rows: int, repeats: int, concurrency: int = 32) -> Comparison:
    """Alternate bare loop and tool runs against one zero-latency sandbox; medians of each."""
    os.sched_setaffinity(0, {0})  # the bare loop runs in this process: same core as the tool
    work = Path(tempfile.mkdtemp(prefix="bench-compare-"))
    sheet = write_sheet(work / "bench.csv", rows)
    small = write_sheet(work / "small.csv", 100)
    bodies = bodies_of(sheet)
    result = Comparison(rows, [], [], [], [], [])
    args = ("--rate", "0", "--concurrency", str(concurrency))
    for _ in range(repeats):
        # Each run against a sandbox of its own that holds no account yet: in a shared one
        # `run` would first list, then update, the accounts the run before had created.
        with sandbox() as box:
            rate, cpu = event_loop.run(bare_loop(box.url, bodies, concurrency))
        result.bare_rows_s.append(rate)
        result.bare_cpu_us.append(cpu)
        with sandbox() as box:
            child, summary = run_tool(box.url, sheet, work / "out", *args)
        with sandbox() as box:
            base, base_summary = run_tool(box.url, small, work / "out", *args)
        result.run_rows_s.append(float(summary["rows_per_s"]))
        # Marginal CPU per row: the big run minus a 100-row run (start-up, imports).
        result.run_cpu_us.append((child.cpu_s - base.cpu_s) / (rows - 100) * 1e6)
        job_cpu_s = float(summary["cpu_s"]) - float(base_summary["cpu_s"])
        result.job_cpu_us.append(job_cpu_s / (rows - 100) * 1e6)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    c = compare(args.rows, args.repeats, args.concurrency)
    med = statistics.median
    print(f"rows={c.rows} repeats={args.repeats} concurrency={args.concurrency}")
    for name, rate, cpu in (
        ("bare aiohttp loop", c.bare_rows_s, c.bare_cpu_us),
        ("bulk-onboard run", c.run_rows_s, c.job_cpu_us),
    ):
        print(f"{name:<18} median {med(rate):7.0f} rows/s  {med(cpu):5.0f} µs CPU/row")
    print(f"{'':<18} {'':>21}  {med(c.run_cpu_us):5.0f} µs CPU/row with xlsx + html")
    print(f"ratio run / bare   {c.ratio:.3f}")


if __name__ == "__main__":
    main()
