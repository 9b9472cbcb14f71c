"""Read one sheet of an .xlsx/.xlsm workbook as rows of text, streaming (openpyxl read-only)."""

from __future__ import annotations

import shlex
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date, datetime, time
from itertools import chain
from typing import BinaryIO

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from bulk_onboard.errors import InputError
from bulk_onboard.sheet.aliases import (
    HEADER_SEARCH_ROWS,
    header_below_notes,
    header_like,
    names_email,
    title_like,
    title_rows_skipped,
)
from bulk_onboard.sheet.table import RawRow, empty_input, stray_value
from bulk_onboard.sheet.xlsx_limits import EXCEL_MAX_CELL_CHARS, check_workbook

# What a damaged, encrypted or mislabelled workbook raises from inside openpyxl and zipfile; XML
# parse errors (ElementTree's and lxml's) are SyntaxError subclasses.
_BROKEN = (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, SyntaxError, zlib.error)


def open_sheet(
    handle: BinaryIO, path: str, sheet: str | None, chunk_rows: int, resources: ExitStack
) -> tuple[str, tuple[str, ...], Iterator[list[RawRow]], tuple[str, ...]]:
    """Open a sheet: its title, its raw header cells, its chunks of rows and warnings.

    The header is the first row holding a value, unless a title or a note sits above it: then
    it is the first of the next rows that names an email column, and a warning says the rows
    above it were skipped. Trailing empty header cells are dropped. Row
    numbers are the sheet's own, so they match what Excel shows even after blank rows, which are
    skipped. The workbook's closing is pushed onto `resources`. Iterating the chunks raises
    InputError for a damaged sheet; a value in a column that has no header fails its row.
    """
    name = f"Input file '{path}'"
    check_workbook(handle, name)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it drops; none of that matters for values.
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(handle, read_only=True, data_only=True, keep_links=False)
    except _BROKEN:
        raise InputError(_broken(name)) from None
    resources.callback(book.close)
    worksheet = _pick(book, sheet, name)
    rows, valued, at = _find_header(worksheet, name)
    if not (valued and names_email(valued[at][1])):
        if sheet is None:
            _refuse_for_another_sheet(book, worksheet, name)
        if valued:
            rows = _refuse_header_below_notes(rows, valued, name)
    if not valued:
        raise empty_input(f"Sheet '{worksheet.title}' of input file '{path}'")
    number, header = valued[at]
    notes = (title_rows_skipped(number),) if at else ()
    # Rows read past a header that names no email column are handed on as data again.
    after = ((n, tuple(cells)) for n, cells in valued[at + 1 :])
    chunks = _chunks(chain(after, rows), len(header), chunk_rows)
    return worksheet.title, tuple(header), chunks, notes


_Numbered = Iterator[tuple[int, tuple[object, ...]]]


def _find_header(
    worksheet: ReadOnlyWorksheet, name: str
) -> tuple[_Numbered, list[tuple[int, list[str]]], int]:
    """The sheet's rows after those read, the rows with a value read (the header is looked for
    as in a text file: sheet/dialect.py), and which of them is the header."""
    # Tools other than Excel often write a wrong <dimension>, which would make read-only mode cut
    # rows short; forgetting it makes openpyxl read every cell that is really there.
    worksheet.reset_dimensions()
    rows = enumerate(_values(worksheet, name), start=1)
    valued: list[tuple[int, list[str]]] = []
    for number, values in rows:
        cells = [_text(value) for value in values]
        while cells and not cells[-1].strip():
            cells.pop()
        _check_cell_sizes(number, cells)
        if not cells:
            continue
        valued.append((number, cells))
        # The first row is the header, unless it and the next are titles above a row naming an
        # email column.
        if names_email(cells) or not title_like(cells) or len(valued) == HEADER_SEARCH_ROWS:
            break
    last = len(valued) - 1
    titled = last > 0 and names_email(valued[last][1]) and "@" not in "".join(valued[last][1])
    return rows, valued, last if titled else 0


