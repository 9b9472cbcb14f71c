"""The human reports of a run folder: one CSV per outcome + JSON files.

`run` rebuilds its CSVs from the journal at the end; `validate`, which settles every row once and
in row order, streams them with `ReportWriter` instead. Both lay out a row with `_report_row`.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from bulk_onboard.api.accounts import EXTRA_COLUMNS
from bulk_onboard.base.atomic import atomic_writer
from bulk_onboard.base.outcomes import Outcome, Status
from bulk_onboard.runs.files import REPORT_FILES

if TYPE_CHECKING:  # a parameter's type: rendering reports needs no journal (nor numpy)
    from bulk_onboard.engine.journal import Journal

# SPEC.md's columns, first and in its order; the tool's own follow (an extension, never a change).
SPEC_SUCCEEDED_COLUMNS = (
    "row", "email", "account_id", "provider", "score", "score_gmail", "score_outlook",
    "score_custom", "alive", "suspended", "warming_enabled", "imap_issue",
    "detected_sending_provider", "domain", "spf_valid", "dkim_valid", "dmarc_valid",
    "mx_records", "attempts", "elapsed_ms",
)  # fmt: skip
SUCCEEDED_COLUMNS = (
    *SPEC_SUCCEEDED_COLUMNS,
    "action",  # created, updated or tested (a dry run: nothing was saved, no id is claimed)
    "smtp_server_auth_type",  # the SMTP auth type sent (or, for check, the one accepted)
    *(column for column, _ in EXTRA_COLUMNS),
    "tags",
    "applied",  # the steps after the connect: "settings; tag 7" (engine/after_connect.py)
)
FAILED_COLUMNS = (
    "row", "email", "stage", "error_code", "http_status", "message", "hint", "attempts",
)  # fmt: skip
# account_id: set for `steps_pending` (connected; settings or tags still to be sent).
UNPROCESSED_COLUMNS = ("row", "email", "reason", "account_id")
SKIPPED_COLUMNS = ("row", "email", "reason")
VALID_COLUMNS = (
    "row", "email", "provider", "first_name", "last_name", "imap_server", "imap_server_port",
    "imap_server_username", "smtp_server", "smtp_server_port", "smtp_server_username",
    "smtp_server_starttls", "smtp_server_auth_type", "notes",
)  # fmt: skip

_SIMPLE_COLUMNS: Mapping[Status, Sequence[str]] = {
    Status.SUCCEEDED: SUCCEEDED_COLUMNS,
    Status.UNPROCESSED: UNPROCESSED_COLUMNS,
    Status.SKIPPED: SKIPPED_COLUMNS,
    Status.VALID: VALID_COLUMNS,
}
RUN_REPORTS = (Status.SUCCEEDED, Status.FAILED, Status.UNPROCESSED)
assert all(c[:2] == ("row", "email") for c in (FAILED_COLUMNS, *_SIMPLE_COLUMNS.values()))

# OWASP CSV injection: a spreadsheet treats cells starting with these as formulas.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
_FORMULA_CHARS = "".join(_FORMULA_STARTS)


def escape_cell(value: Any) -> str:
    """A cell's text, prefixed with ' when a spreadsheet would read it as a formula."""
    if value.__class__ is str:  # most cells: checked first, as this runs for every cell
        return "'" + value if value.startswith(_FORMULA_STARTS) else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)  # numbers are data, even negative ones
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _columns(status: Status, input_headers: Sequence[str]) -> tuple[Sequence[str], bool]:
    """A report's own columns, and whether the input's columns follow them (failed.csv)."""
    if status is Status.FAILED:
        return FAILED_COLUMNS, True
    return _SIMPLE_COLUMNS[status], False


def _report_row(
    outcome: Outcome, columns: Sequence[str], input_headers: Sequence[str] | None
) -> list[Any]:
    """One escaped line of a report: its columns, then the input's cells when it echoes them."""
    fields = outcome.fields
    if "row" in fields or "email" in fields:  # never so far; they would win, as in a merge
        values = {"row": outcome.row, "email": outcome.email, **fields}
        cells = _escaped([values.get(c) for c in columns])
    else:  # every report starts with row and email
        cells = _escaped([outcome.row, outcome.email, *map(fields.get, columns[2:])])
    if input_headers is not None:
        original = outcome.original or {}
        cells += _escaped([original.get(h, "") for h in input_headers])
    return cells


