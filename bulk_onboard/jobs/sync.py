"""The `sync` command: the unattended re-sync a scheduler runs (SPEC.md, "The re-sync job").

One run: take the lock beside the state (or exit 75 at once); list MailReach's accounts while a
thread reads, screens and fingerprints every row; settle unchanged rows as skipped (no API call)
and invalid or repeated ones as failed; submit the rest through the same pool as `run`, with the
account's `id` added; write the usual reports, changes.csv and the summary. It never deletes or
pauses an account.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bulk_onboard.api.account_ids import AccountIds
from bulk_onboard.api.client import ApiClient
from bulk_onboard.api.listing import Listing, ListingFailed, list_accounts
from bulk_onboard.api.resend import Resend
from bulk_onboard.api.submit import RetryPolicy, Submitter
from bulk_onboard.api.throttle import Throttle
from bulk_onboard.base.atomic import DIR_MODE
from bulk_onboard.base.changes import Change
from bulk_onboard.base.outcomes import Outcome, Unprocessed
from bulk_onboard.engine.after_connect import AfterConnect
from bulk_onboard.engine.journal import Journal
from bulk_onboard.engine.pool import Pool
from bulk_onboard.engine.progress import Progress
from bulk_onboard.engine.stopping import StopControl, signals_handled
from bulk_onboard.errors import ExitCode
from bulk_onboard.jobs.run import _manifest as run_manifest
from bulk_onboard.jobs.run import open_input, rows_of
from bulk_onboard.reports.changes import write_changes
from bulk_onboard.reports.csv_reports import write_json, write_reports
from bulk_onboard.rows.normalise import NormaliseOptions
from bulk_onboard.runs.create import create_run_dir
from bulk_onboard.runs.files import CHANGES_FILE
from bulk_onboard.settings import RunSettings
from bulk_onboard.sheet.columns import ColumnMap
from bulk_onboard.sheet.table import Table
from bulk_onboard.sync.drift import DEFAULT_SCORE_DELTA
from bulk_onboard.sync.fingerprint import Fingerprinter, key_path_for, load_or_create_key
from bulk_onboard.sync.lock import StateLock, lock_path_for
from bulk_onboard.sync.plan import Prepared, SyncBook, prepare
from bulk_onboard.sync.state import DEFAULT_STATE_NAME, AccountState, StateStore
from bulk_onboard.sync.summary import (
    SYNC_REPORTS,
    counts,
    in_spec_order,
    log_finished,
    log_plan,
)

log = logging.getLogger("bulk_onboard")
KEY_CHECK = "fingerprint_key_check"


@dataclass(frozen=True, slots=True)
class SyncSettings:
    run: RunSettings
    state: Path  # the SQLite state; its .key and .lock sit beside it
    resubmit_all: bool = False  # --all
    score_delta: float = DEFAULT_SCORE_DELTA


def default_state_path(out: Path) -> Path:
    """`OUT/sync-state.sqlite`."""
    return out / DEFAULT_STATE_NAME


async def sync_job(
    settings: SyncSettings, argv: Sequence[str], stdin_bytes: bytes | None = None
) -> tuple[ExitCode, Path]:
    """Run one sync: its exit code and run folder.

    A failure a user can cause before the folder is made (lock held, unreadable input, bad
    state) is raised as it is; `bulk-onboard sync` still gives a scheduler its summary line.
    """
    settings.state.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    with StateLock(lock_path_for(settings.state)):
        return await _sync_locked(settings, argv, stdin_bytes)


@dataclass(slots=True)
class _Api:
    """One run's way to the API: the client and what every request passes through."""

    client: ApiClient
    stop: StopControl
    throttle: Throttle
    policy: RetryPolicy
    rng: random.Random


