"""changes.csv: sync's drift report, one line per change, sorted by email then field."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from bulk_onboard.base.atomic import atomic_writer
from bulk_onboard.base.changes import CHANGES_COLUMNS, Change
from bulk_onboard.reports.csv_reports import escape_cell


def write_changes(path: Path, changes: Iterable[Change]) -> int:
    """Atomically write changes.csv (0600), sorted by email then field; returns the line count."""
    lines = sorted(changes, key=lambda c: (c.email, c.field))
    with atomic_writer(path, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CHANGES_COLUMNS)
        writer.writerows([escape_cell(getattr(c, col)) for col in CHANGES_COLUMNS] for c in lines)
    return len(lines)
