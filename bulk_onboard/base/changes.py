"""A change record: one line of sync's changes.csv. Data only; `sync.drift` computes them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CHANGES_COLUMNS = ("email", "field", "before", "after")


@dataclass(frozen=True, slots=True)
class Change:
    """One line of changes.csv. `before` is None when nothing was known."""

    email: str
    field: str
    before: Any
    after: Any
