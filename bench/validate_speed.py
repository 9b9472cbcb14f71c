"""`bulk-onboard validate` on 100,000 and 1,000,000-row CSVs: rows/s and peak RSS.

Each size is validated `--repeats` times as its own process (`python -m bulk_onboard validate`);
wall time includes interpreter start-up, and peak RSS is the child's own (bench/harness.py
`run_child`), so neither this process's peak nor another run's hides in it. Also times
`normalise` alone, in this process, over the first sheet.
`--ceiling` also times validate's job in this process with `normalise` made free: what the
rest of the pipeline allows at most.
Usage: python -m bench.validate_speed [--rows 100000 1000000] [--repeats 3] [--keep DIR] [--ceiling]
"""

from __future__ import annotations

import argparse
import csv
import gc
import os
import random
import shutil
import statistics
import string
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from bench.harness import run_child
from bulk_onboard.rows.normalise import NormalisedRow, NormaliseOptions, normalise
from bulk_onboard.sheet.columns import ColumnMap
from bulk_onboard.sheet.reader import open_table
from bulk_onboard.sheet.table import RawRow

HEADER = (
    "Email", "First Name", "Last Name", "Provider", "IMAP Host", "IMAP Port", "IMAP Password",
    "SMTP Host", "SMTP Port", "SMTP Password", "Tags",
)  # fmt: skip
_FIRST = ("ann", "ben", "chloe", "dan", "erin", "farid", "grace", "hiro", "ines", "jon")
_LAST = ("lee", "martin", "okafor", "novak", "smith", "garcia", "kim", "rossi", "dubois", "ng")


def _app_password(rng: random.Random) -> str:
    return " ".join("".join(rng.choices(string.ascii_lowercase, k=4)) for _ in range(4))


def _row(i: int, rng: random.Random, earlier: tuple[str, ...] | None) -> tuple[str, ...]:
    """One mailbox: mostly custom hosts, some Gmail, some blanks and mistakes, as people send."""
    if earlier is not None and rng.random() < 0.01:  # the same mailbox again: a duplicate
        return earlier
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    local = f"{first}.{last}{i}"
    kind = rng.random()
    password = f"Pw-{i:07d}-{rng.randrange(10**6):06d}"
    tag = rng.choice(("", "team-a", "team-b", "warm", "=SUM(A1)"))
    if kind < 0.15:  # Gmail: hosts and ports left to the preset, app password as Google shows it
        app = _app_password(rng)
        return (f"{local}@gmail.com", first.title(), last.title(), "", "", "", app, "", "", app,
                tag)  # fmt: skip
    domain = f"{rng.choice(('acme', 'northpeak', 'zylo', 'bright'))}{i % 211}.test"
    imap_port, smtp_port = rng.choice((("993", "587"), ("993", "465"), ("993.0", "2525")))
    names = (first.title(), last.title())
    if kind < 0.20:  # names left out: derived from the email
        names = ("", "N/A")
    elif kind < 0.25:  # ports left out: the usual ones, with a note
        imap_port, smtp_port = "", ""
    elif kind < 0.27:  # a mistake: the row fails validation
        imap_port = "99a"
    elif kind < 0.28:
        local = local + " x"
    provider = "custom" if kind < 0.5 else ""
    return (f" {local}@{domain.upper() if kind > 0.95 else domain}", *names, provider,
            f"imap.{domain}", imap_port, password, f"smtp.{domain}", smtp_port, password,
            tag)  # fmt: skip


def write_realistic_sheet(path: Path, rows: int, seed: int = 6) -> Path:
    """`rows` data rows (blank spacer lines included in the count) of a realistic export."""
    rng = random.Random(seed)
    blank = ("",) * len(HEADER)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        earlier = None
        for i in range(rows):
            row = blank if i % 500 == 499 else _row(i, rng, earlier)
            writer.writerow(row)
            if i % 100 == 0:
                earlier = row
    return path


@dataclass(frozen=True, slots=True)
class Measure:
    wall_s: float
    cpu_s: float  # user + system of the validate process
    peak_rss_mb: float


