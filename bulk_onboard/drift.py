"""Drift: what changed in MailReach or in the sheet since the last sync, as `changes.csv` rows.

Pure functions over the values the state remembers. A score is compared with the value last
*reported*, not the value seen last night: the remembered value only moves when a change is
reported, so a score sliding by 2 a night is reported once it has slid past `--score-delta`
instead of never.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulk_onboard.atomic import atomic_writer
from bulk_onboard.reports import escape_cell

SCORE_FIELDS = ("score", "score_gmail", "score_outlook", "score_custom")
FLAG_FIELDS = ("alive", "suspended", "imap_issue", "spf_valid", "dkim_valid", "dmarc_valid")
TRACKED_FIELDS = SCORE_FIELDS + FLAG_FIELDS
IN_SHEET = "in_sheet"  # the field of "new to the sheet" (false → true) and "gone" (true → false)
CHANGES_COLUMNS = ("email", "field", "before", "after")
CHANGES_FILE = "changes.csv"
DEFAULT_SCORE_DELTA = 5.0


@dataclass(frozen=True, slots=True)
class Change:
    """One line of changes.csv. `before` is None when nothing was known."""

    email: str
    field: str
    before: Any
    after: Any


def tracked(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The tracked fields of an account's report columns (settle.account_fields), nulls left out."""
    values = {}
    for name in SCORE_FIELDS:
        value = fields.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            values[name] = value
    for name in FLAG_FIELDS:
        value = fields.get(name)
        if isinstance(value, bool):
            values[name] = value
    return values


def compare(
    email: str, remembered: Mapping[str, Any], seen: Mapping[str, Any], score_delta: float
) -> tuple[list[Change], dict[str, Any]]:
    """The changes worth reporting between `remembered` and `seen`, and the values to remember.

    A field first seen is remembered silently (it is a baseline, not a change); a field not seen
    this time keeps its remembered value. A score is reported when it moved by more than
    `score_delta`; a flag whenever it flipped.
    """
    changes: list[Change] = []
    keep = dict(remembered)
    for name in TRACKED_FIELDS:
        after = seen.get(name)
        if after is None:
            continue
        before = remembered.get(name)
        if before is None:
            keep[name] = after
        elif name in SCORE_FIELDS and abs(float(after) - float(before)) > score_delta:
            changes.append(Change(email, name, before, after))
            keep[name] = after
        elif name in FLAG_FIELDS and bool(after) != bool(before):
            changes.append(Change(email, name, bool(before), bool(after)))
            keep[name] = after
    return changes, keep


def joined_sheet(email: str) -> Change:
    """A row whose email the state never saw in the sheet."""
    return Change(email, IN_SHEET, False, True)


def left_sheet(email: str, was_in_sheet: bool | None) -> Change:
    """An account in MailReach whose email is not (or no longer) in the sheet."""
    return Change(email, IN_SHEET, was_in_sheet, False)


def write_changes(path: Path, changes: Iterable[Change]) -> int:
    """Atomically write changes.csv (0600), sorted by email then field; returns the line count."""
    lines = sorted(changes, key=lambda c: (c.email, c.field))
    with atomic_writer(path, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CHANGES_COLUMNS)
        writer.writerows([escape_cell(getattr(c, col)) for col in CHANGES_COLUMNS] for c in lines)
    return len(lines)
