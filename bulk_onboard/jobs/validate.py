"""The `validate` command: read, normalise and screen every row; no network. Shows the mapping."""

from __future__ import annotations

import io
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from itertools import chain
from operator import attrgetter
from pathlib import Path
from typing import Any

from bulk_onboard.base.collector import collected_between_chunks
from bulk_onboard.base.outcomes import Status
from bulk_onboard.base.printable import printable
from bulk_onboard.base.version import __version__
from bulk_onboard.engine.progress import Progress
from bulk_onboard.engine.stopping import StopControl
from bulk_onboard.errors import ExitCode, InputError
from bulk_onboard.reports.csv_reports import VALID_COLUMNS, ReportWriter, write_json
from bulk_onboard.rows.first_rows import FirstRows
from bulk_onboard.rows.normalise import NormalisedRow, NormaliseOptions, normalise
from bulk_onboard.rows.screening import Screen
from bulk_onboard.rows.values import Cells
from bulk_onboard.runs.create import create_run_dir, discard_run_dir, latest_target
from bulk_onboard.settings import ReadOptions
from bulk_onboard.sheet.columns import ColumnMap
from bulk_onboard.sheet.reader import open_table
from bulk_onboard.sheet.table import RawRow

log = logging.getLogger("bulk_onboard")
# valid.csv's columns between `email` and `notes`, read off the request: none is a secret or a
# nested model, so reading the attributes gives the model's values without a dump per row.
_VALID_REQUEST_COLUMNS = VALID_COLUMNS[2:-1]
_valid_values = attrgetter(*_VALID_REQUEST_COLUMNS)


def valid_cells(item: NormalisedRow) -> list[Any]:
    """valid.csv's line for a row: what would be sent, without any password, and the
    normaliser's notes. A row for an email workspace has no request: its notes say which
    workspace, and why."""
    if item.request is None:
        assert item.workspace is not None
        note = f"linked through email workspace {item.workspace} ({item.workspace_why})"
        return [item.row, item.email, *(None,) * len(_VALID_REQUEST_COLUMNS), note]
    return [item.row, item.email, *_valid_values(item.request), " ".join(item.notes)]


def _screen_for(items: list[NormalisedRow], first_rows: FirstRows) -> Screen:
    """A Screen for one chunk that knows the first row of each email seen in earlier chunks.

    One Screen for the whole file would hold every email in memory; a million of them is more
    than 100 MB. Here earlier chunks' emails are remembered by `first_rows` instead.
    """
    screen = Screen()
    clean: dict[str, NormalisedRow] = {}  # each email's first row in this chunk
    for item in items:
        if not item.problems:
            clean.setdefault(item.email, item)
    for email, row in first_rows.claim([(item.email, item.row) for item in clean.values()]).items():
        screen.remember(replace(clean[email], row=row))  # as if that earlier row were here
    return screen


def validate_job(
    input_path: str,
    out: Path,
    read: ReadOptions,
    default_provider: str | None,
    stdin_bytes: bytes | None = None,
    workspaces: tuple[tuple[str, int], ...] = (),
    stop: StopControl | None = None,
    *,
    progress_bar: bool = False,
    progress_lines: bool = False,
) -> tuple[ExitCode, Path]:
    """Validate every row into a run folder (valid.csv, failed.csv); 0 if all rows are valid.

    `stop` is looked at between chunks (runs in a thread; the signal handler sets it): once
    requested, the rows not yet validated go to unprocessed.csv and its exit code is returned.
    """
    stop = stop or StopControl(abandon=False)  # none given: nothing will request it
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
        log.info("  %-28s -> %s", printable(header, 40), field)
    if columns.ignored:
        log.info("Columns kept but not used: %s.", columns.ignored_shown())

    previous_latest = latest_target(out)
    run_dir = create_run_dir(out, input_path)
    # No journal: a validate has nothing to resume, and its reports are written as rows settle.
    # Rows are routed as `run` routes them, so a workspace row needs no password here either.
    options = NormaliseOptions(
        default_provider=default_provider, route_workspaces=True, workspaces=workspaces
    )
    first_rows = FirstRows()
    failed = unprocessed = 0
    error_codes: Counter[str] = Counter()
    total = 0
    # The total is not known: the sheet is read once, as it is validated.
    progress = Progress(None, bar=progress_bar, lines=progress_lines)
    try:
        with (
            ReportWriter(run_dir, columns.report_headers, (Status.VALID, Status.FAILED)) as reports,
            collected_between_chunks() as chunk_done,
        ):
            chunks = iter(table.chunks)
            for chunk in chunks:
                if stop.requested.is_set():
                    unprocessed = _not_reached(chain([chunk], chunks), columns, stop, reports)
                    total += unprocessed
                    break
                total += len(chunk)
                items = [normalise(raw, columns, options) for raw in chunk]
                screen = _screen_for(items, first_rows)
                rejected_here = 0
                for item in items:
                    if rejected := screen.reject(item):
                        rejected_here += 1
                        error_codes[rejected.fields["error_code"]] += 1
                        reports.write(rejected)
                    else:
                        reports.write_cells(Status.VALID, valid_cells(item))
                failed += rejected_here
                progress.advance(Status.FAILED, rejected_here)
                progress.advance(Status.VALID, len(items) - rejected_here)
                chunk_done()
    except InputError:
        # A flaw found far down the file (read in one streaming pass): leave no half-made folder.
        discard_run_dir(out, run_dir, previous_latest)
        raise
    finally:
        progress.close()
    # As for `run` and `check`, a signal's exit code stands, even one during the last chunk.
    signalled = stop.exit_code
    code = signalled or (ExitCode.OK if failed == 0 else ExitCode.SOME_FAILED)
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
            "valid": total - failed - unprocessed,
            "failed": failed,
            # Only a validate stopped by a signal has rows it did not reach.
            **({"unprocessed": unprocessed} if signalled else {}),
            "started_at": started_at.isoformat(),
            "finished_at": datetime.now(UTC).isoformat(),
            "exit_code": int(code),
            "error_codes": dict(error_codes),
            **({"stopped": stop.message} if signalled else {}),
        },
    )
    return code, run_dir


def _not_reached(
    chunks: Iterable[list[RawRow]], columns: ColumnMap, stop: StopControl, reports: ReportWriter
) -> int:
    """Put every row not validated before the stop in unprocessed.csv, by the email it holds; a
    stop cuts a million-row validate short, so the rest is only read, not normalised."""
    reports.include(Status.UNPROCESSED)
    # unprocessed.csv's line (UNPROCESSED_COLUMNS: row, email, reason, no account id) without
    # an Outcome per row; the email as `Cells.email` gives it, unchecked.
    count = 0
    for chunk in chunks:
        for raw in chunk:
            email = Cells(raw.cells, columns).text("email").lower()
            reports.write_cells(Status.UNPROCESSED, [raw.number, email, stop.reason.value, None])
        count += len(chunk)
    return count