def validate_once(sheet: Path, out: Path) -> Measure:
    """One `validate` process: its wall time and its own peak RSS."""
    cmd = [sys.executable, "-m", "bulk_onboard", "validate", str(sheet), "--out", str(out),
           "--no-progress"]  # fmt: skip
    child = run_child(cmd, core=0)
    if child.code not in (0, 1):
        raise SystemExit(f"validate failed ({child.code}): {child.stderr[-2000:]}")
    shutil.rmtree(out, ignore_errors=True)
    return Measure(child.wall_s, child.cpu_s, child.max_rss_mb)


def normalise_us_per_row(sheet: Path) -> float:
    """CPU µs per row of `normalise` alone, over rows already read."""
    table = open_table(str(sheet))
    columns = ColumnMap.from_headers(table.headers)
    rows = [raw for chunk in table.chunks for raw in chunk]
    options = NormaliseOptions()
    started = time.process_time()
    for raw in rows:
        normalise(raw, columns, options)
    return (time.process_time() - started) / len(rows) * 1e6


def ceiling_us_per_row(sheet: Path) -> tuple[float, float]:
    """validate's job in this process, as it is and with `normalise` made free (every row
    normalised beforehand, then looked up): µs of wall time per row, each the best of 2. The
    second is what reading, screening and writing cost alone, the floor of any normaliser."""
    import bulk_onboard.jobs.validate as job
    from bulk_onboard.settings import ReadOptions

    table = open_table(str(sheet))
    columns = ColumnMap.from_headers(table.headers)
    options = NormaliseOptions(route_workspaces=True)  # as validate normalises
    done = {raw.number: normalise(raw, columns, options) for c in table.chunks for raw in c}
    gc.freeze()  # the rows held here are not the job's: kept out of its collections

    def looked_up(raw: RawRow, _columns: ColumnMap, _options: NormaliseOptions) -> NormalisedRow:
        return done[raw.number]

    best: dict[bool, float] = {}
    for free in (False, True, False, True):
        with (
            mock.patch.object(job, "normalise", looked_up if free else normalise),
            tempfile.TemporaryDirectory() as out,
        ):
            started = time.perf_counter()
            job.validate_job(str(sheet), Path(out), ReadOptions(), None)
            took = (time.perf_counter() - started) / len(done) * 1e6
        best[free] = min(best.get(free, took), took)
    return best[False], best[True]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the sheets here and keep them")
    parser.add_argument(
        "--ceiling", action="store_true", help="also time the job with normalise made free"
    )
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-validate-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        sheets = {}
        for rows in args.rows:
            sheet = work / f"validate-{rows}.csv"
            if not sheet.exists():
                write_realistic_sheet(sheet, rows)
            sheets[rows] = sheet
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"normalise: {normalise_us_per_row(sheets[min(sheets)]):.1f} µs/row (CPU)")
        print(
            f"{'rows':>10} {'rows/s':>10} {'wall s':>8} {'CPU s':>8} {'rows/CPU s':>11}"
            f" {'peak RSS MB':>12}   runs (rows/s)"
        )
        for rows, sheet in sheets.items():
            runs = [validate_once(sheet, work / "out") for _ in range(args.repeats)]
            wall = statistics.median(m.wall_s for m in runs)
            cpu = statistics.median(m.cpu_s for m in runs)
            rss = statistics.median(m.peak_rss_mb for m in runs)
            each = [round(rows / m.wall_s) for m in runs]
            print(
                f"{rows:>10} {rows / wall:>10.0f} {wall:>8.2f} {cpu:>8.2f} {rows / cpu:>11.0f}"
                f" {rss:>12.1f}   {each}"
            )
        if args.ceiling:  # last: the rows it holds would count in the children's peak RSS
            real, free = ceiling_us_per_row(sheets[min(sheets)])
            print(
                f"validate's job in-process: {real:.1f} µs/row; with normalise free: {free:.1f}"
                f" µs/row ({1e6 / free:,.0f} rows/s at most, whatever the normaliser)"
            )
        print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
