"""The scenarios of the performance table (issue 6), each returning the figures it measures."""

from __future__ import annotations

import asyncio
import math
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.harness import ChildRun, most_in_any_second, run_child, run_tool, sandbox
from bench.sheet import write_sheet
from bulk_onboard.api.throttle import Throttle
from bulk_onboard.engine import event_loop


@dataclass
class RateResult:
    rate: float
    rows: int
    achieved: float  # mean starts per second, first to last, server timestamps
    peak: int  # most imap_auth arrivals in any 1 s window
    limiter_cpu_share: float  # extra client CPU at this rate vs unlimited, per second of run


def rate_accuracy(rate: float, seconds: float = 5.0, repeats: int = 3) -> RateResult:
    """Run `--rate R` for about `seconds`, `repeats` times; the median rate the server saw, the
    highest peak of any repeat, and the median CPU the pacing added (the job's own CPU from
    summary.json, so the rendering of results.xlsx and report.html adds no noise)."""
    rows = max(int(rate * seconds), 20)
    work = Path(tempfile.mkdtemp(prefix="bench-rate-"))
    sheet = write_sheet(work / "rate.csv", rows)
    achieved, peaks, shares = [], [], []
    with sandbox() as box:
        for _ in range(repeats):
            box.clear()
            _, limited_summary = run_tool(box.url, sheet, work / "out", "--rate", f"{rate:g}")
            times = box.imap_auth_times()
            _, free_summary = run_tool(box.url, sheet, work / "out", "--rate", "0")
            achieved.append((len(times) - 1) / (times[-1] - times[0]))
            peaks.append(most_in_any_second(times))
            extra_cpu = float(limited_summary["cpu_s"]) - float(free_summary["cpu_s"])
            shares.append(max(extra_cpu, 0.0) / float(limited_summary["duration_s"]))
    med = statistics.median
    return RateResult(rate, rows, med(achieved), max(peaks), med(shares))


def limiter_cpu(rate: float, seconds: float = 5.0, workers: int = 32) -> float:
    """The rate limiter's own CPU share of a core: `workers` tasks admitted by one Throttle at
    `rate` for `seconds`, nothing else, on the loop `run` uses (uvloop when installed)."""
    remaining = int(rate * seconds)

    async def admit_all() -> float:
        nonlocal remaining
        throttle = Throttle(rate)

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                await throttle.admit()

        cpu, wall = time.process_time(), time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for _ in range(workers):
                group.create_task(worker())
        return (time.process_time() - cpu) / (time.perf_counter() - wall)

    return event_loop.run(admit_all())


@dataclass
class LatencyResult:
    rows: int
    rows_s: list[float]
    ideal: float  # concurrency / latency
    concurrency: int
    latency_s: float

    @property
    def ratio(self) -> float:
        return statistics.median(self.rows_s) / self.ideal

    def most(self, round_trips_before: int) -> float:
        """The highest ratio a run can reach: whole rounds of `concurrency` rows (the last one
        partly empty), after `round_trips_before` requests that must be answered before the first
        row is sent. Arithmetic, not a measurement."""
        rounds = math.ceil(self.rows / self.concurrency) + round_trips_before
        return self.rows / (rounds * self.latency_s) / self.ideal


def latency_bound(
    rows: int = 1000, latency_ms: float = 250, concurrency: int = 32, repeats: int = 3
) -> LatencyResult:
    """With a slow API, throughput should be concurrency ÷ latency (Little's law)."""
    work = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    sheet = write_sheet(work / "lat.csv", rows)
    result = LatencyResult(
        rows, [], concurrency / (latency_ms / 1000), concurrency, latency_ms / 1000
    )
    for _ in range(repeats):
        # A sandbox per repeat: each run starts from no accounts, as the first did. One shared
        # sandbox would hold the earlier repeats' 1,000 accounts, and `run` lists them first
        # (10 more pages at 250 ms each) before sending a row.
        with sandbox("--latency-ms", f"{latency_ms:g}") as box:
            args = ("--rate", "0", "--concurrency", str(concurrency))
            _, summary = run_tool(box.url, sheet, work / "out", *args)
            result.rows_s.append(float(summary["rows_per_s"]))
    return result


