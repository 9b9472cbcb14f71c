"""Drift: what changed in MailReach or in the sheet since the last sync, as `changes.csv` rows.

Pure functions over the values the state remembers. A score is compared with the value last
*reported*, not the value seen last night: the remembered value only moves when a change is
reported, so a score sliding by 2 a night is reported once it has slid past `--score-delta`
instead of never.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bulk_onboard.api.accounts import FLAG_FIELDS, SCORE_FIELDS, TRACKED_FIELDS, WARMUP_FIELDS
from bulk_onboard.base.changes import Change

IN_SHEET = "in_sheet"  # the field of "new to the sheet" (false → true) and "gone" (true → false)
DEFAULT_SCORE_DELTA = 5.0


def compare(
    email: str, remembered: Mapping[str, Any], seen: Mapping[str, Any], score_delta: float
) -> tuple[list[Change], dict[str, Any]]:
    """The changes worth reporting between `remembered` and `seen`, and the values to remember.

    A field first seen is remembered silently (it is a baseline, not a change); a field not seen
    this time keeps its remembered value. A score is reported when it moved by more than
    `score_delta`; a flag whenever it flipped; a warm-up setting whenever it differs (set in
    MailReach behind the sheet's back: the tool's own updates are remembered as they are made).
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
        elif name in WARMUP_FIELDS and after != before:
            changes.append(Change(email, name, before, after))
            keep[name] = after
    return changes, keep


def joined_sheet(email: str) -> Change:
    """A row whose email the state never saw in the sheet."""
    return Change(email, IN_SHEET, False, True)


def left_sheet(email: str, was_in_sheet: bool | None) -> Change:
    """An account in MailReach whose email is not (or no longer) in the sheet."""
    return Change(email, IN_SHEET, was_in_sheet, False)