async def _sync_locked(
    settings: SyncSettings, argv: Sequence[str], stdin_bytes: bytes | None
) -> tuple[ExitCode, Path]:
    started_at = datetime.now(UTC)
    t0 = time.monotonic()
    run = settings.run
    options = NormaliseOptions(default_provider=run.default_provider, test=run.dry_run)
    first = open_input(run, stdin_bytes)  # a missing or shapeless input stops here: 65/66
    columns = ColumnMap.from_headers(first.headers)
    fingerprinter = Fingerprinter(load_or_create_key(key_path_for(settings.state)))
    store = StateStore(settings.state)
    try:
        _check_fingerprint_key(store, fingerprinter, persist=not run.dry_run)
        log.info(
            "Sync of %s with state %s.",
            run.input,
            settings.state,
            extra={"event": "start", "state": str(settings.state)},
        )
        stop = StopControl()
        async with ApiClient(run.api) as client:
            api = _Api(
                client,
                stop,
                Throttle(run.rate),
                RetryPolicy(run.max_attempts, run.backoff_base_s),
                random.Random(),
            )
            with signals_handled(stop):
                listing, prepared = await _list_and_prepare(
                    api, (first, columns, options), fingerprinter
                )
                # Only now, with the whole input read, is a run folder made.
                run_dir = create_run_dir(run.out, run.input)
                write_json(run_dir / "manifest.json", _manifest(settings, argv, first, columns))
                store.begin_run(
                    run_dir.name, started_at.isoformat(), run.input, first.source.sha256
                )
                log.info(
                    "Reports go to %s",
                    run_dir,
                    extra={"event": "run_folder", "run_id": run_dir.name},
                )
                journal = Journal(run_dir)
                summary = await _settle_every_row(
                    settings,
                    store,
                    api,
                    listing,
                    prepared,
                    journal,
                    (columns, options),
                    stdin_bytes,
                    started_at,
                )
            summary["api_requests"] = client.requests
        summary |= {
            "run_id": run_dir.name,
            "input": run.input,
            "input_sha256": first.source.sha256,
            "started_at": started_at.isoformat(),
        }
        write_reports(journal, run_dir, columns.report_headers, SYNC_REPORTS)
        journal.close()
        duration = time.monotonic() - t0
        summary |= {
            "finished_at": datetime.now(UTC).isoformat(),
            "duration_s": round(duration, 3),
            "rows_per_s": round(summary["rows_total"] / duration, 2) if duration > 0 else None,
        }
        summary = in_spec_order(summary)
        write_json(run_dir / "summary.json", summary)
        store.finish_run(run_dir.name, summary["finished_at"], summary["exit_code"], summary)
    finally:
        store.close()
    log_finished(summary)
    return ExitCode(summary["exit_code"]), run_dir


async def _list_and_prepare(
    api: _Api,
    reading: tuple[Table, ColumnMap, NormaliseOptions],
    fingerprinter: Fingerprinter,
) -> tuple[Listing | None, list[Prepared]]:
    """List the accounts while a thread prepares every row: the listing mostly waits for the
    throttle, preparing is CPU, so together they take about as long as the longer one."""
    table, columns, options = reading
    listing_task = asyncio.create_task(_listing(api))
    try:
        prepared = await asyncio.to_thread(prepare, rows_of(table), columns, options, fingerprinter)
    except BaseException:
        listing_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listing_task
        raise
    return await listing_task, prepared


async def _listing(api: _Api) -> Listing | None:
    """The account listing, or None once a failure to list has stopped the run."""
    try:
        listing = await list_accounts(
            api.client, api.throttle, api.policy, api.stop.requested, api.rng
        )
    except ListingFailed as failed:
        api.stop.request(Unprocessed.ABORTED, failed.exit_code, failed.message)
        log.error("%s", failed.message, extra={"event": "listing_failed"})
        return None
    log.info(
        "MailReach lists %s.",
        listing.counted(),
        extra={"event": "listing", "accounts": len(listing.accounts), "pages": listing.pages},
    )
    return listing


