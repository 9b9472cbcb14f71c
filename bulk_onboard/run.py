"""The `run` command: read, normalise, validate, submit, report — into a run folder.

A new run gets a new folder. `--resume DIR` finishes an interrupted run in its own folder;
`--retry-failed DIR` starts a new folder holding only the rows that failed or were unprocessed.
"""

from __future__ import annotations

import io
import logging
import os
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bulk_onboard import __version__
from bulk_onboard.client import ApiClient
from bulk_onboard.columns import ColumnMap
from bulk_onboard.errors import ExitCode, UsageError
from bulk_onboard.journal import Journal
from bulk_onboard.normalise import NormaliseOptions, normalise
from bulk_onboard.outcomes import Outcome, Status, Unprocessed
from bulk_onboard.pipeline import Pool
from bulk_onboard.previous_run import (
    Wanted,
    failed_or_unprocessed,
    load_previous,
    settled_elsewhere,
)
from bulk_onboard.progress import Progress
from bulk_onboard.reader import open_table
from bulk_onboard.reports import write_json, write_reports
from bulk_onboard.retry_rules import Action
from bulk_onboard.rows import RawRow, SourceInfo, Table
from bulk_onboard.rundir import create_run_dir, point_latest
from bulk_onboard.settings import RunSettings
from bulk_onboard.stopping import StopControl, signals_handled
from bulk_onboard.submit import RetryPolicy, Submitter
from bulk_onboard.throttle import Throttle

log = logging.getLogger("bulk_onboard")
PING_PATH = "/v1/ping"


@dataclass(frozen=True, slots=True)
class RunMode:
    resume: Path | None = None
    retry_failed: Path | None = None
    force: bool = False  # resume even though the input changed since


def _open(settings: RunSettings, stdin_bytes: bytes | None) -> Table:
    stdin = io.BytesIO(stdin_bytes) if stdin_bytes is not None else None
    r = settings.read
    return open_table(
        settings.input, sheet=r.sheet, encoding=r.encoding, delimiter=r.delimiter, stdin=stdin
    )


def _flatten(table: Table) -> Iterator[RawRow]:
    for chunk in table.chunks:
        yield from chunk


def _count(
    table: Table, columns: ColumnMap, options: NormaliseOptions, wanted: Wanted | None
) -> int:
    """Read the whole input once, so structural errors surface before anything is sent."""
    if wanted is None:
        return sum(len(chunk) for chunk in table.chunks)
    return sum(wanted(normalise(raw, columns, options)) for raw in _flatten(table))


@dataclass(slots=True)
class _Plan:
    run_dir: Path
    journal: Journal
    wanted: Wanted | None
    manifest: dict[str, Any]


def _plan(
    settings: RunSettings,
    mode: RunMode,
    source: SourceInfo,
    columns: ColumnMap,
    argv: Sequence[str],
) -> _Plan:
    fresh = _manifest(settings, argv, source, columns)
    if mode.resume is not None:
        previous = load_previous(mode.resume)
        if source.sha256 != previous.input_sha256 and not mode.force:
            raise UsageError(
                f"{settings.input} changed since the run in {mode.resume} began: pass --force "
                "to resume anyway, or start a new run."
            )
        manifest = previous.manifest
        manifest.setdefault("resumed", []).append(
            {"at": datetime.now(UTC).isoformat(), "command_line": fresh["command_line"]}
        )
        journal = Journal(previous.run_dir)
        if previous.run_dir.parent == settings.out.resolve():
            point_latest(settings.out, previous.run_dir)
        return _Plan(previous.run_dir, journal, settled_elsewhere(journal), manifest)
    wanted = None
    if mode.retry_failed is not None:
        previous = load_previous(mode.retry_failed)
        old = Journal(previous.run_dir)
        wanted = failed_or_unprocessed(old)
        old.close()
        fresh["retry_of"] = str(previous.run_dir)
    run_dir = create_run_dir(settings.out, settings.input)
    return _Plan(run_dir, Journal(run_dir), wanted, fresh)


async def run_job(
    settings: RunSettings,
    argv: Sequence[str],
    stdin_bytes: bytes | None = None,
    mode: RunMode = RunMode(),
) -> tuple[ExitCode, Path]:
    """Run the main job; returns the exit code and the run folder."""
    started_at = datetime.now(UTC)
    t0 = time.monotonic()
    options = NormaliseOptions(default_provider=settings.default_provider, test=settings.dry_run)
    first = _open(settings, stdin_bytes)
    columns = ColumnMap.from_headers(first.headers)
    plan = _plan(settings, mode, first.source, columns, argv)
    journal = plan.journal
    total = _count(first, columns, options, plan.wanted)
    table = _open(settings, stdin_bytes)
    _log_source(table.source, columns, total, plan.run_dir)
    write_json(plan.run_dir / "manifest.json", plan.manifest)

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
                options,
                submitter,
                stop,
                record,
                concurrency=settings.api.concurrency,
                unreachable_rows=settings.unreachable_rows,
                wanted=plan.wanted,
            )
            try:
                with signals_handled(stop):
                    if total:
                        await _check_key(submitter, stop)
                    await pool.run(settings.grace_s)
            finally:
                api_requests, retries = client.requests, pool.stats.retries
    finally:
        progress.close()
        summary = _finish(
            plan, columns, stop, settings, started_at, time.monotonic() - t0, progress.answered
        )
        summary |= {"api_requests": api_requests, "retries": retries}
        write_json(plan.run_dir / "summary.json", summary)
    return ExitCode(summary["exit_code"]), plan.run_dir


def _finish(
    plan: _Plan,
    columns: ColumnMap,
    stop: StopControl,
    settings: RunSettings,
    started_at: datetime,
    duration: float,
    processed: int,
) -> dict[str, Any]:
    """Commit the journal, rebuild the reports from it, and return the summary."""
    journal = plan.journal
    journal.commit()
    write_reports(journal, plan.run_dir, columns.report_headers)
    counts = journal.counts()
    rows_total = sum(counts.values())
    exit_code = stop.exit_code or (
        ExitCode.OK if counts.get(Status.SUCCEEDED, 0) == rows_total else ExitCode.SOME_FAILED
    )
    summary: dict[str, Any] = {
        "run_id": plan.run_dir.name,
        "command": "run",
        "input": settings.input,
        "input_sha256": plan.manifest.get("input", {}).get("sha256"),
        "rows_total": rows_total,
        **{s.value: counts.get(s, 0) for s in (Status.SUCCEEDED, Status.FAILED)},
        Status.UNPROCESSED.value: counts.get(Status.UNPROCESSED, 0),
        Status.SKIPPED.value: counts.get(Status.SKIPPED, 0),
        "started_at": started_at.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "duration_s": round(duration, 3),
        "rows_per_s": round(processed / duration, 2) if duration > 0 else None,
        "exit_code": int(exit_code),
        "error_codes": dict(journal.error_codes()),
    }
    if stop.message:
        summary["stopped"] = stop.message
    journal.close()
    return summary


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
    if total == 0:
        log.warning("The input has no data rows to process.")
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
        "command": "run",
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