@dataclass
class MemoryResult:
    rows: int
    max_rss_mb: float
    rows_s: float
    report: ChildRun  # `bulk-onboard report` of the run's folder, alone
    xlsx_mb: float
    html_kb: float


def run_memory(rows: int = 100_000) -> MemoryResult:
    """Peak RSS of one `run` over a big sheet against a zero-latency sandbox, then the cost of
    rendering its folder's results.xlsx and report.html again, and their sizes."""
    work = Path(tempfile.mkdtemp(prefix="bench-mem-"))
    sheet = write_sheet(work / "big.csv", rows)
    with sandbox() as box:
        child, summary = run_tool(box.url, sheet, work / "out", "--rate", "0")
    run_dir = (work / "out" / "latest").resolve()
    report = run_child([sys.executable, "-m", "bulk_onboard", "report", str(run_dir)])
    return MemoryResult(
        rows,
        child.max_rss_mb,
        float(summary["rows_per_s"]),
        report,
        (run_dir / "results.xlsx").stat().st_size / 1e6,
        (run_dir / "report.html").stat().st_size / 1e3,
    )


@dataclass
class FaultResult:
    rows: int
    clean_s: float
    faulty_s: float
    retries: int

    @property
    def ratio(self) -> float:
        return self.faulty_s / self.clean_s


def fault_overhead(rows: int = 20_000, rate: float = 200, fail_rate: float = 0.05) -> FaultResult:
    """Wall time with a share of 503s vs error-free, at the same --rate.

    Two costs are inherent: retries are requests, so they take rate slots (5 % more run time at
    a 5 % fail rate), and the last rows to fail wait out the backoff the SPEC sets (1, 2, 4, 8 s,
    plus jitter) after every other row is done: about 2-3 s however long the run. At 5,000 rows
    (25 s at 200/s) that fixed tail alone is a tenth of the run, so the run is long enough
    (100 s) for the ratio to measure the retry path rather than that one-off tail.
    """
    work = Path(tempfile.mkdtemp(prefix="bench-fault-"))
    sheet = write_sheet(work / "f.csv", rows)
    args = ("--rate", f"{rate:g}")
    with sandbox() as box:
        clean, _ = run_tool(box.url, sheet, work / "out", *args)
    with sandbox("--fail-rate", f"{fail_rate:g}", "--seed", "7") as box:
        faulty, summary = run_tool(box.url, sheet, work / "out", *args)
    assert summary["succeeded"] == rows, summary
    return FaultResult(rows, clean.wall_s, faulty.wall_s, int(summary["retries"]))


@dataclass
class StormResult:
    rows: int
    rate: float
    wall_s: float
    requests: int  # imap_auth requests the server saw

    @property
    def ratio(self) -> float:
        """Wall time over the least the rate allows for those requests."""
        return self.wall_s / (self.requests / self.rate)


def retry_storm(
    rows: int = 300, rate: float = 25, concurrency: int = 16, fail_first: int = 2
) -> StormResult:
    """Every row's first `fail_first` tries answered 503: the retries' backoffs must not hold
    workers, so the run should take about (fail_first + 1) x rows / rate."""
    work = Path(tempfile.mkdtemp(prefix="bench-storm-"))
    sheet = write_sheet(work / "storm.csv", rows)
    args = ("--rate", f"{rate:g}", "--concurrency", str(concurrency))
    with sandbox("--fail-first", str(fail_first)) as box:
        child, summary = run_tool(box.url, sheet, work / "out", *args)
        requests = len(box.imap_auth_times())
    assert summary["succeeded"] == rows, summary
    return StormResult(rows, rate, child.wall_s, requests)
