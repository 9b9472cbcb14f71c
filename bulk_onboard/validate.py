"""The `validate` command: read, normalise and screen every row; no network. Shows the mapping."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime
from pathlib import Path

from bulk_onboard import __version__
from bulk_onboard.columns import ColumnMap
from bulk_onboard.errors import ExitCode
from bulk_onboard.journal import Journal
from bulk_onboard.normalise import NormalisedRow, NormaliseOptions, normalise
from bulk_onboard.outcomes import Outcome, Status
from bulk_onboard.reader import open_table
from bulk_onboard.reports import write_json, write_reports
from bulk_onboard.rundir import create_run_dir
from bulk_onboard.screening import Screen
from bulk_onboard.settings import ReadOptions

log = logging.getLogger("bulk_onboard")
_VALID_FIELDS = (
    "provider", "first_name", "last_name", "imap_server", "imap_server_port",
    "imap_server_username", "smtp_server", "smtp_server_port", "smtp_server_username",
    "smtp_server_starttls", "smtp_server_auth_type",
)  # fmt: skip


def valid_outcome(item: NormalisedRow) -> Outcome:
    """valid.csv columns: what would be sent, without any password, plus the normaliser's notes."""
    assert item.request is not None
    body = item.request.model_dump(include=set(_VALID_FIELDS))
    return Outcome(item.row, item.email, Status.VALID, {**body, "notes": " ".join(item.notes)})


def validate_job(
    input_path: str,
    out: Path,
    read: ReadOptions,
    default_provider: str | None,
    stdin_bytes: bytes | None = None,
) -> tuple[ExitCode, Path]:
    """Validate every row into a run folder (valid.csv, failed.csv); 0 if all rows are valid."""
    started_at = datetime.now(UTC)
    table = open_table(
        input_path,
        sheet=read.sheet,
        encoding=read.encoding,
        delimiter=read.delimiter,
        stdin=None if stdin_bytes is None else io.BytesIO(stdin_bytes),
    )
    columns = ColumnMap.from_headers(table.headers)
    for warning in table.source.warnings:
        log.warning("%s", warning)
    log.info("Column mapping:")
    for header, field in columns.describe():
        log.info("  %-28s -> %s", header, field)
    if columns.ignored:
        log.info("Columns kept but not used: %s.", ", ".join(columns.ignored))

    run_dir = create_run_dir(out, input_path)
    journal = Journal(run_dir)
    options = NormaliseOptions(default_provider=default_provider)
    screen = Screen()
    total = 0
    for chunk in table.chunks:
        for raw in chunk:
            total += 1
            item = normalise(raw, columns, options)
            journal.record(screen.reject(item) or valid_outcome(item))
    journal.commit()
    write_reports(journal, run_dir, columns.report_headers, (Status.VALID, Status.FAILED))
    counts = journal.counts()
    code = ExitCode.OK if counts.get(Status.FAILED, 0) == 0 else ExitCode.SOME_FAILED
    write_json(
        run_dir / "manifest.json",
        {
            "version": __version__,
            "command": "validate",
            "input": {"path": input_path, "sha256": table.source.sha256},
            "columns": [{"header": h, "field": f} for h, f in columns.describe()],
            "ignored_columns": list(columns.ignored),
        },
    )
    write_json(
        run_dir / "summary.json",
        {
            "run_id": run_dir.name,
            "command": "validate",
            "input": input_path,
            "input_sha256": table.source.sha256,
            "rows_total": total,
            "valid": counts.get(Status.VALID, 0),
            "failed": counts.get(Status.FAILED, 0),
            "started_at": started_at.isoformat(),
            "finished_at": datetime.now(UTC).isoformat(),
            "exit_code": int(code),
            "error_codes": dict(journal.error_codes()),
        },
    )
    journal.close()
    return code, run_dir
