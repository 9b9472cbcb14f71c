"""Local screening of a normalised row before any network: its problems, then duplicate emails."""

from __future__ import annotations

from bulk_onboard.base import outcomes
from bulk_onboard.base.outcomes import Outcome, Stage
from bulk_onboard.rows.normalise import NormalisedRow


class Screen:
    """Fails rows with problems and later repeats of an email; remembers first rows per email."""

    def __init__(self) -> None:
        self._first_row_of: dict[str, int] = {}

    def remember(self, item: NormalisedRow) -> None:
        """Note a row that is not part of this run (settled earlier) as its email's first row."""
        if not item.problems:
            self._first_row_of.setdefault(item.email, item.row)

    def reject(self, item: NormalisedRow) -> Outcome | None:
        """The failed outcome of a row that must not be submitted, else None."""
        if item.problems:
            first = item.problems[0]
            stage = Stage.INPUT if first.code == "invalid_row" else Stage.VALIDATION
            message = " ".join(p.message for p in item.problems)
            return outcomes.failed(item.row, item.email, stage, first.code, message, item.original)
        first_row = self._first_row_of.setdefault(item.email, item.row)
        if first_row != item.row:
            message = f"The same email is on row {first_row}; only that row is processed."
            return outcomes.failed(
                item.row, item.email, Stage.DUPLICATE, "duplicate_email", message, item.original
            )
        return None