async def _settle_every_row(
    settings: SyncSettings,
    store: StateStore,
    api: _Api,
    listing: Listing | None,
    prepared: list[Prepared],
    journal: Journal,
    normalising: tuple[ColumnMap, NormaliseOptions],
    stdin_bytes: bytes | None,
    started_at: datetime,
) -> dict[str, Any]:
    """Settle locally what can be, submit the rest; returns the summary's counts."""
    run = settings.run
    persist = not run.dry_run  # a dry run changes nothing in MailReach, so nothing is learnt

    def save(record: AccountState, changes: list[Change]) -> None:
        if persist:
            store.put(record)
            store.add_changes(changes)

    book = None
    progress = Progress(len(prepared), bar=run.progress_bar, lines=run.progress_lines)
    if listing is not None:
        book = SyncBook(
            store.load(),
            listing,
            save,
            resubmit_all=settings.resubmit_all,
            score_delta=settings.score_delta,
        )
        for row in prepared:
            if (outcome := book.plan(row)) is not None:
                journal.record(outcome)
                progress.advance(outcome.status)
        log_plan(book, len(prepared))

    def record(outcome: Outcome) -> None:
        journal.record(outcome)
        progress.advance(outcome.status)
        if book is not None:
            book.settled(outcome)

    # Without a listing the run has stopped: the pool reports every row unprocessed.
    rows = rows_of(open_input(run, stdin_bytes))
    to_submit = rows if book is None else (raw for raw in rows if book.submits(raw.number))
    columns, options = normalising

    def relist() -> Awaitable[Listing]:
        return list_accounts(api.client, api.throttle, api.policy, api.stop.requested, api.rng)

    # The listing's ids go into the bodies through the book; these serve the lookups of a
    # create whose outcome is unknown (api/resend.py).
    ids = AccountIds({}, relist)
    if listing is not None:
        ids.learn(listing)
    submitter = Submitter(
        api.client, api.throttle, api.policy, api.stop.requested, rng=api.rng, resend=Resend(ids)
    )
    pool = Pool(
        to_submit,
        columns,
        options,
        submitter,
        api.stop,
        record,
        concurrency=run.api.concurrency,
        unreachable_rows=run.unreachable_rows,
        body_for=None if book is None else book.body_for,
        started_at=started_at,
        after_connect=AfterConnect(
            submitter,
            ids,
            api.stop,
            lambda outcome: None,  # sync's journal keeps final outcomes; its state does the rest
            book.steps_only if book is not None else {},
            dry_run=run.dry_run,
        ),
    )
    try:
        await pool.run(run.grace_s)
    finally:
        progress.close()
        if book is not None:
            book.close_sheet()
    journal.commit()
    found = book.changes if book else []
    if persist:
        store.commit()
        found = store.pending_changes()
    changes = write_changes(journal.path.parent / CHANGES_FILE, found)
    if persist:
        store.clear_changes()  # after the file: a kill in between reports them twice, not never
    return counts(journal, api.stop, pool, book, listing, changes) | {
        "state": str(settings.state),
        "dry_run": run.dry_run,
        "lookups": {"passes": ids.passes, "requests": ids.requests},
    }


def _manifest(
    settings: SyncSettings, argv: Sequence[str], table: Table, columns: ColumnMap
) -> dict[str, Any]:
    manifest = run_manifest(settings.run, argv, table.source, columns) | {"command": "sync"}
    manifest["options"] |= {
        "state": str(settings.state),
        "all": settings.resubmit_all,
        "score_delta": settings.score_delta,
    }
    return manifest


def _check_fingerprint_key(
    store: StateStore, fingerprinter: Fingerprinter, *, persist: bool
) -> None:
    check = fingerprinter.key_check()
    stored = store.meta(KEY_CHECK)
    if stored is not None and stored != check:
        log.warning(
            "The fingerprint key beside the state is not the one that wrote it: every row counts "
            "as changed once (ids still come from MailReach, so nothing is duplicated).",
            extra={"event": "key_changed"},
        )
    if persist and stored != check:
        store.set_meta(KEY_CHECK, check)