def _refuse_header_below_notes(
    rows: _Numbered, valued: list[tuple[int, list[str]]], name: str
) -> _Numbered:
    """Refuse the sheet when a row among the first few names an email column though the rows
    above it (`valued`, and those after them) are more than titles, as a text file is
    (sheet/dialect.py); else the rows looked at are handed back, for the header's mapping to
    refuse. Past a row holding an address, no row is a header."""
    looked: list[tuple[int, tuple[object, ...]]] = []
    seen = len(valued)
    if seen >= HEADER_SEARCH_ROWS or any("@" in cell for _, cells in valued for cell in cells):
        return rows
    for number, values in rows:
        looked.append((number, values))
        cells = [_text(value) for value in values]
        if not any(cell.strip() for cell in cells):
            continue
        if any("@" in cell for cell in cells):
            break  # data: the rows that follow are no header either
        if names_email(cells) and header_like(cells):
            raise InputError(header_below_notes(name, number))
        seen += 1
        if seen == HEADER_SEARCH_ROWS:
            break
    return chain(looked, rows)


def _refuse_for_another_sheet(book: Workbook, first: ReadOnlyWorksheet, name: str) -> None:
    """When the first sheet is empty or has no email column (instructions, a summary) and another
    has one, the file is refused naming that sheet; otherwise the header's mapping (or the empty
    sheet's error) says what is missing."""
    for worksheet in book.worksheets:
        if worksheet is first or not isinstance(worksheet, ReadOnlyWorksheet):
            continue
        _, valued, at = _find_header(worksheet, name)
        if valued and names_email(valued[at][1]):
            raise InputError(
                f"{name}: its first sheet, '{first.title}', has no email column, but sheet "
                f"'{worksheet.title}' has one: pass --sheet {shlex.quote(worksheet.title)}."
            )


def _pick(book: Workbook, sheet: str | None, name: str) -> ReadOnlyWorksheet:
    worksheets = [ws for ws in book.worksheets if isinstance(ws, ReadOnlyWorksheet)]
    if not worksheets:
        raise InputError(f"{name} has no worksheet: add one holding the mailboxes.")
    if sheet is None:
        return worksheets[0]
    # Excel refuses two sheet names that differ only in case, so matching without case is safe.
    for worksheet in worksheets:
        if worksheet.title.casefold() == sheet.casefold():
            return worksheet
    available = ", ".join(f"'{ws.title}'" for ws in worksheets)
    raise InputError(f"{name} has no sheet named '{sheet}': pass one of {available} with --sheet.")


def _values(worksheet: ReadOnlyWorksheet, name: str) -> Iterator[tuple[object, ...]]:
    rows = iter(worksheet.values)
    while True:
        try:
            values = next(rows)
        except StopIteration:
            return
        except _BROKEN:
            raise InputError(_broken(name)) from None
        yield values


def _chunks(
    rows: Iterator[tuple[int, tuple[object, ...]]], width: int, chunk_rows: int
) -> Iterator[list[RawRow]]:
    batch: list[RawRow] = []
    for number, values in rows:
        cells = [_text(value) for value in values]
        _check_cell_sizes(number, cells)
        if not "".join(cells).strip():
            continue
        # Dropping it silently would lose data; it is usually a note typed beside the table.
        stray = next((i for i in range(width, len(cells)) if cells[i].strip()), None)
        problem = None
        if stray is not None:
            problem = stray_value(
                f"column {get_column_letter(stray + 1)}",
                "give that column a header, or clear the cell.",
            )
        del cells[width:]
        cells.extend([""] * (width - len(cells)))
        batch.append(RawRow(number, tuple(cells), problem))
        if len(batch) == chunk_rows:
            yield batch
            batch = []
    if batch:
        yield batch


def _check_cell_sizes(number: int, cells: list[str]) -> None:
    if max(map(len, cells), default=0) > EXCEL_MAX_CELL_CHARS:
        index, cell = max(enumerate(cells), key=lambda item: len(item[1]))
        raise InputError(
            f"Row {number} has {len(cell):,} characters in column {get_column_letter(index + 1)},"
            f" more than a spreadsheet cell holds ({EXCEL_MAX_CELL_CHARS:,}): shorten that cell."
        )


def _text(value: object) -> str:
    """A cell's value as the text a person sees: 993 not 993.0, true/false, ISO dates."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _broken(name: str) -> str:
    return (
        f"{name} is not a readable .xlsx workbook (it may be damaged, password-protected or an old"
        " .xls file): open it in Excel and save it as .xlsx or as CSV."
    )
