"""Open the input spreadsheet (CSV/TSV/TXT, .xlsx or stdin) as a header and a stream of raw rows."""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import ExitStack
from functools import partial
from itertools import chain
from typing import BinaryIO

import pandas as pd
from pandas.errors import EmptyDataError, ParserError

from bulk_onboard.errors import InputError, InputMissingError
from bulk_onboard.sheet.aliases import BOM_REMNANTS
from bulk_onboard.sheet.dialect import delimiter_option, sniff_layout
from bulk_onboard.sheet.encoding import decode_source, sha256_of
from bulk_onboard.sheet.parse_errors import describe_parse_error
from bulk_onboard.sheet.table import (
    RawRow,
    SourceInfo,
    Table,
    empty_input,
    stray_value,
    unnamed_column,
)

_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
_IGNORED_FOR_WORKBOOK = "--encoding and --delimiter were ignored: they apply to text files only."
_IGNORED_FOR_TEXT = "--sheet was ignored: it applies to .xlsx workbooks only."
# Cells a row may have past the header and still be read (the extra ones fail only that row).
MAX_EXTRA_CELLS = 64
# pandas' C parser on a row wider than the frame.
_TOO_WIDE = re.compile(r"Expected (?P<expected>\d+) fields in line \d+, saw (?P<saw>\d+)")


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
    title, header, chunks, notes = xlsx.open_sheet(handle, path, sheet, chunk_rows, resources)
    source = SourceInfo(path, sha256, "xlsx", sheet=title, warnings=notes + warnings)
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
    tsv = path.lower().endswith(".tsv")
    layout = sniff_layout(decoded.sample, decoded.complete, name, tsv, given=chosen)
    separator = layout.delimiter
    records = _Records(handle, decoded.encoding, separator, layout.header_line, chunk_rows)
    diagnose = partial(
        describe_parse_error,
        handle,
        decoded.encoding,
        separator,
        layout.header_line,
        name,
        extra_cells=MAX_EXTRA_CELLS,
    )
    frames = records.frames(diagnose)
    resources.callback(frames.close)
    first = _next_frame(frames)
    if first is None:
        raise empty_input(name)
    width = records.header_width
    headers = _header_names(first.iloc[0].tolist()[:width])
    number = layout.header_row + len(first)
    rows = _to_rows(first.iloc[1:], layout.header_row + 1, width)
    source = SourceInfo(
        path,
        decoded.sha256,
        "csv",
        encoding=decoded.encoding,
        delimiter=separator,
        warnings=decoded.warnings + layout.warnings + warnings,
    )
    chunks = chain([rows] if rows else [], _later_chunks(frames, number, width))
    return source, headers, chunks


class _Records:
    """The records of a delimited file as pandas frames, the header's first, read by the C parser.

    pandas takes the header's cell count as the width of every row and refuses a wider one. An
    export often ends every row with one more delimiter (`a,b,c,` under `A,B,C`), and a note
    typed beyond the table adds cells too: on such a row the file is read again, wider, from
    the top (rows already handed on are skipped), up to MAX_EXTRA_CELLS cells past the header.
    `_to_rows` then drops the empty ones and fails a row holding a value there. Files without
    such rows, nearly all of them, are parsed once as before.
    """

    def __init__(
        self, handle: BinaryIO, encoding: str, separator: str, header_line: int, chunk_rows: int
    ) -> None:
        self._handle = handle
        self._encoding = encoding
        self._separator = separator
        self._header_line = header_line
        self._chunk_rows = chunk_rows
        self.header_width = 0  # cells of the header; known once the first frame is read

    def frames(self, diagnose: Callable[[], InputError]) -> Generator[pd.DataFrame, None, None]:
        """Every record, in frames; InputError (from `diagnose`) for what can't be parsed."""
        width: int | None = None  # as wide as the header
        handed = 0  # records already yielded
        while True:
            try:
                seen = 0
                for frame in self._parse(width):
                    skip, seen = max(0, handed - seen), seen + len(frame)
                    if skip >= len(frame):
                        continue
                    if not self.header_width:
                        self.header_width = frame.shape[1]
                    part = frame.iloc[skip:] if skip else frame
                    handed += len(part)
                    yield part
                return
            except EmptyDataError:  # nothing but a BOM, say, after the blank lines
                return
            except ParserError as error:
                too_wide = _TOO_WIDE.search(str(error))
                if too_wide is None:
                    raise diagnose() from None
                if width is None:  # pandas counted the header's cells: "Expected N fields"
                    self.header_width = int(too_wide["expected"])
                widest = self.header_width + MAX_EXTRA_CELLS
                saw = int(too_wide["saw"])
                if saw > widest:
                    raise diagnose() from None
                # The usual trailing delimiter needs one more cell; a file that keeps widening
                # doubles, so it is read again a few times at most.
                width = min(widest, saw if width is None else max(saw, 2 * width))

    def _parse(self, width: int | None) -> Iterator[pd.DataFrame]:
        self._handle.seek(0)
        # newline="" hands pandas the line breaks untouched, so \r inside a quoted cell survives.
        text = io.TextIOWrapper(self._handle, self._encoding, newline="")
        try:
            for _ in range(self._header_line - 1):
                text.readline()  # pandas' skiprows miscounts blank lines in CR-only files
            with pd.read_csv(
                text,
                sep=self._separator,
                header=None,  # read as a row, so duplicate names stay as written
                names=None if width is None else range(width),
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=False,  # blank lines must keep their place in the numbering
                index_col=False,
                quotechar='"',
                doublequote=True,
                chunksize=self._chunk_rows,
                engine="c",
            ) as reader:
                yield from reader
        finally:
            text.detach()  # the file outlives the wrapper: a wider pass reads it again


def _next_frame(frames: Iterator[pd.DataFrame]) -> pd.DataFrame | None:
    return next(frames, None)


def _later_chunks(
    frames: Iterator[pd.DataFrame], number: int, width: int
) -> Iterator[list[RawRow]]:
    for frame in frames:
        rows = _to_rows(frame, number, width)
        number += len(frame)
        if rows:
            yield rows


def _to_rows(frame: pd.DataFrame, number: int, width: int) -> list[RawRow]:
    # One object array per chunk: the cells pandas already built are reused, not copied again.
    records = frame.to_numpy(dtype=object).tolist()
    if frame.shape[1] == width:
        return [
            RawRow(number + offset, tuple(cells))
            for offset, cells in enumerate(records)
            if "".join(cells).strip()
        ]
    rows = []
    for offset, cells in enumerate(records):
        if not "".join(cells).strip():
            continue
        stray = next((i for i in range(width, len(cells)) if cells[i].strip()), None)
        problem = None
        if stray is not None:
            problem = stray_value(
                f"cell {stray + 1}, past the header's {width}",
                "quote the cell that holds the delimiter, or remove the extra cells.",
            )
        rows.append(RawRow(number + offset, tuple(cells[:width]), problem, problem is not None))
    return rows


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
        header = cell.replace("\0", "").strip()  # a NUL fails a data row, but not the header
        for remnant in BOM_REMNANTS:
            header = header.removeprefix(remnant).strip()
        names.append(header or unnamed_column(position))
    return tuple(names)
