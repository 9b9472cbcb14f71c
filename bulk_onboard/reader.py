"""Open the input spreadsheet (CSV/TSV/TXT, .xlsx or stdin) as a header and a stream of raw rows."""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from itertools import chain, islice
from typing import BinaryIO, TextIO

import pandas as pd
from pandas.errors import ParserError

from bulk_onboard import xlsx
from bulk_onboard.encoding import decode_source, sha256_of
from bulk_onboard.errors import InputError, InputMissingError, UsageError
from bulk_onboard.rows import RawRow, SourceInfo, Table

_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
_CANDIDATES = ",;\t|"
_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
_SEP_LINE = re.compile(r'sep=([^"\r\n])', re.IGNORECASE)  # Excel's delimiter declaration
_SNIFF_TOKEN = re.compile(r'"[^"]*"?|\r\n?|\n|[,;\t|]')
_SNIFF_RECORDS = 20
_BOM_REMNANTS = ("\ufeff", "ï»¿")  # the second is a UTF-8 BOM read as Windows-1252
_SCAN_CHARS = 1 << 20
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
    chosen = None if delimiter is None else _delimiter_option(delimiter)
    decoded = decode_source(handle, name, encoding)
    layout = _sniff(decoded.sample, decoded.complete, name, path.lower().endswith(".tsv"))
    separator = chosen or layout.delimiter
    diagnose = partial(_diagnose, handle, decoded.encoding, separator, layout.header_line, name)
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


def _delimiter_option(value: str) -> str:
    delimiter = _DELIMITER_NAMES.get(value.lower(), value)
    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise UsageError(f"--delimiter '{value}' cannot separate cells: pass , ; | or tab.")
    return delimiter


@dataclass(frozen=True, slots=True)
class _Layout:
    delimiter: str
    header_line: int  # physical line, 1-based
    header_row: int  # spreadsheet row: blank lines above the header count, a sep= line doesn't


@dataclass(frozen=True, slots=True)
class _Record:
    text: str  # without its line break
    lines: int  # physical lines it spans, its line break included
    counts: dict[str, int]  # each candidate delimiter, outside quotes
    complete: bool  # False when cut short by the end of the sample or an open quote


def _sniff(sample: str, complete: bool, name: str, prefer_tab: bool) -> _Layout:
    # csv.Sniffer guesses from character frequencies over the whole sample, so a comma inside an
    # unquoted "Smith, John" in a semicolon file fools it; counting delimiters outside quotes per
    # record and checking the header's count recurs below is both simpler and steadier.
    records = _sniff_records(sample.removeprefix("\ufeff"), complete)
    record, line, declared, blanks = next(records, None), 1, None, 0
    if record is not None and (sep_line := _SEP_LINE.fullmatch(record.text)):
        declared, line, record = sep_line.group(1), line + record.lines, next(records, None)
    while record is not None and not record.text.strip():
        blanks, line, record = blanks + 1, line + record.lines, next(records, None)
    if record is None and complete:
        raise InputError(f"{name} is empty: it needs a header row and at least one data row.")
    if record is None:
        raise InputError(f"{name} starts with 64 KiB of blank lines: delete them above the header.")
    following = list(
        islice((r.counts for r in records if r.complete and r.text.strip()), _SNIFF_RECORDS)
    )
    delimiter = declared or _choose_delimiter(record.counts, following, prefer_tab)
    return _Layout(delimiter, line, blanks + 1)


def _sniff_records(sample: str, complete: bool) -> Iterator[_Record]:
    start, counts = 0, dict.fromkeys(_CANDIDATES, 0)
    for token in _SNIFF_TOKEN.finditer(sample):
        found = token.group()
        if found in counts:
            counts[found] += 1
        elif found[0] == '"':
            if len(found) == 1 or found[-1] != '"':
                complete = False
                break
        else:
            text = sample[start : token.start()]
            yield _Record(text, _line_breaks(text) + 1, counts, True)
            start, counts = token.end(), dict.fromkeys(_CANDIDATES, 0)
    if start < len(sample):
        yield _Record(sample[start:], 1, counts, complete)


def _choose_delimiter(header: dict[str, int], following: list[dict[str, int]], tsv: bool) -> str:
    def score(candidate: str) -> tuple[float, bool, int]:
        agreeing = sum(counts[candidate] == header[candidate] for counts in following)
        share = agreeing / len(following) if following else 1.0
        return share, tsv and candidate == "\t", header[candidate]

    found = [candidate for candidate in _CANDIDATES if header[candidate]]
    return max(found, key=score) if found else ("\t" if tsv else ",")


def _line_breaks(text: str) -> int:
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def _diagnose(
    handle: BinaryIO, encoding: str, delimiter: str, header_line: int, name: str
) -> InputError:
    """Turn a pandas ParserError into a sentence naming the physical line at fault.

    pandas counts records, not lines, and counts them differently per error, so the file is
    walked again from the top; this happens once, on the way to stopping.
    """
    handle.seek(0)
    text = io.TextIOWrapper(handle, encoding)  # universal newlines: every line break is "\n"
    try:
        for _ in range(header_line - 1):
            text.readline()
        problem = _find_problem(text, delimiter, header_line)
    finally:
        text.detach()
    return problem or InputError(
        f"{name} could not be read as a table: check that every quoted cell is closed and that"
        " the delimiter is right (--delimiter)."
    )


_START, _UNQUOTED, _QUOTED, _AFTER_QUOTE = range(4)


def _find_problem(text: TextIO, delimiter: str, line: int) -> InputError | None:
    """Walk records as pandas' C tokenizer does; describe the first one it rejects, if any."""
    stops = {_UNQUOTED: re.compile(f"[{re.escape(delimiter)}\n]"), _QUOTED: re.compile('["\n]')}
    state, width, cells, record_line, quote_line = _START, 0, 1, line, line
    while block := text.read(_SCAN_CHARS):
        at = 0
        while at < len(block):
            if state in stops:
                stop = stops[state].search(block, at)
                if stop is None:
                    break
                char, at = stop.group(), stop.end()
            else:
                char, at = block[at], at + 1
            if state == _QUOTED:
                if char == "\n":
                    line += 1
                else:
                    state = _AFTER_QUOTE
            elif char == '"':  # only reached at a cell's start or right after a closing quote
                if state == _START:
                    quote_line = line
                state = _QUOTED
            elif char == delimiter:
                cells, state = cells + 1, _START
            elif char == "\n":
                if width and cells > width:
                    return _too_many_cells(record_line, cells, width)
                width = width or cells  # the first record is the header
                line, record_line, cells, state = line + 1, line + 1, 1, _START
            else:
                state = _UNQUOTED  # a quote after this is a literal character, as in pandas
    if state == _QUOTED:
        return InputError(
            f'Line {quote_line} opens a quoted cell that never closes: add the missing " or'
            " remove the stray one."
        )
    return _too_many_cells(record_line, cells, width) if width and cells > width else None


def _too_many_cells(line: int, cells: int, width: int) -> InputError:
    return InputError(
        f"Line {line} has {cells} cells but the header has {width}: quote the cell that contains"
        " the delimiter, or remove the extra cell."
    )
