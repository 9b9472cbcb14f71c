"""results.xlsx: a run folder's reports as one workbook, streamed row by row.

Each row goes into the zip as it is read (`xlsx_writer`), so memory stays flat. A sheet is
Summary (summary.json's figures, then each error code with its count and hint) or one report.
Every cell is a number or text, never a formula; text keeps the CSV's escaping (a leading '), so
it reads as in the CSV and stays inert if someone saves the sheet as CSV again.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from itertools import chain, islice
from pathlib import Path
from typing import Any

from bulk_onboard.base.atomic import atomic_bytes_writer
from bulk_onboard.base.hints import hint_for
from bulk_onboard.reports.workbook_styles import (
    NUMBER_COLUMNS,
    PREVIEW_ROWS,
    SHEET_TITLES,
    SUMMARY_TITLE,
    WIDTH_SAMPLE_ROWS,
    column_widths,
    fill_rules,
    own_columns,
)
from bulk_onboard.reports.xlsx_writer import ILLEGAL_XML, Sheet, Workbook, column_letter
from bulk_onboard.runs.read import RunFolder
from bulk_onboard.runs.summary_table import DRY_RUN_NOTE

WORKBOOK_FILE = "results.xlsx"
EXCEL_MAX_DATA_ROWS = 1_048_575  # Excel's 1,048,576 rows, less the header
EXCEL_MAX_COLUMNS = 16_384  # A to XFD; a wider sheet makes Excel "repair" the file
EXCEL_MAX_CELL_CHARS = 32_767  # a longer text makes Excel "repair" the file
_CUT = "… (cut: the CSV report holds it whole)"
SUMMARY_HEADER = ("figure", "value")
ERROR_CODES_HEADER = ("error_code", "count", "hint")

# A plain number; longer ones stay text, as Excel keeps 15 significant digits. No leading zero,
# which a number would lose.
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,15})?")

_Value = str | int | float | None


def write_workbook(folder: RunFolder, *, max_rows: int = EXCEL_MAX_DATA_ROWS) -> Path:
    """Write the run folder's `results.xlsx` from its reports, atomically and 0600; its path.

    A report longer than `max_rows` is cut there, and one wider than Excel's columns at its
    last column, each with a note on the Summary sheet.
    """
    target = folder.path / WORKBOOK_FILE
    with atomic_bytes_writer(target) as handle, Workbook(handle) as book:
        notes: list[str] = []
        # Summary comes first in the workbook but is written last, when the notes are known.
        for position, report in enumerate(folder.reports(), start=1):
            notes += _write_report(
                book,
                position,
                folder,
                report,
                min(max_rows, PREVIEW_ROWS.get(report, max_rows)),
                "a preview" if report in PREVIEW_ROWS else "Excel's limit",
            )
        _write_summary(book, folder.summary, _hints(folder), notes)
    return target


def _write_report(
    book: Workbook, position: int, folder: RunFolder, report: str, max_rows: int, why: str
) -> list[str]:
    """Stream one report into its sheet; a note for each way it was cut (rows, columns)."""
    name = folder.file(report).name
    notes = []
    header = folder.header(report)
    rows: Iterator[Sequence[str]] = folder.rows(report)
    if len(header) > EXCEL_MAX_COLUMNS:
        notes.append(
            f"{SHEET_TITLES[report]} shows the first {EXCEL_MAX_COLUMNS:,} of {len(header):,}"
            f" columns (Excel's limit): {name} holds them all."
        )
        header = header[:EXCEL_MAX_COLUMNS]
        rows = (cells[:EXCEL_MAX_COLUMNS] for cells in rows)
    sample = list(islice(rows, min(WIDTH_SAMPLE_ROWS, max_rows)))
    own = own_columns(report, header)
    numbers = [i for i, name in enumerate(own) if name in NUMBER_COLUMNS]
    with book.sheet(SHEET_TITLES[report], position, column_widths(header, sample)) as sheet:
        sheet.header([_clean(name) for name in header])
        for cells in islice(chain(sample, rows), max_rows):
            shown: list[_Value] = _texts(cells)
            for i in numbers:
                if i < len(cells) and _NUMBER.fullmatch(cells[i]):
                    shown[i] = float(cells[i]) if "." in cells[i] else int(cells[i])
            sheet.append(shown)
        written = sheet.rows - 1
        _finish_table(sheet, len(header), own)
    left_out = _left_out(folder, report, written, rows)
    if left_out:
        notes.append(
            f"{SHEET_TITLES[report]} shows the first {written:,} of {written + left_out:,} rows"
            f" ({why}): {name} holds them all."
        )
    return notes


def _left_out(folder: RunFolder, report: str, written: int, rest: Iterator[Sequence[str]]) -> int:
    """The report's rows not written: from summary.json's count of a previewed report (valid.csv
    of a million rows takes seconds to read through), else by reading the rest."""
    count = folder.summary.get(report)
    if report in PREVIEW_ROWS and isinstance(count, int) and not isinstance(count, bool):
        return max(count - written, 0)
    return sum(1 for _ in rest)


def _finish_table(sheet: Sheet, columns: int, own: Sequence[str]) -> None:
    """The filter over the rows written, and the fill rules of the report's own columns."""
    last_row = sheet.rows
    sheet.auto_filter = f"A1:{column_letter(max(columns, 1))}{last_row}"
    for cell_range, formula, colour in fill_rules(own, last_row):
        sheet.fill(cell_range, formula, colour)


