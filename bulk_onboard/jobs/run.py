"""The `run` command: read, normalise, validate, submit, report — into a run folder.

A new run gets a new folder. `--resume DIR` finishes an interrupted run in its own folder;
`--retry-failed DIR` starts a new folder holding only the rows that failed or were unprocessed.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bulk_onboard.api.account_ids import AccountIds
from bulk_onboard.api.client import ApiClient
from bulk_onboard.api.config import ApiConfig
from bulk_onboard.api.key_check import ping_stop
from bulk_onboard.api.listing import Listing, ListingFailed, list_accounts
from bulk_onboard.api.paths import PING_PATH
from bulk_onboard.api.resend import Resend
from bulk_onboard.api.retry_rules import Action
from bulk_onboard.api.submit import RetryPolicy, Submitter
from bulk_onboard.api.throttle import Throttle
from bulk_onboard.base.outcomes import Outcome, Status, Unprocessed
from bulk_onboard.base.printable import argv_shown, url_shown
from bulk_onboard.base.version import __version__
from bulk_onboard.engine.after_connect import AfterConnect, Connected
from bulk_onboard.engine.journal import Journal, Rekeyed
from bulk_onboard.engine.pool import Pool, RowCheck
from bulk_onboard.engine.progress import Progress
from bulk_onboard.engine.stopping import StopControl, signals_handled
from bulk_onboard.engine.workspace_batches import Pending, WorkspaceBatches
from bulk_onboard.errors import ExitCode, UsageError
from bulk_onboard.reports.csv_reports import write_json, write_reports
from bulk_onboard.rows.normalise import NormalisedRow, NormaliseOptions, normalise
from bulk_onboard.rows.workspace_route import WORKSPACE_FIELD
from bulk_onboard.runs.create import create_run_dir, point_latest
from bulk_onboard.runs.previous import (
    PreviousRun,
    Wanted,
    connected_earlier,
    failed_or_unprocessed,
    load_previous,
    sent_to_workspaces,
    settled_elsewhere,
)
from bulk_onboard.settings import RunSettings
from bulk_onboard.sheet.columns import ColumnMap
from bulk_onboard.sheet.reader import open_table
from bulk_onboard.sheet.table import RawRow, SourceInfo, Table

if TYPE_CHECKING:
    from bulk_onboard.preflight.settings import PreflightSettings

log = logging.getLogger("bulk_onboard")
INCOMPLETE_CODES = ("steps_pending", "settings_failed", "tags_failed", "unknown_tag")


@dataclass(frozen=True, slots=True)
class RunMode:
    resume: Path | None = None
    retry_failed: Path | None = None
    force: bool = False  # resume even though the input changed since


def open_input(settings: RunSettings, stdin_bytes: bytes | None) -> Table:
    """Open the run's input with its reading options (stdin from bytes read once)."""
    stdin = io.BytesIO(stdin_bytes) if stdin_bytes is not None else None
    r = settings.read
    return open_table(
        settings.input, sheet=r.sheet, encoding=r.encoding, delimiter=r.delimiter, stdin=stdin
    )


def rows_of(table: Table) -> Iterator[RawRow]:
    """Every row of a table, chunk after chunk."""
    for chunk in table.chunks:
        yield from chunk


def _count(
    table: Table,
    columns: ColumnMap,
    options: NormaliseOptions,
    wanted: Wanted | None,
    routes: Counter[tuple[int, str]],
) -> int:
    """Read the whole input once, so structural errors surface before anything is sent; count
    the rows going to each email workspace, and why, into `routes`."""
    if wanted is None and not options.workspaces and WORKSPACE_FIELD not in columns.index:
        return sum(len(chunk) for chunk in table.chunks)
    total = 0
    for raw in rows_of(table):
        item = normalise(raw, columns, options)
        if wanted is None or wanted(item):
            total += 1
            if item.workspace is not None:
                routes[item.workspace, item.workspace_why] += 1
    return total


