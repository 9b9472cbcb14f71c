"""How results.xlsx looks: which columns are numbers, their colours, the sheets' titles, widths.

Colours are conditional-formatting rules over a column, not per-cell styles: a rule costs nothing
per row at 100,000 rows, and it stays right when a user edits or sorts the sheet. Each rule is an
expression that holds for one band only and never for a blank or text cell (Excel would compare
a blank as 0 and text as greater than any number), so no rule depends on another's priority.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bulk_onboard.api.accounts import SCORE_FIELDS
from bulk_onboard.reports.csv_reports import FAILED_COLUMNS
from bulk_onboard.reports.xlsx_writer import column_letter

# Excel's own "bad", "neutral" and "good" cell fills.
RED = "FFC7CE"
AMBER = "FFEB9C"
GREEN = "C6EFCE"

# A score's fill by band: (from, below, fill), an open end being None.
SCORE_BANDS: Sequence[tuple[float | None, float | None, str]] = (
    (None, 50, RED),
    (50, 80, AMBER),
    (80, None, GREEN),
)


def band_fill(score: float) -> str:
    """The fill of a score's band."""
    for low, below, fill in SCORE_BANDS:
        if (low is None or score >= low) and (below is None or score < below):
            return fill
    raise ValueError(score)  # the bands cover every number


# A flag's fill when its cell reads "true" and when it reads "false" (None: no fill, as a
# `suspended` of false is the normal case and colouring it would only be noise).
FLAG_FILLS: Mapping[str, tuple[str | None, str | None]] = {
    "alive": (GREEN, RED),
    "spf_valid": (GREEN, RED),
    "dkim_valid": (GREEN, RED),
    "dmarc_valid": (GREEN, RED),
    "suspended": (RED, None),
    "imap_issue": (RED, None),
}

# Columns coloured by the score bands: MailReach's scores, and the domain's average.
SCORED_COLUMNS = frozenset({*SCORE_FIELDS, "domain_avg_score"})
# Columns written as numbers when the cell is a plain number, so they sort and the score rules
# apply; every other cell is text.
NUMBER_COLUMNS = frozenset(
    {
        *SCORED_COLUMNS,
        "row", "account_id", "attempts", "elapsed_ms", "http_status",
        "imap_server_port", "smtp_server_port", "dns_ms", "imap_ms", "smtp_ms",
    }
)  # fmt: skip

# The sheet of each report RunFolder can hold.
SHEET_TITLES: Mapping[str, str] = {
    "succeeded": "Succeeded",
    "valid": "Valid",
    "failed": "Failed",
    "unprocessed": "Unprocessed",
    "skipped": "Skipped",
    "changes": "Changes",
}
SUMMARY_TITLE = "Summary"

# Where a report's echo of the input row begins: those columns are the user's own text, never
# typed as numbers or coloured, even when a header happens to read `score`.
_ECHO_STARTS: Mapping[str, int] = {"failed": len(FAILED_COLUMNS)}

# validate's Valid sheet is a preview of how rows were read (presets filled in, providers
# guessed): a million-row sheet would cost minutes of openpyxl to show what valid.csv holds.
PREVIEW_ROWS: Mapping[str, int] = {"valid": 10_000}
WIDTH_SAMPLE_ROWS = 300  # rows read to size the columns; the rest stream straight through
MIN_WIDTH = 6
MAX_WIDTH = 60
_PADDING = 2
_FILTER_BUTTON = 2  # the header's drop-down arrow covers the end of its text


def own_columns(report: str, header: Sequence[str]) -> Sequence[str]:
    """The columns the report itself lays out: the header less any echoed input columns."""
    return header[: _ECHO_STARTS.get(report, len(header))]


def column_widths(header: Sequence[str], sample: Sequence[Sequence[str]]) -> list[float]:
    """A width per column, fitting its header and the longest line of the sample, capped."""
    widths = [len(name) + _FILTER_BUTTON for name in header]
    for cells in sample:
        for index, cell in enumerate(cells[: len(widths)]):
            longest = max(len(line) for line in cell.split("\n"))
            widths[index] = max(widths[index], longest)
    return [float(min(MAX_WIDTH, max(MIN_WIDTH, width + _PADDING))) for width in widths]


def fill_rules(header: Sequence[str], last_row: int) -> list[tuple[str, str, str]]:
    """The (cell range, formula, fill) rules colouring a sheet's data rows, row 2 to
    `last_row`; each formula is written for the range's first cell."""
    if last_row < 2:
        return []  # no data row: a range like E2:E1 would be invalid
    rules = []
    for index, name in enumerate(header, start=1):
        letter = column_letter(index)
        cells = f"{letter}2:{letter}{last_row}"
        rules += [(cells, formula, fill) for formula, fill in _column_rules(name, f"{letter}2")]
    return rules


def _column_rules(name: str, first_cell: str) -> list[tuple[str, str]]:
    """The (formula, fill) rules of a column named `name` whose first data cell is
    `first_cell`."""
    if name in SCORED_COLUMNS:
        return [(_band(first_cell, low, below), fill) for low, below, fill in SCORE_BANDS]
    fills = FLAG_FILLS.get(name, (None, None))
    return [
        (f'{first_cell}="{word}"', fill)
        for word, fill in zip(("true", "false"), fills, strict=True)
        if fill is not None
    ]


def _band(cell: str, low: float | None, below: float | None) -> str:
    tests = [f"ISNUMBER({cell})"]
    if low is not None:
        tests.append(f"{cell}>={low:g}")
    if below is not None:
        tests.append(f"{cell}<{below:g}")
    return f"AND({','.join(tests)})"
