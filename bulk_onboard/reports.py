"""The human reports of a run folder, rebuilt from its journal: one CSV per outcome + JSON files."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bulk_onboard.atomic import atomic_writer
from bulk_onboard.journal import Journal
from bulk_onboard.outcomes import Outcome, Status

SUCCEEDED_COLUMNS = (
    "row", "email", "account_id", "provider", "score", "score_gmail", "score_outlook",
    "score_custom", "alive", "suspended", "warming_enabled", "imap_issue",
    "detected_sending_provider", "domain", "spf_valid", "dkim_valid", "dmarc_valid",
    "mx_records", "attempts", "elapsed_ms",
)  # fmt: skip
FAILED_COLUMNS = (
    "row", "email", "stage", "error_code", "http_status", "message", "hint", "attempts",
)  # fmt: skip
UNPROCESSED_COLUMNS = ("row", "email", "reason")
SKIPPED_COLUMNS = ("row", "email", "reason")
VALID_COLUMNS = (
    "row", "email", "provider", "first_name", "last_name", "imap_server", "imap_server_port",
    "imap_server_username", "smtp_server", "smtp_server_port", "smtp_server_username",
    "smtp_server_starttls", "smtp_server_auth_type", "notes",
)  # fmt: skip

REPORT_FILES: Mapping[Status, str] = {
    Status.SUCCEEDED: "succeeded.csv",
    Status.FAILED: "failed.csv",
    Status.UNPROCESSED: "unprocessed.csv",
    Status.SKIPPED: "skipped.csv",
    Status.VALID: "valid.csv",
}
_SIMPLE_COLUMNS: Mapping[Status, Sequence[str]] = {
    Status.SUCCEEDED: SUCCEEDED_COLUMNS,
    Status.UNPROCESSED: UNPROCESSED_COLUMNS,
    Status.SKIPPED: SKIPPED_COLUMNS,
    Status.VALID: VALID_COLUMNS,
}
RUN_REPORTS = (Status.SUCCEEDED, Status.FAILED, Status.UNPROCESSED)

# OWASP CSV injection: a spreadsheet treats cells starting with these as formulas.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")


def escape_cell(value: Any) -> str:
    """A cell's text, prefixed with ' when a spreadsheet would read it as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)  # numbers are data, even negative ones
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    with atomic_writer(path, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([escape_cell(h) for h in header])
        writer.writerows([escape_cell(v) for v in row] for row in rows)


def _row_values(outcome: Outcome, columns: Sequence[str]) -> list[Any]:
    values = {"row": outcome.row, "email": outcome.email, **outcome.fields}
    return [values.get(c) for c in columns]


def write_reports(
    journal: Journal,
    run_dir: Path,
    input_headers: Sequence[str],
    statuses: Iterable[Status] = RUN_REPORTS,
) -> None:
    """(Re)write the CSV reports of a run folder from its journal.

    The files of `statuses` are always written (empty but for the header when no row has that
    status), so scripts can rely on them; skipped.csv is added whenever a row was skipped.
    """
    wanted = list(statuses)
    if Status.SKIPPED not in wanted and journal.counts().get(Status.SKIPPED):
        wanted.append(Status.SKIPPED)
    for status in wanted:
        path = run_dir / REPORT_FILES[status]
        if status is Status.FAILED:
            _write_csv(
                path,
                (*FAILED_COLUMNS, *input_headers),
                (
                    _row_values(o, FAILED_COLUMNS)
                    + [(o.original or {}).get(h, "") for h in input_headers]
                    for o in journal.outcomes(status)
                ),
            )
        else:
            columns = _SIMPLE_COLUMNS[status]
            _write_csv(path, columns, (_row_values(o, columns) for o in journal.outcomes(status)))


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Atomically write a JSON report (0600)."""
    with atomic_writer(path) as handle:
        json.dump(data, handle, indent=2, sort_keys=False, default=str)
        handle.write("\n")