@dataclass(slots=True)
class _Plan:
    """Where a run writes and which rows it takes; the folder is made only once the input read."""

    manifest: dict[str, Any]
    wanted: Wanted | None = None
    resume_dir: Path | None = None  # --resume: the existing folder
    run_dir: Path = Path()
    journal: Journal | None = None
    # Rows connected by the run resumed or retried whose settings/tags are still to be sent.
    earlier: dict[str, Connected] = field(default_factory=dict)
    # Rows sent in an email workspace batch whose outcome the run resumed or retried never saw.
    batched: dict[str, Pending] = field(default_factory=dict)

    def open(self, settings: RunSettings) -> Journal:
        """Create (or reopen) the run folder and its journal; point OUT/latest at it."""
        if self.resume_dir is None:
            self.run_dir = create_run_dir(settings.out, settings.input)
            self.journal = Journal(self.run_dir)
        else:
            self.run_dir = self.resume_dir
            if self.run_dir.parent == settings.out.resolve():
                point_latest(settings.out, self.run_dir)
        assert self.journal is not None
        return self.journal


def _plan(
    settings: RunSettings,
    mode: RunMode,
    source: SourceInfo,
    columns: ColumnMap,
    argv: Sequence[str],
    sheet_emails: Callable[[], dict[int, str]],
) -> _Plan:
    fresh = _manifest(settings, argv, source, columns)
    if mode.resume is not None:
        previous = load_previous(mode.resume)
        if source.sha256 != previous.input_sha256:
            _refuse_another_input(settings.input, previous)
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
        if source.sha256 != previous.input_sha256:
            _log_rekeyed(journal.rekey(sheet_emails()))
        wanted = settled_elsewhere(journal)
        earlier, batched = connected_earlier(journal), sent_to_workspaces(journal)
        if retry_of := manifest.get("retry_of"):
            # Resuming a --retry-failed run: its rows are still only those of the first run.
            retry_wanted, retry_earlier, retry_batched = _retried(Path(retry_of))
            wanted = _both(wanted, retry_wanted)
            earlier, batched = retry_earlier | earlier, retry_batched | batched
        return _Plan(
            manifest, wanted, previous.run_dir, journal=journal, earlier=earlier, batched=batched
        )
    if mode.retry_failed is not None:
        previous = load_previous(mode.retry_failed)
        fresh["retry_of"] = str(previous.run_dir)
        wanted, earlier, batched = _retried(previous.run_dir)
        return _Plan(fresh, wanted, earlier=earlier, batched=batched)
    return _Plan(fresh)


def _refuse_another_input(input_path: str, previous: PreviousRun) -> None:
    """A resumed run reads the file its run read: another file, with other contents, would
    take every settled row out of the reports (--force is for an edited file, not this)."""
    earlier = previous.manifest.get("input", {}).get("absolute_path")
    if not earlier or input_path == "-":
        return
    if os.path.realpath(input_path) != os.path.realpath(earlier):
        raise UsageError(
            f"The run in {previous.run_dir} was made from {earlier}, not {input_path}: leave "
            "INPUT out to resume it from its own file, or start a new run for this one."
        )


def _log_rekeyed(rekeyed: Rekeyed) -> None:
    if rekeyed.moved:
        log.warning(
            "The input changed since: %d settled rows are on other row numbers now; their "
            "reports follow them.",
            rekeyed.moved,
        )
    if rekeyed.gone:
        log.warning(
            "The input changed since: %d settled rows are no longer in it and leave the reports%s.",
            rekeyed.gone,
            f" ({rekeyed.gone_connected} of them connected: their MailReach accounts stay)"
            if rekeyed.gone_connected
            else "",
        )


