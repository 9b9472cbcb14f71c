"""results.xlsx: a run folder's reports as one workbook, streamed row by row.

openpyxl's write-only mode keeps memory flat: each row goes to disk as it is appended. A sheet
is Summary (summary.json's figures, then each error code with its count and hint) or one
report. Every cell is a number or text, never a formula; text keeps the CSV's escaping (a
leading '), so it reads as in the CSV and stays inert if someone saves the sheet as CSV again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from itertools import chain, islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.formatting.formatting import ConditionalFormattingList
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.dimensions import ColumnDimension, DimensionHolder
from openpyxl.worksheet.filters import AutoFilter

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
# openpyxl types a str starting with "=" as a formula and "#N/A" and its kind as errors; only
# those cells need a forced text cell, as a Cell object per cell would slow every row.
_TYPED_STARTS = ("=", "#")
_BOLD = Font(bold=True)

_Value = str | int | float | Cell | None


if TYPE_CHECKING:

    class _Sheet(WriteOnlyWorksheet):
        """A write-only worksheet as it is at run time: its stub omits what these get from
        Worksheet._setup."""

        auto_filter: AutoFilter
        column_dimensions: DimensionHolder[str, ColumnDimension]
        conditional_formatting: ConditionalFormattingList

else:
    _Sheet = WriteOnlyWorksheet


def write_workbook(folder: RunFolder, *, max_rows: int = EXCEL_MAX_DATA_ROWS) -> Path:
    """Write the run folder's `results.xlsx` from its reports, atomically and 0600; its path.

    A report longer than `max_rows` is cut there, and one wider than Excel's columns at its
    last column, each with a note on the Summary sheet.
    """
    book = Workbook(write_only=True)
    # Sheets keep the order they were created in; Summary, first, is filled in last.
    summary = _new_sheet(book, SUMMARY_TITLE)
    notes = [
        note
        for report in folder.reports()
        for note in _write_report(
            _new_sheet(book, SHEET_TITLES[report]),
            folder,
            report,
            min(max_rows, PREVIEW_ROWS.get(report, max_rows)),
            "a preview" if report in PREVIEW_ROWS else "Excel's limit",
        )
    ]
    _write_summary(summary, folder.summary, _hints(folder), notes)
    target = folder.path / WORKBOOK_FILE
    with atomic_bytes_writer(target) as handle:
        book.save(handle)
    return target


def _new_sheet(book: Workbook, title: str) -> _Sheet:
    sheet: _Sheet = book.create_sheet(title)
    sheet.freeze_panes = "A2"  # before the first row: write-only mode writes the view first
    return sheet


def _write_report(
    sheet: _Sheet, folder: RunFolder, report: str, max_rows: int, why: str
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
    _set_widths(sheet, column_widths(header, sample))
    sheet.append(_header(sheet, header))
    own = own_columns(report, header)
    numbers = frozenset(i for i, name in enumerate(own) if name in NUMBER_COLUMNS)
    written = 0
    for cells in islice(chain(sample, rows), max_rows):
        sheet.append(
            [_number(sheet, c) if i in numbers else _text(sheet, c) for i, c in enumerate(cells)]
        )
        written += 1
    last_row = written + 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(max(len(header), 1))}{last_row}"
    for cell_range, rule in fill_rules(own, last_row):
        sheet.conditional_formatting.add(cell_range, rule)
    left_out = sum(1 for _ in rows)
    if left_out:
        notes.append(
            f"{SHEET_TITLES[report]} shows the first {written:,} of {written + left_out:,} rows"
            f" ({why}): {name} holds them all."
        )
    return notes


def _write_summary(
    sheet: _Sheet, summary: Mapping[str, Any], hints: Mapping[str, str], notes: Sequence[str]
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
    _set_widths(sheet, column_widths(ERROR_CODES_HEADER, shown))
    sheet.append(_header(sheet, SUMMARY_HEADER))
    for label, value in figures:
        sheet.append([_text(sheet, label), _cell(sheet, value)])
    sheet.auto_filter.ref = f"A1:B{len(figures) + 1}"  # the figures; the codes are a table apart
    if errors:
        sheet.append([])
        sheet.append(_header(sheet, ERROR_CODES_HEADER))
        for code, count, hint in errors:
            sheet.append([_text(sheet, code), _cell(sheet, count), _text(sheet, hint)])


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


def _set_widths(sheet: _Sheet, widths: Sequence[float]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def _header(sheet: _Sheet, names: Sequence[str]) -> list[_Value]:
    cells: list[_Value] = []
    for name in names:
        cell = _string_cell(sheet, _clean(name))
        cell.font = _BOLD
        cells.append(cell)
    return cells


def _plain(value: Any) -> str | int | float:
    """A summary.json value as a cell shows it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _cell(sheet: _Sheet, value: str | int | float) -> _Value:
    return _text(sheet, value) if isinstance(value, str) else value


def _number(sheet: _Sheet, text: str) -> _Value:
    if _NUMBER.fullmatch(text):
        return float(text) if "." in text else int(text)
    return _text(sheet, text)


def _text(sheet: _Sheet, text: str) -> _Value:
    if not text:
        return None  # no cell at all: smaller and faster than an empty string
    text = _clean(text)
    return _string_cell(sheet, text) if text.startswith(_TYPED_STARTS) else text


def _clean(text: str) -> str:
    """`text` with the control characters XML can't hold shown as escapes (\\x01), cut to
    what an Excel cell holds."""
    if ILLEGAL_CHARACTERS_RE.search(text) is not None:
        text = ILLEGAL_CHARACTERS_RE.sub(
            lambda m: m.group().encode("unicode_escape").decode(), text
        )
    if len(text) > EXCEL_MAX_CELL_CHARS:
        text = text[: EXCEL_MAX_CELL_CHARS - len(_CUT)] + _CUT
    return text


def _string_cell(sheet: _Sheet, text: str) -> Cell:
    cell = WriteOnlyCell(sheet, text)
    cell.data_type = "s"
    return cell