def _write_summary(
    book: Workbook, summary: Mapping[str, Any], hints: Mapping[str, str], notes: Sequence[str]
) -> None:
    figures = [(label, _plain(value)) for label, value in _figures(summary)]
    if summary.get("dry_run"):
        figures.insert(0, ("note", DRY_RUN_NOTE))
    figures += [("note", note) for note in notes]
    codes = summary.get("error_codes")
    errors = [
        (str(code), _plain(count), hints.get(code) or hint_for(code))
        for code, count in (codes.items() if isinstance(codes, dict) else ())
    ]
    shown = [[str(cell) for cell in row] for row in (*figures, *errors)]
    with book.sheet(SUMMARY_TITLE, 0, column_widths(ERROR_CODES_HEADER, shown)) as sheet:
        sheet.header(SUMMARY_HEADER)
        for label, value in figures:
            sheet.append([_text(label), _cell(value)])
        sheet.auto_filter = f"A1:B{len(figures) + 1}"  # the figures; the codes are a table apart
        if errors:
            sheet.append([])
            sheet.header(ERROR_CODES_HEADER)
            for code, count, hint in errors:
                sheet.append([_text(code), _cell(count), _text(hint)])


def _figures(summary: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """summary.json's figures as (label, value), nested objects as dotted labels."""
    for key, value in summary.items():
        if not prefix and key == "error_codes":
            continue  # a table of its own
        if isinstance(value, dict):
            yield from _figures(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _hints(folder: RunFolder) -> dict[str, str]:
    """Each error code's hint as failed.csv gives it, from the first row with that code."""
    codes = folder.summary.get("error_codes")
    if not isinstance(codes, dict) or not codes:
        return {}
    hints: dict[str, str] = {}
    for record in folder.records("failed"):
        code = record.get("error_code", "")
        if code in codes and code not in hints and record.get("hint"):
            hints[code] = record["hint"]
            if len(hints) == len(codes):
                break
    return hints


def _plain(value: Any) -> str | int | float:
    """A summary.json value as a cell shows it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return value
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _cell(value: str | int | float) -> _Value:
    return _text(value) if isinstance(value, str) else value


def _texts(cells: Sequence[str]) -> list[_Value]:
    """A row's cells as text cells; one test of the whole row spares the common row a call
    per cell."""
    joined = "".join(cells)
    if len(joined) <= EXCEL_MAX_CELL_CHARS and ILLEGAL_XML.search(joined) is None:
        return [c or None for c in cells]
    return [_text(c) for c in cells]


def _text(text: str) -> str | None:
    return _clean(text) if text else None  # no cell at all: smaller and faster than ""


def _clean(text: str) -> str:
    """`text` with the characters XML can't hold shown as escapes (\\x01), cut to what an
    Excel cell holds."""
    if ILLEGAL_XML.search(text) is not None:
        text = ILLEGAL_XML.sub(
            lambda m: m.group().encode("unicode_escape", "backslashreplace").decode(), text
        )
    if len(text) > EXCEL_MAX_CELL_CHARS:
        text = text[: EXCEL_MAX_CELL_CHARS - len(_CUT)] + _CUT
    return text