def _retried(run_dir: Path) -> tuple[Wanted, dict[str, Connected], dict[str, Pending]]:
    """What a --retry-failed run takes from the run it retries, read in one opening of its
    journal: the rows to take again, the rows connected whose steps are still to be sent, and
    the rows sent in an email workspace batch whose outcome it never saw."""
    old = Journal(run_dir)
    try:
        return failed_or_unprocessed(old), connected_earlier(old), sent_to_workspaces(old)
    finally:
        old.close()


def _both(first: Wanted, second: Wanted) -> Wanted:
    return lambda item: first(item) and second(item)


async def run_job(
    settings: RunSettings,
    argv: Sequence[str],
    stdin_bytes: bytes | None = None,
    mode: RunMode = RunMode(),
    preflight: PreflightSettings | None = None,
) -> tuple[ExitCode, Path]:
    """Run the main job; returns the exit code and the run folder.

    With `preflight`, each row is checked locally first; rows failing it are not submitted.
    """
    started_at = datetime.now(UTC)
    t0 = time.monotonic()
    stop = StopControl()
    # Signals are ours from the very start: one arriving while the input is read still ends in
    # reports covering every row (all unprocessed), never in a bare exit.
    with signals_handled(stop):
        options = NormaliseOptions(
            default_provider=settings.default_provider,
            test=settings.dry_run,
            settings=settings.account_settings,
            route_workspaces=True,
            workspaces=settings.workspaces,
        )
        first = open_input(settings, stdin_bytes)
        columns = ColumnMap.from_headers(first.headers)

        def sheet_emails() -> dict[int, str]:
            table = open_input(settings, stdin_bytes)
            return {r.number: normalise(r, columns, options).email for r in rows_of(table)}

        plan = _plan(settings, mode, first.source, columns, argv, sheet_emails)
        # In a thread, so a signal is heard while a big sheet is read.
        routes: Counter[tuple[int, str]] = Counter()
        total = await asyncio.to_thread(_count, first, columns, options, plan.wanted, routes)
        journal = plan.open(settings)  # only now: an unreadable file leaves no folder behind
        table = open_input(settings, stdin_bytes)
        continued = mode.resume is not None or mode.retry_failed is not None
        _log_source(table.source, columns, total, plan.run_dir, continued)
        if routes:
            plan.manifest["workspace_rows"] = _log_routes(routes)
        if preflight is not None:
            plan.manifest.setdefault("options", {})["preflight"] = preflight.describe()
        write_json(plan.run_dir / "manifest.json", plan.manifest)
        progress = Progress(total, bar=settings.progress_bar, lines=settings.progress_lines)

        commit_soon = _TurnCommit(journal.commit)

        def record(outcome: Outcome) -> None:
            journal.record(outcome)
            commit_soon()
            progress.advance(outcome.status)

        def note(outcome: Outcome) -> None:
            """A row's interim record (connected, steps pending): durable at once, no progress."""
            journal.record(outcome)
            commit_soon()

        counters: dict[str, Any] = {}
        try:
            await _submit_all(
                settings,
                plan,
                table,
                columns,
                options,
                stop,
                record,
                note,
                journal.commit,
                preflight,
                counters,
                total,
                started_at,
            )
        finally:
            commit_soon.cancel()
            progress.close()
            summary = _finish(
                plan, columns, stop, settings, started_at, time.monotonic() - t0, progress.answered
            )
            summary |= counters
            write_json(plan.run_dir / "summary.json", summary)
    return ExitCode(summary["exit_code"]), plan.run_dir