def _escaped(values: list[Any]) -> list[Any]:
    # escape_cell on every cell, with its commonest cases inlined: text that is no formula, and
    # the ints and Nones csv.writer itself writes as escape_cell would (`993`, an empty cell).
    # This runs for every cell of every row.
    return [
        v
        if ((kind := v.__class__) is str and (not v or v[0] not in _FORMULA_CHARS))
        or kind is int
        or v is None
        else escape_cell(v)
        for v in values
    ]


def _header_row(columns: Sequence[str], input_headers: Sequence[str] | None) -> list[str]:
    return [escape_cell(h) for h in (*columns, *(input_headers or ()))]


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
        columns, echo = _columns(status, input_headers)
        echoed = input_headers if echo else None
        with atomic_writer(run_dir / REPORT_FILES[status], newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(_header_row(columns, echoed))
            writer.writerows(_report_row(o, columns, echoed) for o in journal.outcomes(status))


class ReportWriter:
    """The CSV reports of a run folder written as rows settle, for rows settled once, in order.

    Gives the files `write_reports` would rebuild from a journal holding the same outcomes, with
    no second pass over the journal. Use as a context manager: the files replace their targets
    atomically when the block completes, and are dropped if it fails.
    """

    def __init__(
        self,
        run_dir: Path,
        input_headers: Sequence[str],
        statuses: Iterable[Status] = RUN_REPORTS,
    ) -> None:
        self._run_dir = run_dir
        self._input_headers = tuple(input_headers)
        self._files = ExitStack()
        self._writers: dict[Status, tuple[Any, Sequence[str], Sequence[str] | None]] = {}
        try:
            for status in statuses:
                self._open(status)
        except BaseException:
            self._files.__exit__(*sys.exc_info())  # drops the files opened so far
            raise

    def write(self, outcome: Outcome) -> None:
        """Add one outcome to its report (skipped.csv is opened for the first skipped row)."""
        found = self._writers.get(outcome.status)
        if found is None:
            if outcome.status is not Status.SKIPPED:
                return  # like write_reports: only the reports asked for, and skipped.csv
            found = self._open(Status.SKIPPED)
        writer, columns, echoed = found
        writer.writerow(_report_row(outcome, columns, echoed))

    def include(self, status: Status) -> None:
        """Write `status`'s report too (validate's unprocessed.csv, once it is interrupted)."""
        if status not in self._writers:
            self._open(status)

    def write_cells(self, status: Status, cells: list[Any]) -> None:
        """Add one line of `status`'s report given as its cells, in its columns' order: what
        `write` makes of an outcome, without the outcome (validate's valid rows, a million of
        them). The report must be one asked for."""
        self._writers[status][0].writerow(_escaped(cells))

    def _open(self, status: Status) -> tuple[Any, Sequence[str], Sequence[str] | None]:
        columns, echo = _columns(status, self._input_headers)
        echoed = self._input_headers if echo else None
        path = self._run_dir / REPORT_FILES[status]
        writer = csv.writer(self._files.enter_context(atomic_writer(path, newline="")))
        writer.writerow(_header_row(columns, echoed))
        self._writers[status] = found = (writer, columns, echoed)
        return found

    def __enter__(self) -> ReportWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> bool | None:
        return self._files.__exit__(kind, error, trace)


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Atomically write a JSON report (0600)."""
    with atomic_writer(path) as handle:
        json.dump(data, handle, indent=2, sort_keys=False, default=str)
        handle.write("\n")
