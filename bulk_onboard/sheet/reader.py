"""Open the input spreadsheet (CSV/TSV/TXT, .xlsx or stdin) as a header and a stream of raw rows."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import ExitStack
from functools import partial
from itertools import chain
from typing import BinaryIO

import pandas as pd
from pandas.errors import ParserError

from bulk_onboard.errors import InputError, InputMissingError
from bulk_onboard.sheet.dialect import delimiter_option, sniff_layout
from bulk_onboard.sheet.encoding import decode_source, sha256_of
from bulk_onboard.sheet.parse_errors import describe_parse_error
from bulk_onboard.sheet.table import RawRow, SourceInfo, Table

_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
_BOM_REMNANTS = ("\ufeff", "ï»¿")  # the second is a UTF-8 BOM read as Windows-1252
_IGNORED_FOR_WORKBOOK = "--encoding and --delimiter were ignored: they apply to text files only."
_IGNORED_FOR_TEXT = "--sheet was ignored: it applies to .xlsx workbooks only."


def open_table(
    path: str,
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    chunk_rows: int = 2000,
    stdin: BinaryIO | None = None,
) -> Table:
    """Open `path` ("-" for CSV on `stdin`) as a header and a stream of row chunks.

    `.xlsx`/`.xlsm` are read as workbooks (first sheet unless `sheet`); anything else as delimited
    text whose encoding and delimiter are detected unless given. Row numbers are those a
    spreadsheet shows (header = 1); blank rows are skipped but keep their place in the numbering.

    Raises InputMissingError when the file does not exist, UsageError for an unknown encoding or
    delimiter, and InputError when the input can't be read as a table. The header and the first
    chunk are read here; a problem further down (a quote that never closes, a row with too many
    cells) is raised as InputError by `Table.chunks` while it is iterated. `Table.chunks` is a
    generator that closes the file when exhausted, when it fails, or when closed.
    """
    name = "Standard input" if path == "-" else f"Input file '{path}'"
    with ExitStack() as resources:
        handle = resources.enter_context(_open_bytes(path, name, stdin))
        if path.lower().endswith(_WORKBOOK_SUFFIXES):
            ignored = () if encoding is None and delimiter is None else (_IGNORED_FOR_WORKBOOK,)
            source, headers, chunks = _open_workbook(
                handle, path, sheet, chunk_rows, resources, ignored
            )
        else:
            ignored = () if sheet is None else (_IGNORED_FOR_TEXT,)
            source, headers, chunks = _open_delimited(
                handle, path, name, encoding, delimiter, chunk_rows, resources, ignored
            )
        return Table(source, headers, _closing(chunks, resources.pop_all()))


def _open_bytes(path: str, name: str, stdin: BinaryIO | None) -> BinaryIO:
    if path == "-":
        # Standard input can be read only once, but it is read twice (a pre-pass, then the parse)
        # and again to locate a parse error, so it is buffered in memory.
        return io.BytesIO((sys.stdin.buffer if stdin is None else stdin).read())
    try:
        return open(path, "rb")  # the caller's ExitStack closes it
    except (FileNotFoundError, NotADirectoryError):
        raise InputMissingError(f"{name} does not exist.") from None
    except IsADirectoryError:
        raise InputError(
            f"{name} is a directory, not a spreadsheet: name a .csv, .tsv, .txt or .xlsx file."
        ) from None
    except PermissionError:
        raise InputError(
            f"{name} cannot be read (permission denied): check its permissions."
        ) from None
    except OSError as err:
        raise InputError(f"{name} cannot be read ({err.strerror}): check the file.") from None


def _open_workbook(
    handle: BinaryIO,
    path: str,
    sheet: str | None,
    chunk_rows: int,
    resources: ExitStack,
    warnings: tuple[str, ...],
) -> tuple[SourceInfo, tuple[str, ...], Iterator[list[RawRow]]]:
    # Imported here: openpyxl takes a tenth of a second and megabytes that CSV input never needs.
    from bulk_onboard.sheet import xlsx

    sha256 = sha256_of(handle)
    title, header, chunks = xlsx.open_sheet(handle, path, sheet, chunk_rows, resources)
    source = SourceInfo(path, sha256, "xlsx", sheet=title, warnings=warnings)
    return source, _header_names(header), chunks


def _open_delimited(
    handle: BinaryIO,
    path: str,
    name: str,
    encoding: str | None,
    delimiter: str | None,
    chunk_rows: int,
    resources: ExitStack,
    warnings: tuple[str, ...],
) -> tuple[SourceInfo, tuple[str, ...], Iterator[list[RawRow]]]:
    chosen = None if delimiter is None else delimiter_option(delimiter)
    decoded = decode_source(handle, name, encoding)
    layout = sniff_layout(decoded.sample, decoded.complete, name, path.lower().endswith(".tsv"))
    separator = chosen or layout.delimiter
    diagnose = partial(
        describe_parse_error, handle, decoded.encoding, separator, layout.header_line, name
    )
    # newline="" hands pandas the line breaks untouched, so \r inside a quoted cell survives.
    text = resources.enter_context(io.TextIOWrapper(handle, decoded.encoding, newline=""))
    for _ in range(layout.header_line - 1):
        text.readline()  # pandas' skiprows miscounts blank lines in CR-only files
    try:
        reader = pd.read_csv(
            text,
            sep=separator,
            header=None,  # read as a row, so duplicate names stay as written
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,  # blank lines must keep their place in the row numbering
            index_col=False,
            quotechar='"',
            doublequote=True,
            chunksize=chunk_rows,
            engine="c",
        )
    except ParserError:
        raise diagnose() from None
    resources.enter_context(reader)
    frames = iter(reader)
    first = _next_frame(frames, diagnose)
    if first is None:
        raise InputError(f"{name} is empty: it needs a header row and at least one data row.")
    headers = _header_names(first.iloc[0].tolist())
    number = layout.header_row + len(first)
    rows = _to_rows(first.iloc[1:], layout.header_row + 1)
    source = SourceInfo(
        path,
        decoded.sha256,
        "csv",
        encoding=decoded.encoding,
        delimiter=separator,
        warnings=decoded.warnings + warnings,
    )
    chunks = chain([rows] if rows else [], _later_chunks(frames, number, diagnose))
    return source, headers, chunks


def _next_frame(
    frames: Iterator[pd.DataFrame], diagnose: Callable[[], InputError]
) -> pd.DataFrame | None:
    try:
        return next(frames)
    except StopIteration:
        return None
    except ParserError:
        raise diagnose() from None


def _later_chunks(
    frames: Iterator[pd.DataFrame], number: int, diagnose: Callable[[], InputError]
) -> Iterator[list[RawRow]]:
    while (frame := _next_frame(frames, diagnose)) is not None:
        rows = _to_rows(frame, number)
        number += len(frame)
        if rows:
            yield rows


def _to_rows(frame: pd.DataFrame, number: int) -> list[RawRow]:
    # One object array per chunk: the cells pandas already built are reused, not copied again.
    return [
        RawRow(number + offset, tuple(cells))
        for offset, cells in enumerate(frame.to_numpy(dtype=object).tolist())
        if "".join(cells).strip()
    ]


def _closing(chunks: Iterator[list[RawRow]], resources: ExitStack) -> Iterator[list[RawRow]]:
    generator = _release_after(chunks, resources)
    # Step into the try block now: close() on a generator that never started skips its finally.
    next(generator)
    return generator


def _release_after(
    chunks: Iterator[list[RawRow]], resources: ExitStack
) -> Generator[list[RawRow], None, None]:
    try:
        yield []
        yield from chunks
    finally:
        resources.close()


def _header_names(cells: Iterable[str]) -> tuple[str, ...]:
    """Header cells without surrounding spaces or BOM; an empty one is named column_<n>, 1-based."""
    names = []
    for position, cell in enumerate(cells, start=1):
        header = cell.strip()
        for remnant in _BOM_REMNANTS:
            header = header.removeprefix(remnant).strip()
        names.append(header or f"column_{position}")
    return tuple(names)