class _TurnCommit:
    """Commit the journal once at the end of every event-loop turn in which rows settled.

    A row the API accepted is then durable against a crash or `kill -9` before the loop does
    anything else, so `--resume` re-sends only the requests that were in flight; the commit's
    cost is shared by all rows settled in the same turn. Commits don't fsync (WAL with
    synchronous=NORMAL): SQLite fsyncs at its checkpoints, so a power cut, not a crash, could
    lose the last few seconds.
    """

    def __init__(self, commit: Callable[[], None]) -> None:
        self._commit = commit
        self._handle: asyncio.Handle | None = None

    def __call__(self) -> None:
        if self._handle is None:
            self._handle = asyncio.get_running_loop().call_soon(self._run)

    def _run(self) -> None:
        self._handle = None
        self._commit()

    def cancel(self) -> None:
        """Drop a pending commit (the final one is made when the reports are written)."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


async def _submit_all(
    settings: RunSettings,
    plan: _Plan,
    table: Table,
    columns: ColumnMap,
    options: NormaliseOptions,
    stop: StopControl,
    record: Callable[[Outcome], None],
    note: Callable[[Outcome], None],
    commit: Callable[[], None],
    preflight: PreflightSettings | None,
    counters: dict[str, Any],
    total: int,
    started_at: datetime,
) -> None:
    """Check the key, learn the ids of existing accounts, then push every wanted row through
    the worker pool."""
    throttle = Throttle(settings.rate)
    policy = RetryPolicy(settings.max_attempts, settings.backoff_base_s)
    rng = random.Random()
    async with (
        ApiClient(settings.api) as client,
        _row_preflight(preflight, columns, options) as row_check,
    ):

        def relist() -> Awaitable[Listing]:
            return list_accounts(client, throttle, policy, stop.requested, rng)

        ids = AccountIds({}, relist)
        submitter = Submitter(client, throttle, policy, stop.requested, rng=rng, resend=Resend(ids))
        pool = Pool(
            rows_of(table),
            columns,
            options,
            submitter,
            stop,
            record,
            concurrency=settings.api.concurrency,
            unreachable_rows=settings.unreachable_rows,
            wanted=plan.wanted,
            body_for=lambda item: ids.with_id(_body(item)),
            preflight=row_check,
            started_at=started_at,
            after_connect=AfterConnect(
                submitter, ids, stop, note, plan.earlier, dry_run=settings.dry_run
            ),
            workspaces=WorkspaceBatches(submitter, ids, stop, note, commit, plan.batched),
        )
        counters["listing"] = None  # summary.json: not listed (--no-lookup, or stopped first)
        try:
            if total and not stop.requested.is_set():
                await _check_key(submitter, stop, settings.api)
            if total and settings.lookup and not stop.requested.is_set():
                counters["listing"] = await _learn_ids(ids, relist, stop)
            await pool.run(settings.grace_s)
        finally:
            counters["api_requests"] = client.requests
            counters["retries"] = pool.stats.retries
            counters["lookups"] = {"passes": ids.passes, "requests": ids.requests}


def _body(item: NormalisedRow) -> dict[str, object]:
    assert item.request is not None  # the pool submits only rows that have a request
    return item.request.to_body()


async def _learn_ids(
    ids: AccountIds, relist: Callable[[], Awaitable[Listing]], stop: StopControl
) -> dict[str, int] | None:
    """List MailReach's accounts once before any row is sent, so a mailbox that has an account
    is sent with its id (MailReach documents `id` for updates, not matching by email).

    A listing that fails stops the run as a row would (77 key refused, 69 unreachable): sending
    without it could fail every existing mailbox. Returns summary.json's `listing`.
    """
    try:
        listing = await relist()
    except ListingFailed as failed:
        if not stop.requested.is_set():
            log.error("%s", failed.message, extra={"exit_code": int(failed.exit_code)})
            stop.request(Unprocessed.ABORTED, failed.exit_code, failed.message)
        return None
    ids.learn(listing)
    log.info(
        "MailReach lists %s; mailboxes among them are sent with their id.",
        listing.counted(),
        extra={"event": "listing", "accounts": len(listing.accounts), "pages": listing.pages},
    )
    return {"accounts": len(listing.accounts), "pages": listing.pages, "requests": listing.requests}


def _row_preflight(
    settings: PreflightSettings | None, columns: ColumnMap, options: NormaliseOptions
) -> contextlib.AbstractAsyncContextManager[RowCheck | None]:
    if settings is None:
        return contextlib.nullcontext()
    # Imported only when asked for: DNS, IMAP and SMTP clients cost start-up time.
    from bulk_onboard.preflight.row_check import row_preflight

    return row_preflight(settings, columns, options)


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
    assert journal is not None
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
        # The process's CPU seconds so far (start-up included), before the workbook and HTML
        # report are rendered: what the benchmarks divide by rows.
        "cpu_s": round(time.process_time(), 3),
        "exit_code": int(exit_code),
        "error_codes": dict(journal.error_codes()),
        # A dry run sent `test: true`: MailReach tested the logins and saved nothing.
        "dry_run": settings.dry_run,
        "actions": dict(journal.actions()),
        # Connected, but settings or tags not all applied: failed at stage settings/tags, or
        # unprocessed `steps_pending` (--resume / --retry-failed send only what is missing).
        "connected_incomplete": journal.with_codes(INCOMPLETE_CODES),
    }
    if stop.message:
        summary["stopped"] = stop.message
    journal.close()
    return summary


async def _check_key(submitter: Submitter, stop: StopControl, api: ApiConfig) -> None:
    """Ping once before spending rows: what would fail every row alike stops the run at once
    (api/key_check.py says what and why), before any password is sent.

    A stop request cuts the ping short (it has no side effects): the pool then reports every
    row as interrupted.
    """
    ping = asyncio.create_task(submitter.submit({}, PING_PATH, method="GET"))
    stopped = asyncio.create_task(stop.requested.wait())
    try:
        await asyncio.wait({ping, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        if not ping.done():
            ping.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await ping
    if ping.cancelled():
        return
    sub = ping.result()
    if sub.interrupted:
        return
    if (stopping := ping_stop(sub, api)) is not None:
        log.error("%s", stopping.message, extra={"exit_code": int(stopping.exit_code)})
        stop.request(Unprocessed.ABORTED, stopping.exit_code, stopping.message)
    elif sub.verdict.action is not Action.ACCEPT:
        log.info("The API's ping answered %s; carrying on.", sub.http_status or sub.verdict.code)


def _log_source(
    source: SourceInfo, columns: ColumnMap, total: int, run_dir: Path, continued: bool
) -> None:
    """What was read, before anything is sent; `continued`: a --resume or --retry-failed."""
    for warning in source.warnings:
        log.warning("%s", warning)
    if columns.ignored:
        log.info("Columns kept but not used: %s.", columns.ignored_shown())
    if total == 0 and continued:
        log.info("Every row of the earlier run is settled already: nothing is left to send.")
    elif total == 0:
        log.warning("The input has no data rows to process.")
    log.info("%d %s to process; reports go to %s", total, _rows(total), run_dir)


def _rows(count: int) -> str:
    return "row" if count == 1 else "rows"


def _log_routes(routes: Counter[tuple[int, str]]) -> list[dict[str, Any]]:
    """Say, with the column mapping and before anything is sent, which rows go to an email
    workspace and why; manifest.json's `workspace_rows`."""
    for (workspace, why), count in sorted(routes.items()):
        log.info(
            "%d rows go to email workspace %d (%s); no password needed.", count, workspace, why
        )
    return [{"workspace": w, "why": why, "rows": n} for (w, why), n in sorted(routes.items())]


def _manifest(
    settings: RunSettings, argv: Sequence[str], source: SourceInfo, columns: ColumnMap
) -> dict[str, Any]:
    options = asdict(settings)
    options["out"] = str(settings.out)
    options["api"] = {
        "base_url": url_shown(settings.api.base_url),
        "bearer": settings.api.bearer,
        "user_agent": settings.api.user_agent,
        "timeout_s": settings.api.timeout_s,
        "concurrency": settings.api.concurrency,
    }
    return {
        "version": __version__,
        "command": "run",
        "command_line": argv_shown(argv),
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
