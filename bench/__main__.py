"""The benchmark suite: `python -m bench` measures every row of the performance table.

Writes bench/RESULTS.md (machine, versions, command, figures, target met or missed).
`python -m bench --quick` runs every scenario at a tiny size and asserts nothing (CI keeps it from
rotting); it writes no results file.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from bench.compare import compare
from bench.fixed_cost import end_to_end, start_up
from bench.scenarios import (
    fault_overhead,
    latency_bound,
    limiter_cpu,
    rate_accuracy,
    retry_storm,
    run_memory,
)
from bench.validate_speed import validate_once, write_realistic_sheet

RESULTS = Path(__file__).parent / "RESULTS.md"
LOAD_AT_START = " ".join(f"{x:.2f}" for x in os.getloadavg())


def _mark(ok: bool) -> str:
    return "met" if ok else "**missed**"


def measure(quick: bool) -> list[tuple[str, str, str, str, str]]:
    """Rows of (scenario, measure, target, result, verdict)."""
    rows: list[tuple[str, str, str, str, str]] = []
    med = statistics.median
    n = 200 if quick else 5000
    reps = 1 if quick else 3
    small = start_up(1 if quick else 5)
    rows += [
        ("`bulk-onboard --help`", "wall time (median)", "<= 0.3 s", f"{small.help_s:.2f} s",
         _mark(small.help_s <= 0.3)),
        ("12-row `validate` (samples/mailboxes.csv)", "wall time with every report (median)",
         "<= 1.0 s", f"{small.validate_s:.2f} s", _mark(small.validate_s <= 1.0)),
        ("12-row `run --sandbox --rate 0`", "wall time with every report (median)", "<= 1.5 s",
         f"{small.run_s:.2f} s", _mark(small.run_s <= 1.5)),
    ]  # fmt: skip
    e2e = end_to_end(100 if quick else 3000, reps)
    rows.append(
        (
            f"zero-latency sandbox, {e2e.rows:,} rows, --rate 0, end to end",
            "wall of a bare aiohttp process (same loop) ÷ wall of `run`, start-up and every"
            " report counted",
            ">= 0.80",
            f"{e2e.ratio:.2f} (bare {med(e2e.bare_s):.2f} s, run {med(e2e.run_s):.2f} s)",
            _mark(e2e.ratio >= 0.80),
        )
    )
    c = compare(n, reps)
    rows.append(
        (
            f"zero-latency sandbox, {n:,} rows, --rate unlimited",
            "rows/s of run ÷ requests/s of a bare aiohttp loop",
            ">= 0.90",
            f"{c.ratio:.3f} (run {med(c.run_rows_s):.0f}/s, bare {med(c.bare_rows_s):.0f}/s)",
            _mark(c.ratio >= 0.9),
        )
    )
    cpu = med(c.job_cpu_us)
    rows.append(
        (
            "same",
            "client CPU per row (marginal; to the CSV reports)",
            "<= 250 µs",
            f"{cpu:.0f} µs (bare loop {med(c.bare_cpu_us):.0f} µs; "
            f"{med(c.run_cpu_us):.0f} µs with results.xlsx and report.html)",
            _mark(cpu <= 250),
        )
    )
    for rate in (20, 200, 2000):
        r = rate_accuracy(rate, 0.5 if quick else 5.0, 1 if quick else 3)
        ok = abs(r.achieved - rate) <= 0.02 * rate and r.peak <= rate + 1
        rows.append(
            (
                f"--rate {rate} ({r.rows:,} rows)",
                "achieved mean rate (median); peak in any 1 s window (server timestamps; max)",
                "within 2 %; peak <= rate + 1",
                f"{r.achieved:.1f}/s; peak {r.peak}",
                _mark(ok),
            )
        )
        if rate == 2000:
            own = med(limiter_cpu(rate, 0.5 if quick else 5.0) for _ in range(reps)) * 100
            extra = r.limiter_cpu_share * 100
            rows.append(
                (
                    "--rate 2000",
                    "CPU used by the rate limiter: alone (32 tasks, same loop); in a run, the"
                    " job's CPU at 2000/s minus unlimited, per s",
                    "<= 10 % of a core, both",
                    f"{own:.1f} % alone; {extra:.1f} % in a run (one transaction and one"
                    " loop turn per request when requests don't batch)",
                    _mark(own <= 10 and extra <= 10),
                )
            )
    lat = latency_bound(64 if quick else 1000, repeats=reps)
    rows.append(
        (
            f"250 ms latency, --concurrency 32, {lat.rows:,} rows",
            "rows/s ÷ (concurrency ÷ latency)",
            ">= 0.95",
            f"{lat.ratio:.3f} ({med(lat.rows_s):.1f} of {lat.ideal:.0f} rows/s; at most"
            f" {lat.most(2):.3f} after the key check and the listing, {lat.most(1):.3f} after"
            " one request, by arithmetic)",
            _mark(lat.ratio >= 0.95),
        )
    )
    work = Path(tempfile.mkdtemp(prefix="bench-suite-"))
    try:
        sizes = (500, 1_000) if quick else (100_000, 1_000_000)
        measured = []
        for size in sizes:
            sheet = write_realistic_sheet(work / f"v{size}.csv", size)
            runs = [validate_once(sheet, work / "out") for _ in range(reps)]
            measured.append((size, med(m.wall_s for m in runs), med(m.peak_rss_mb for m in runs)))
            sheet.unlink()
        for size, wall, rss in measured:
            speed = size / wall
            rows.append(
                (
                    f"{size:,}-row CSV, validate",
                    "rows/s; peak RSS",
                    ">= 50,000 rows/s; <= 150 MB, same for both sizes",
                    f"{speed:,.0f} rows/s; {rss:.0f} MB",
                    _mark(speed >= 50_000 and rss <= 150),
                )
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    mem = run_memory(500 if quick else 100_000)
    rows.append(
        (
            f"{mem.rows:,} rows, run against the sandbox",
            "peak RSS",
            "<= 150 MB",
            f"{mem.max_rss_mb:.0f} MB ({mem.rows_s:.0f} rows/s)",
            _mark(mem.max_rss_mb <= 150),
        )
    )
    rows.append(
        (
            f"{mem.rows:,}-row run folder, `bulk-onboard report` (issue 7)",
            "time and peak RSS to render results.xlsx + report.html; their sizes",
            "<= 5 s; report.html < 5 MB",
            f"{mem.report.wall_s:.1f} s, {mem.report.max_rss_mb:.0f} MB; "
            f"xlsx {mem.xlsx_mb:.1f} MB, html {mem.html_kb:.0f} KB",
            _mark(mem.report.wall_s <= 5 and mem.html_kb < 5_000),
        )
    )
    per_row_ms = max(mem.report.wall_s - small.report_s, 0.0) / mem.rows * 1000
    rows.append(
        (
            "rendering results.xlsx + report.html",
            "fixed cost (`report` of the 12-row run folder); cost per row (the"
            f" {mem.rows:,}-row folder less the fixed cost)",
            "<= 0.3 s; <= 0.2 ms per row",
            f"{small.report_s:.2f} s; {per_row_ms:.3f} ms per row",
            _mark(small.report_s <= 0.3 and per_row_ms <= 0.2),
        )
    )
    f = fault_overhead(100 if quick else 20_000)
    rows.append(
        (
            f"5 % of requests answered 503, --rate 200, {f.rows:,} rows",
            "wall time ÷ the error-free run at the same --rate",
            "<= 1.10",
            f"{f.ratio:.3f} ({f.faulty_s:.1f} s vs {f.clean_s:.1f} s, {f.retries} retries)",
            _mark(f.ratio <= 1.10),
        )
    )
    storm = retry_storm(30 if quick else 300)
    rows.append(
        (
            f"503 to every row's first 2 tries, --rate 25 --concurrency 16, {storm.rows:,} rows",
            "wall time ÷ (imap_auth requests ÷ rate)",
            "<= 1.2",
            f"{storm.ratio:.3f} ({storm.wall_s:.1f} s for {storm.requests} requests;"
            f" the rate allows {storm.requests / storm.rate:.1f} s)",
            _mark(storm.ratio <= 1.2),
        )
    )
    return rows


def render(rows: list[tuple[str, str, str, str, str]], command: str) -> str:
    versions = ", ".join(f"{p} {version(p)}" for p in ("aiohttp", "pandas", "pydantic", "orjson"))
    lines = [
        "# Benchmark results",
        "",
        f"- when: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        f"- Python {platform.python_version()}; {versions}",
        f"- load average at the start: {LOAD_AT_START}",
        f"- load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"- command: `{command}`",
        "- the sandbox runs as its own process pinned to the last core, the client on the first;",
        "  figures are medians of the repeats; CPU and peak RSS are each child's own",
        "  (bench/own_usage.py starts it).",
        "",
        "| scenario | measure | target | result | |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="tiny sizes; no results file")
    args = parser.parse_args()
    rows = measure(args.quick)
    text = render(rows, "python -m bench" + (" --quick" if args.quick else ""))
    print(text)
    if not args.quick:
        RESULTS.write_text(text, encoding="utf-8")
        print(f"written to {RESULTS}", file=sys.stderr)


if __name__ == "__main__":
    main()
