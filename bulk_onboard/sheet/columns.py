"""Which column of the user's file holds which field, decided once per file from its header."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from bulk_onboard.base.printable import printable
from bulk_onboard.base.redaction import APP_PASSWORD
from bulk_onboard.errors import InputError
from bulk_onboard.sheet.aliases import FIELD_ALIASES, FIELD_BY_KEY, PASSWORD_FIELDS, header_key
from bulk_onboard.sheet.dialect import CANDIDATES, delimiter_name
from bulk_onboard.sheet.secret_headers import looks_secret
from bulk_onboard.sheet.table import unnamed_column

MAX_HEADERS_SHOWN = 10
MAX_HEADER_CHARS = 40
# failed.csv's own columns (reports.FAILED_COLUMNS, checked by a test): an input column of the
# same name gets a " (B)"-style suffix there, so reading the report by name stays unambiguous.
REPORT_OWN_COLUMNS = ("row", "email", "stage", "error_code", "http_status", "message", "hint",
                      "attempts")  # fmt: skip


def column_letters(index: int) -> str:
    """The spreadsheet letters of column `index` (0-based): 0 -> A, 26 -> AA."""
    letters = ""
    n = index + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def column_label(index: int) -> str:
    """How a user finds column `index` (0-based): `column 3 (C)`."""
    return f"column {index + 1} ({column_letters(index)})"


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """The mapping of fields to column indices for one header row.

    `report_headers` names every column uniquely (a blank or repeated header gets its column
    letter), so it is what keys a row's `original` cells.
    """

    headers: tuple[str, ...]
    report_headers: tuple[str, ...]
    index: Mapping[str, int]  # field -> column index
    ignored: tuple[str, ...]  # report headers of the columns no field uses
    secret_columns: frozenset[int]
    blanked_secrets: Mapping[str, str]  # report header -> "" for each secret column

    def ignored_shown(self) -> str:
        """The unused columns, listed safely for a terminal or a log line: the first few."""
        shown = ", ".join(printable(h, MAX_HEADER_CHARS) for h in self.ignored[:MAX_HEADERS_SHOWN])
        more = len(self.ignored) - MAX_HEADERS_SHOWN
        return f"{shown} and {more:,} more" if more > 0 else shown

    @classmethod
    def from_headers(cls, headers: Sequence[str]) -> ColumnMap:
        """Map a header row; raise `InputError` if it has no email column or two for one field."""
        shown = tuple(h.strip() for h in headers)
        index: dict[str, int] = {}
        ignored: list[str] = []
        secret: set[int] = set()
        unnamed: set[int] = set()
        report = _report_headers(shown)
        for i, header in enumerate(shown):
            key = header_key(header)
            field = FIELD_BY_KEY.get(key)
            if field is None:
                ignored.append(report[i])
                if looks_secret(header):
                    secret.add(i)
                elif header in ("", unnamed_column(i + 1)):
                    unnamed.add(i)  # may hold anything, a password too: blanked in reports
                continue
            if field in index:
                first = index[field]
                raise InputError(
                    f"Columns '{printable(shown[first], MAX_HEADER_CHARS)}' in "
                    f"{column_label(first)} and '{printable(header, MAX_HEADER_CHARS)}' in "
                    f"{column_label(i)} both mean '{FIELD_ALIASES[field][0]}': keep one of them "
                    "and remove or rename the other."
                )
            index[field] = i
            if field in PASSWORD_FIELDS:
                secret.add(i)
        if "email" not in index:
            raise InputError(
                f"No email column found: name one of the columns 'Email' (headers seen: "
                f"{_headers_seen(shown)}).{_another_delimiter(shown)}"
            )
        return cls(
            headers=tuple(headers),
            report_headers=report,
            index=MappingProxyType(index),
            ignored=tuple(ignored),
            secret_columns=frozenset(secret),
            blanked_secrets=MappingProxyType(
                dict.fromkeys((report[i] for i in sorted(secret | unnamed)), "")
            ),
        )

    def header_for(self, field: str) -> str:
        """The header the user's file gives `field`; its usual spelling when the file lacks it."""
        i = self.index.get(field)
        return FIELD_ALIASES.get(field, (field,))[0] if i is None else self.report_headers[i]

    def describe(self) -> list[tuple[str, str]]:
        """(user header, field) for every mapped column, in the file's column order."""
        by_column = sorted(self.index.items(), key=lambda item: item[1])
        return [(self.headers[i].strip(), field) for field, i in by_column]


def _report_headers(shown: Sequence[str]) -> tuple[str, ...]:
    seen: set[str] = set(REPORT_OWN_COLUMNS)
    names: list[str] = []
    for i, header in enumerate(shown):
        name = header or f"Column {column_letters(i)}"
        if name in seen:
            name = f"{name} ({column_letters(i)})"
        seen.add(name)
        names.append(name)
    return tuple(names)


def _another_delimiter(shown: Sequence[str]) -> str:
    """A sentence for a header read with the wrong delimiter (`--delimiter` given wrongly): one
    of its cells, split at another delimiter, names the email column. Else ""."""
    for delimiter in CANDIDATES:
        name = delimiter_name(delimiter)
        for header in shown:
            if delimiter in header and any(
                FIELD_BY_KEY.get(header_key(part)) == "email" for part in header.split(delimiter)
            ):
                return (
                    f" The header reads as cells separated by {name!r}: pass --delimiter "
                    f"{name!r}, or leave --delimiter out."
                )
    return ""


def _headers_seen(shown: Sequence[str]) -> str:
    """The header cells an error may show: those that read as column names. The row taken as the
    header may be a note ("Password for all mailboxes:", then the password) or a data row with
    no address: a cell with a digit or an address, or one after a cell naming a secret, is
    counted but not shown."""
    if any("@" in h for h in shown):
        # The first line is data, not a header: its cells may hold a password; never echo them.
        return "the first line holds an email address, so it looks like data: add a header row"
    named: list[str] = []
    hidden = 0
    after_secret = False
    for header in shown:
        key = header_key(header)
        known = key in FIELD_BY_KEY
        if known or (_reads_as_column_name(header) and not after_secret):
            named.append(printable(header, MAX_HEADER_CHARS))
        elif header:
            hidden += 1
        after_secret = bool(header) and looks_secret(header)
    listed = ", ".join(named[:MAX_HEADERS_SHOWN]) or "none"
    more = len(named) - MAX_HEADERS_SHOWN
    if more > 0:
        listed += f" and {more} more"
    if hidden:
        cells = "1 cell not shown, as it" if hidden == 1 else f"{hidden} cells not shown, as they"
        listed += f"; {cells} may hold data"
    return listed


def _reads_as_column_name(header: str) -> bool:
    """Words of letters with spaces and light punctuation, as people name columns: no digit (a
    password nearly always has one), no address, and not four groups of four letters (a Google
    app password). Checked character by character: a pattern of repeated groups backtracks for
    ever on a long run of dots or dashes."""
    return (
        any(ch.isalpha() for ch in header)
        and all(ch.isalpha() or ch in _NAME_MARKS for ch in header)
        and not APP_PASSWORD.fullmatch(header)
    )


_NAME_MARKS = frozenset(" _-./()#&'?:*")
