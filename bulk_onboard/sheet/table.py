"""The values that flow from the reader through the normaliser: raw rows, problems, sources."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from bulk_onboard.errors import InputError


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What was learnt about the input file while opening it."""

    path: str  # as the user named it ("-" for stdin)
    sha256: str  # of the raw bytes
    format: str  # "csv" or "xlsx"
    encoding: str | None = None  # csv only: "utf-8", "utf-8-sig", "cp1252", ...
    delimiter: str | None = None  # csv only
    sheet: str | None = None  # xlsx only
    warnings: tuple[str, ...] = ()  # one sentence each, e.g. "decoded as cp1252"


@dataclass(frozen=True, slots=True)
class RawRow:
    """One data row as read. `number` is what a spreadsheet shows: header 1, first data row 2."""

    number: int
    cells: tuple[str, ...]  # same length as the header: short rows are padded with ""
    # What the reader found wrong with the row's layout (a value beyond the last header), which
    # fails this row alone; empty cells beyond the header are simply dropped.
    problem: Problem | None = None
    # A delimited row with more cells than its header: a delimiter inside an unquoted cell (a
    # comma in "Smith, John") moved every cell after it one place right, a password included,
    # so no cell of it can be trusted to be under its own header: rows/normalise.py keeps them
    # out of reports from the first password column on.
    shifted: bool = False


@dataclass(slots=True)
class Table:
    """An opened input: its header as the user wrote it and a stream of row chunks."""

    source: SourceInfo
    headers: tuple[str, ...]
    chunks: Iterator[list[RawRow]] = field(repr=False)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a row, in words a user can act on. Never holds a secret."""

    code: str  # stable snake_case error_code, e.g. "invalid_port"
    column: str | None  # the column as the user's file names it, if one is to blame
    message: str  # one sentence


def unnamed_column(position: int) -> str:
    """The name the reader gives a column whose header cell is empty (`position` from 1). What
    such a column holds is anyone's guess: its cells are blanked in reports, as a secret's."""
    return f"column_{position}"


def stray_value(where: str, fix: str) -> Problem:
    """The problem of a row holding a value beyond its header's last column (`where` it is)."""
    return Problem(
        "invalid_row", None, f"The row has a value in {where}, which has no header: {fix}"
    )


def empty_input(name: str) -> InputError:
    """The one rule for an input with nothing in it, said the same for every format.

    A header row is the least a table needs; a header with no row under it is a table of 0 rows.
    """
    return InputError(f"{name} is empty: it needs at least a header row naming its columns.")
