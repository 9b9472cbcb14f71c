"""The `check` command: the local preflight of every row, and no API call. Like `validate`, it
writes a run folder: succeeded.csv (rows that passed, with their domain's DNS columns and the
servers checked), failed.csv (`stage` = preflight, or input/validation/duplicate), unprocessed.csv.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import dataclasses
import io
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bulk_onboard.base import outcomes
from bulk_onboard.base.atomic import atomic_writer
from bulk_onboard.base.outcomes import Outcome, Status
from bulk_onboard.base.printable import argv_shown
from bulk_onboard.base.version import __version__
from bulk_onboard.engine.journal import Journal
from bulk_onboard.engine.progress import Progress
from bulk_onboard.engine.stopping import StopControl, signals_handled
from bulk_onboard.errors import ExitCode
from bulk_onboard.preflight.probe import Prober
from bulk_onboard.preflight.row_check import CHECK_COLUMNS, RowPreflight
from bulk_onboard.preflight.settings import PreflightSettings
from bulk_onboard.reports.csv_reports import (
    SUCCEEDED_COLUMNS,
    escape_cell,
    write_json,
    write_reports,
)
from bulk_onboard.rows.normalise import NormalisedRow, NormaliseOptions, normalise
from bulk_onboard.rows.screening import Screen
from bulk_onboard.runs.create import create_run_dir
from bulk_onboard.settings import ReadOptions
from bulk_onboard.sheet.columns import ColumnMap
from bulk_onboard.sheet.reader import open_table
from bulk_onboard.sheet.table import RawRow, Table

log = logging.getLogger("bulk_onboard")
SUCCEEDED_CHECK_COLUMNS = (*SUCCEEDED_COLUMNS, *CHECK_COLUMNS)


@dataclasses.dataclass(frozen=True, slots=True)
class CheckJob:
    input: str
    out: Path
    read: ReadOptions
    preflight: PreflightSettings
    default_provider: str | None = None
    progress_bar: bool = False
    progress_lines: bool = True


def _open(job: CheckJob, stdin_bytes: bytes | None) -> Table:
    r = job.read
    stdin = None if stdin_bytes is None else io.BytesIO(stdin_bytes)
    return open_table(
        job.input, sheet=r.sheet, encoding=r.encoding, delimiter=r.delimiter, stdin=stdin
    )


def _rows(table: Table) -> Iterator[RawRow]:
    for chunk in table.chunks:
        yield from chunk


class _Checker:
    """A producer screening rows into a bounded queue; `concurrency` workers checking them."""

    def __init__(
        self,
        rows: Iterator[RawRow],
        columns: ColumnMap,
        options: NormaliseOptions,
        preflight: RowPreflight,
        record: Callable[[Outcome], None],
        concurrency: int,
    ) -> None:
        self._rows = rows
        self._columns = columns
        self._options = options
        self._preflight = preflight
        self._record = record
        self._concurrency = concurrency
        self._queue: asyncio.Queue[NormalisedRow | None] = asyncio.Queue(concurrency * 2)
        self._pending: dict[int, str] = {}  # row -> email: read, not settled
        self._screen = Screen()

    def _settle(self, outcome: Outcome) -> None:
        self._pending.pop(outcome.row, None)
        self._record(outcome)

    async def run(self, stop: StopControl) -> None:
        """Check every row; on a stop request, leave at once and report the rest unprocessed."""
        work = asyncio.create_task(self._work())
        stopped = asyncio.create_task(stop.requested.wait())
        try:
            await asyncio.wait({work, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (work, stopped):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await work
            for row, email in list(self._pending.items()):
                self._settle(outcomes.unprocessed(row, email, stop.reason))
            for raw in self._rows:
                item = normalise(raw, self._columns, self._options)
                self._settle(outcomes.unprocessed(item.row, item.email, stop.reason))

    async def _work(self) -> None:
        async with asyncio.TaskGroup() as group:
            for _ in range(self._concurrency):
                group.create_task(self._worker())
            await self._produce()

    async def _produce(self) -> None:
        for raw in self._rows:
            item = normalise(raw, self._columns, self._options)
            self._pending[item.row] = item.email
            adopted = self._preflight.adopt(raw, item)
            screened = dataclasses.replace(item, problems=()) if adopted else item
            if outcome := self._screen.reject(screened):
                self._settle(outcome)
                continue
            await self._queue.put(item)
        for _ in range(self._concurrency):
            await self._queue.put(None)

    async def _worker(self) -> None:
        while (item := await self._queue.get()) is not None:
            self._settle(await self._preflight.verdict(item))


async def check_job(
    job: CheckJob, argv: Sequence[str], stdin_bytes: bytes | None = None
) -> tuple[ExitCode, Path]:
    """Preflight every row into a new run folder; 0 if every row passed."""
    started_at = datetime.now(UTC)
    t0 = time.monotonic()
    first = _open(job, stdin_bytes)
    columns = ColumnMap.from_headers(first.headers)
    total = sum(len(chunk) for chunk in first.chunks)
    table = _open(job, stdin_bytes)
    for warning in table.source.warnings:
        log.warning("%s", warning)
    if columns.ignored:
        log.info("Columns kept but not used: %s.", columns.ignored_shown())
    run_dir = create_run_dir(job.out, job.input)
    log.info("%d rows to check; reports go to %s", total, run_dir)
    manifest = {
        "version": __version__,
        "command": "check",
        "command_line": argv_shown(argv),
        "options": {"preflight": job.preflight.describe(), "provider": job.default_provider},
        "input": {"path": job.input, "sha256": table.source.sha256},
        "columns": [{"header": h, "field": f} for h, f in columns.describe()],
        "ignored_columns": list(columns.ignored),
    }
    write_json(run_dir / "manifest.json", manifest)
    journal = Journal(run_dir)
    progress = Progress(total, bar=job.progress_bar, lines=job.progress_lines)

    def record(outcome: Outcome) -> None:
        journal.record(outcome)
        progress.advance(outcome.status)

    options = NormaliseOptions(default_provider=job.default_provider)
    stop = StopControl(in_flight="checks")
    try:
        async with Prober(job.preflight) as prober:
            preflight = RowPreflight(
                prober, columns, options, concurrency=job.preflight.concurrency
            )
            checker = _Checker(
                _rows(table), columns, options, preflight, record, job.preflight.concurrency
            )
            with signals_handled(stop):
                await checker.run(stop)
    finally:
        progress.close()
        code = _finish(journal, run_dir, columns, stop)
        summary = _summary(job, run_dir, journal, started_at, time.monotonic() - t0, code)
        summary["input_sha256"] = table.source.sha256
        write_json(run_dir / "summary.json", summary)
        journal.close()
    return code, run_dir


def _finish(journal: Journal, run_dir: Path, columns: ColumnMap, stop: StopControl) -> ExitCode:
    journal.commit()
    write_reports(journal, run_dir, columns.report_headers, (Status.FAILED, Status.UNPROCESSED))
    with atomic_writer(run_dir / "succeeded.csv", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(SUCCEEDED_CHECK_COLUMNS)
        for outcome in journal.outcomes(Status.SUCCEEDED):
            values = {"row": outcome.row, "email": outcome.email, **outcome.fields}
            writer.writerow([escape_cell(values.get(c)) for c in SUCCEEDED_CHECK_COLUMNS])
    counts = journal.counts()
    if stop.exit_code is not None:
        return stop.exit_code
    all_passed = counts.get(Status.SUCCEEDED, 0) == sum(counts.values())
    return ExitCode.OK if all_passed else ExitCode.SOME_FAILED


def _summary(
    job: CheckJob,
    run_dir: Path,
    journal: Journal,
    started_at: datetime,
    duration: float,
    code: ExitCode,
) -> dict[str, Any]:
    counts = journal.counts()
    rows_total = sum(counts.values())
    summary: dict[str, Any] = {
        "run_id": run_dir.name,
        "command": "check",
        "input": job.input,
        "rows_total": rows_total,
        **{s.value: counts.get(s, 0) for s in (Status.SUCCEEDED, Status.FAILED)},
        Status.UNPROCESSED.value: counts.get(Status.UNPROCESSED, 0),
        Status.SKIPPED.value: 0,
        "started_at": started_at.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "duration_s": round(duration, 3),
        "rows_per_s": round(rows_total / duration, 2) if duration > 0 else None,
        "api_requests": 0,
        "retries": 0,
        "exit_code": int(code),
        "error_codes": dict(journal.error_codes()),
    }
    return summary
