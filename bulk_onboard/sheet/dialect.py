"""How delimited text is laid out: its delimiter (given or sniffed) and the line of its header."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain

from bulk_onboard.errors import InputError, UsageError
from bulk_onboard.sheet.aliases import (
    BOM_REMNANTS,
    HEADER_SEARCH_ROWS,
    header_below_notes,
    header_like,
    names_email,
    title_like,
    title_rows_skipped,
)
from bulk_onboard.sheet.table import empty_input

CANDIDATES = ",;\t|"  # the delimiters sniffed for
_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
_SEP_LINE = re.compile(r'sep=([^"\r\n])', re.IGNORECASE)  # Excel's delimiter declaration
_SNIFF_TOKEN = re.compile(r'"[^"]*"?|\r\n?|\n|[,;\t|]')
_SNIFF_RECORDS = 20


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the table starts in a delimited text file, and what separates its cells."""

    delimiter: str
    header_line: int  # physical line, 1-based
    header_row: int  # spreadsheet row: blank lines above the header count, a sep= line doesn't
    # A title and other rows above the header, looked past (aliases.HEADER_SEARCH_ROWS).
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Record:
    text: str  # without its line break
    lines: int  # physical lines it spans, its line break included
    counts: dict[str, int]  # each candidate delimiter, outside quotes
    complete: bool  # False when cut short by the end of the sample or an open quote


def delimiter_option(value: str) -> str:
    """The delimiter `--delimiter` names (a character, or tab/comma/semicolon/pipe).

    Raises UsageError when it is not one character that can separate cells.
    """
    delimiter = _DELIMITER_NAMES.get(value.lower(), value)
    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise UsageError(f"--delimiter '{value}' cannot separate cells: pass , ; | or tab.")
    return delimiter


def delimiter_name(delimiter: str) -> str:
    """How `--delimiter` is given `delimiter`: `tab` for a tab, else the character."""
    return "tab" if delimiter == "\t" else delimiter


def sniff_layout(
    sample: str, complete: bool, name: str, prefer_tab: bool, given: str | None = None
) -> Layout:
    """Find the header line of decoded text `sample` and the delimiter its records agree on.

    `complete` says whether the sample is the whole file; `prefer_tab` breaks ties towards tab
    (a .tsv file); `given` is `--delimiter`'s, which wins. A `sep=` line, as Excel writes,
    declares the delimiter and is not the header. The header is the first row with a value,
    unless rows of one cell each (a title, a date, a note) sit above a row that names an email
    column: then that row is the header, the rows above it are skipped, and `warnings` says so.
    Raises InputError when there is no header to find.
    """
    # csv.Sniffer guesses from character frequencies over the whole sample, so a comma inside an
    # unquoted "Smith, John" in a semicolon file fools it; counting delimiters outside quotes per
    # record and checking the header's count recurs below is both simpler and steadier.
    for remnant in BOM_REMNANTS:  # a UTF-8 BOM, or one read as Windows-1252
        sample = sample.removeprefix(remnant)
    records = _sniff_records(sample, complete)
    record, line, declared = next(records, None), 1, None
    if record is not None and (sep_line := _SEP_LINE.fullmatch(record.text)):
        declared, line, record = sep_line.group(1), line + record.lines, next(records, None)
    fixed = given or declared
    # Each record with a value (not only delimiters), with its first physical line and its
    # spreadsheet row.
    valued: list[tuple[_Record, int, int]] = []
    for row, found in enumerate(chain([record] if record else [], records), start=1):
        if "".join(found.text.split()).strip(CANDIDATES):  # more than spaces and delimiters
            valued.append((found, line, row))
        line += found.lines
    if not valued and complete:
        raise empty_input(name)
    if not valued:
        raise InputError(f"{name} starts with 64 KiB of blank lines: delete them above the header.")
    at, below = _header_at(valued, fixed, prefer_tab)
    if below is not None:
        raise InputError(header_below_notes(name, below))
    _, header_line, header_row = valued[at]
    delimiter = fixed or _delimiter_under(valued, at, prefer_tab)
    warnings = (title_rows_skipped(header_row),) if at else ()
    return Layout(delimiter, header_line, header_row, warnings)


_Placed = list[tuple[_Record, int, int]]  # records with their first line and their row


def _following(valued: _Placed, at: int) -> list[dict[str, int]]:
    """The delimiter counts of the complete records after record `at`, as many as are looked at."""
    return [found.counts for found, _, _ in valued[at + 1 :] if found.complete][:_SNIFF_RECORDS]


def _delimiter_under(valued: _Placed, at: int, prefer_tab: bool) -> str:
    """The delimiter the header (record `at`) and the complete records after it agree on."""
    return _choose_delimiter(valued[at][0].counts, _following(valued, at), prefer_tab)


def _header_at(valued: _Placed, fixed: str | None, prefer_tab: bool) -> tuple[int, int | None]:
    """Which record with a value is the header: the first, unless it and the next are titles
    (one plain cell each) above one that names an email column, among the first few. Also the
    row of a whole header (aliases.header_like) below a record that is more than a title, when
    no header is found: such a file is refused naming that row, not showing those above it."""
    blocked: int | None = None
    for at, (found, _, row) in enumerate(valued[:HEADER_SEARCH_ROWS]):
        named = found.complete and _names_email(found.text, (fixed,) if fixed else CANDIDATES)
        if named and at == 0:
            return at, None
        if named and "@" not in found.text:
            delimiter = fixed or _delimiter_under(valued, at, prefer_tab)
            if not all(title_like(above.text.split(delimiter)) for above, _, _ in valued[:at]):
                if blocked is None and header_like(found.text.split(delimiter)):
                    blocked = row
            elif _agrees_with_following(valued, at, delimiter):
                return at, None
        # Past a quote or a line break, which rows the records are is not certain; an address
        # is data, not a title.
        if found.lines != 1 or '"' in found.text or "@" in found.text:
            break
    return 0, blocked


def _agrees_with_following(valued: _Placed, at: int, delimiter: str) -> bool:
    """Whether record `at`, a header below titles, has as many cells as most records after it
    under its delimiter (records above it have no quote, see _header_at: splitting is exact)."""
    header = valued[at][0]
    following = _following(valued, at)
    agreeing = sum(counts[delimiter] == header.counts[delimiter] for counts in following)
    return 2 * agreeing >= len(following)


def _names_email(text: str, delimiters: Iterable[str]) -> bool:
    """Whether a record, split at one of `delimiters`, has a cell naming the email column."""
    for delimiter in delimiters:
        try:
            cells = next(csv.reader([text], delimiter=delimiter))
        except csv.Error:  # split at the wrong delimiter, a quoted cell can look broken
            continue
        if names_email(cells):
            return True
    return False


def _sniff_records(sample: str, complete: bool) -> Iterator[_Record]:
    start, counts = 0, dict.fromkeys(CANDIDATES, 0)
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
            start, counts = token.end(), dict.fromkeys(CANDIDATES, 0)
    if start < len(sample):
        yield _Record(sample[start:], 1, counts, complete)


def _choose_delimiter(header: dict[str, int], following: list[dict[str, int]], tsv: bool) -> str:
    def score(candidate: str) -> tuple[float, bool, int]:
        agreeing = sum(counts[candidate] == header[candidate] for counts in following)
        share = agreeing / len(following) if following else 1.0
        return share, tsv and candidate == "\t", header[candidate]

    found = [candidate for candidate in CANDIDATES if header[candidate]]
    return max(found, key=score) if found else ("\t" if tsv else ",")


def _line_breaks(text: str) -> int:
    return text.count("\n") + text.count("\r") - text.count("\r\n")
