"""The `run` command: read, normalise, validate, submit, report — one run folder per call."""

from __future__ import annotations

import io
import logging
import os
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bulk_onboard import __version__
from bulk_onboard.client import ApiClient
from bulk_onboard.columns import ColumnMap
from bulk_onboard.errors import ExitCode
from bulk_onboard.journal import Journal
from bulk_onboard.normalise import NormaliseOptions
from bulk_onboard.outcomes import Outcome, Status, Unprocessed
from bulk_onboard.pipeline import Pool
from bulk_onboard.progress import Progress
from bulk_onboard.reader import open_table
from bulk_onboard.reports import write_json, write_reports
from bulk_onboard.retry_rules import Action
from bulk_onboard.rows import RawRow, SourceInfo, Table
from bulk_onboard.rundir import create_run_dir
from bulk_onboard.settings import RunSettings
from bulk_onboard.stopping import StopControl, signals_handled
from bulk_onboard.submit import RetryPolicy, Submitter
from bulk_onboard.throttle import Throttle

log = logging.getLogger("bulk_onboard")
PING_PATH = "/v1/ping"


def count_rows(settings: RunSettings, stdin_bytes: bytes | None) -> tuple[int, Table]:
    """Read the whole input once: structural errors surface before anything is sent."""
    table = _open(settings, stdin_bytes)
    total = sum(len(chunk) for chunk in table.chunks)
    return total, table


def _open(settings: RunSettings, stdin_bytes: bytes | None) -> Table:
    stdin = io.BytesIO(stdin_bytes) if stdin_bytes is not None else None
    r = settings.read
    return open_table(
        settings.input, sheet=r.sheet, encoding=r.encoding, delimiter=r.delimiter, stdin=stdin
    )


def _flatten(table: Table) -> Iterator[RawRow]:
    for chunk in table.chunks:
        yield from chunk


async def run_job(
    settings: RunSettings, argv: Sequence[str], stdin_bytes: bytes | None = None
) -> tuple[ExitCode, Path]:
    """Run the main job; returns the exit code and the run folder."""
    started_at = datetime.now(UTC)
    t0 = time.monotonic()
    total, first = count_rows(settings, stdin_bytes)
    columns = ColumnMap.from_headers(first.headers)
    table = _open(settings, stdin_bytes)
    run_dir = create_run_dir(settings.out, settings.input)
    _log_source(table.source, columns, total, run_dir)
    write_json(run_dir / "manifest.json", _manifest(settings, argv, table.source, columns))

    journal = Journal(run_dir)
    progress = Progress(total, bar=settings.progress_bar)

    def record(outcome: Outcome) -> None:
        journal.record(outcome)
        progress.advance(outcome.status)

    stop = StopControl()
    throttle = Throttle(settings.rate)
    policy = RetryPolicy(settings.max_attempts, settings.backoff_base_s)
    api_requests = retries = 0
    try:
        async with ApiClient(settings.api) as client:
            submitter = Submitter(client, throttle, policy, stop.requested, rng=random.Random())
            pool = Pool(
                _flatten(table),
                columns,
                NormaliseOptions(default_provider=settings.default_provider, test=settings.dry_run),
                submitter,
                stop,
                record,
                concurrency=settings.api.concurrency,
                unreachable_rows=settings.unreachable_rows,
            )
            with signals_handled(stop):
                await _check_key(submitter, stop)
                await pool.run(settings.grace_s)
            api_requests, retries = client.requests, pool.stats.retries
    finally:
        progress.close()
        journal.commit()
        write_reports(journal, run_dir, columns.report_headers)
        counts = dict(journal.counts())
        exit_code = stop.exit_code or (
            ExitCode.OK if counts.get(Status.SUCCEEDED, 0) == total else ExitCode.SOME_FAILED
        )
        finished_at = datetime.now(UTC)
        duration = time.monotonic() - t0
        summary: dict[str, Any] = {
            "run_id": run_dir.name,
            "command": "run",
            "input": settings.input,
            "input_sha256": table.source.sha256,
            "rows_total": total,
            **{s.value: counts.get(s, 0) for s in Status},
            "started_at": started_at.isoformat(),
            "finished_at": finished_at.isoformat(),
            "duration_s": round(duration, 3),
            "rows_per_s": round(total / duration, 2) if duration > 0 else None,
            "api_requests": api_requests,
            "retries": retries,
            "exit_code": int(exit_code),
            "error_codes": dict(journal.error_codes()),
        }
        if stop.message:
            summary["stopped"] = stop.message
        write_json(run_dir / "summary.json", summary)
        journal.close()
    return exit_code, run_dir


async def _check_key(submitter: Submitter, stop: StopControl) -> None:
    """Ping once before spending rows: a refused key or a dead API stops the run at once."""
    sub = await submitter.submit({}, PING_PATH, method="GET")
    if sub.verdict.action is Action.STOP_KEY:
        stop.request(Unprocessed.ABORTED, ExitCode.KEY_REFUSED, sub.verdict.message)
    elif sub.attempts and sub.connect_failures == sub.attempts:
        stop.request(Unprocessed.ABORTED, ExitCode.UNAVAILABLE, sub.verdict.message)
    elif sub.verdict.action is not Action.ACCEPT:
        log.info("The API's ping answered %s; carrying on.", sub.http_status or sub.verdict.code)


def _log_source(source: SourceInfo, columns: ColumnMap, total: int, run_dir: Path) -> None:
    for warning in source.warnings:
        log.warning("%s", warning)
    if columns.ignored:
        log.info("Columns kept but not used: %s.", ", ".join(columns.ignored))
    log.info("%d rows to process; reports go to %s", total, run_dir)


def _manifest(
    settings: RunSettings, argv: Sequence[str], source: SourceInfo, columns: ColumnMap
) -> dict[str, Any]:
    options = asdict(settings)
    options["out"] = str(settings.out)
    options["api"] = {
        "base_url": settings.api.base_url,
        "bearer": settings.api.bearer,
        "timeout_s": settings.api.timeout_s,
        "concurrency": settings.api.concurrency,
    }
    return {
        "version": __version__,
        "command_line": list(argv),
        "options": options,
        "input": {
            "path": settings.input,
            "absolute_path": None if settings.input == "-" else os.path.abspath(settings.input),
            "sha256": source.sha256,
            "format": source.format,
            "encoding": source.encoding,
            "delimiter": source.delimiter,
            "sheet": source.sheet,
        },
        "columns": [{"header": h, "field": f} for h, f in columns.describe()],
        "ignored_columns": list(columns.ignored),
    }
