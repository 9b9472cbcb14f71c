"""How each row ends: exactly one settled outcome per input row, named after its report file."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNPROCESSED = "unprocessed"
    SKIPPED = "skipped"
    VALID = "valid"  # `validate` only: the row would be submitted


class Stage(StrEnum):
    INPUT = "input"
    VALIDATION = "validation"
    DUPLICATE = "duplicate"
    PREFLIGHT = "preflight"
    API = "api"


class Unprocessed(StrEnum):
    """Why a row was never settled by the API."""

    ABORTED = "aborted"  # the run stopped: key refused or API unreachable
    INTERRUPTED = "interrupted"  # SIGINT/SIGTERM before the row was sent
    UNKNOWN_OUTCOME = "unknown_outcome"  # sent, but no answer before the run stopped


@dataclass(frozen=True, slots=True)
class Outcome:
    """One row's final word. `fields` are the report columns of its status (no secrets)."""

    row: int
    email: str
    status: Status
    fields: dict[str, Any] = field(default_factory=dict)
    original: dict[str, str] | None = None  # failed rows echo their columns, secrets blanked
