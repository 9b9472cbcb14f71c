"""What a sync tells when it ends: summary.json's counts, its log lines, its stdout summary."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from bulk_onboard.api.listing import Listing
from bulk_onboard.base.outcomes import Status
from bulk_onboard.engine.journal import Journal
from bulk_onboard.engine.pool import Pool
from bulk_onboard.engine.stopping import StopControl
from bulk_onboard.errors import ExitCode
from bulk_onboard.runs.summary_table import print_summary
from bulk_onboard.sync.plan import Reason, SyncBook

log = logging.getLogger("bulk_onboard")
SYNC_REPORTS = (Status.SUCCEEDED, Status.FAILED, Status.UNPROCESSED, Status.SKIPPED)
# summary.json's keys as SPEC.md lists them; sync's own keys follow.
SUMMARY_ORDER = (
    "run_id", "command", "input", "input_sha256", "rows_total", "succeeded", "failed",
    "unprocessed", "skipped", "started_at", "finished_at", "duration_s", "rows_per_s",
    "api_requests", "retries", "exit_code", "error_codes",
)  # fmt: skip


def counts(
    journal: Journal,
    stop: StopControl,
    pool: Pool,
    book: SyncBook | None,
    listing: Listing | None,
    changes: int,
) -> dict[str, Any]:
    """The summary's counts and exit code: 0 when every row succeeded or was skipped."""
    by_status = journal.counts()
    rows_total = sum(by_status.values())
    settled_ok = by_status.get(Status.SUCCEEDED, 0) + by_status.get(Status.SKIPPED, 0)
    exit_code = stop.exit_code or (
        ExitCode.OK if settled_ok == rows_total else ExitCode.SOME_FAILED
    )
    summary: dict[str, Any] = {
        "command": "sync",
        "rows_total": rows_total,
        **{status.value: by_status.get(status, 0) for status in SYNC_REPORTS},
        "retries": pool.stats.retries,
        "imap_auth_requests": pool.stats.api_requests,
        "exit_code": int(exit_code),
        "error_codes": dict(journal.error_codes()),
        "actions": dict(journal.actions()),
        "changes": changes,
        "plan": dict(book.reasons) if book else {},
        "listing": None
        if listing is None
        else {
            "accounts": len(listing.accounts),
            "pages": listing.pages,
            "requests": listing.requests,
        },
    }
    if stop.message:
        summary["stopped"] = stop.message
    return summary


def in_spec_order(summary: dict[str, Any]) -> dict[str, Any]:
    """SPEC.md's keys first, in its order, then the rest."""
    return {key: summary[key] for key in SUMMARY_ORDER if key in summary} | summary


def print_result(code: int, run_dir: Path | None, error: str, *, as_json: bool) -> None:
    """The closing summary on stdout: the run's table or JSON line, or, with no run folder, a
    JSON line with the exit code and the error (in text mode the error line says it all)."""
    if run_dir is not None:
        print_summary(run_dir, as_json=as_json)
    elif as_json:
        line = {"event": "summary", "command": "sync", "exit_code": int(code), "error": error}
        print(json.dumps(line), flush=True)


def log_plan(book: SyncBook, total: int) -> None:
    """One line: how many rows are skipped, and why the others are submitted."""
    submitted = sorted((k, n) for k, n in book.reasons.items() if k != Reason.UNCHANGED)
    log.info(
        "%d rows: %d unchanged (skipped); to submit: %s.",
        total,
        book.reasons[Reason.UNCHANGED],
        ", ".join(f"{n} {reason}" for reason, n in submitted) or "none",
        extra={"event": "plan", "rows": total, **book.reasons},
    )


def log_finished(summary: dict[str, Any]) -> None:
    """The last log line of a sync that ran: its counts and exit code."""
    keys = ("succeeded", "skipped", "failed", "unprocessed", "changes", "imap_auth_requests")
    log.info(
        "Sync finished with exit code %s: %s.",
        summary["exit_code"],
        ", ".join(f"{summary[key]} {key}" for key in keys),
        extra={"event": "finished", **{key: summary[key] for key in (*keys, "exit_code")}},
    )
