"""How each row ends: exactly one settled outcome per input row, named after its report file."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bulk_onboard.base.hints import hint_for


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
    # After a successful connect: the account's settings, its tag links (engine/after_connect).
    SETTINGS = "settings"
    TAGS = "tags"
    WORKSPACE = "workspace"  # linked through an email workspace (engine/workspace_batches)


class Unprocessed(StrEnum):
    """Why a row was never settled by the API."""

    ABORTED = "aborted"  # the run stopped: key refused or API unreachable
    INTERRUPTED = "interrupted"  # SIGINT/SIGTERM before the row was sent
    UNKNOWN_OUTCOME = "unknown_outcome"  # sent, but no answer before the run stopped
    # Connected (the account id is known), but its settings or tags are not all applied yet.
    STEPS_PENDING = "steps_pending"
    # Sent in an email workspace batch whose outcome is not known yet (its task, if any, named).
    WORKSPACE_PENDING = "workspace_pending"


@dataclass(frozen=True, slots=True)
class Outcome:
    """One row's final word. `fields` are the report columns of its status (no secrets)."""

    row: int
    email: str
    status: Status
    fields: dict[str, Any] = field(default_factory=dict)
    original: dict[str, str] | None = None  # failed rows echo their columns, secrets blanked


def failed(
    row: int,
    email: str,
    stage: Stage,
    code: str,
    message: str,
    original: dict[str, str] | None,
    *,
    http_status: int | None = None,
    attempts: int = 0,
) -> Outcome:
    """A failed row's outcome: failed.csv's columns, with the hint of its error code."""
    fields: dict[str, Any] = {
        "stage": stage.value,
        "error_code": code,
        "http_status": http_status,
        "message": message,
        "hint": hint_for(code),
        "attempts": attempts,
    }
    return Outcome(row, email, Status.FAILED, fields, original)


def unprocessed(row: int, email: str, reason: Unprocessed) -> Outcome:
    """A row never settled by the API: unprocessed.csv's columns."""
    return Outcome(row, email, Status.UNPROCESSED, {"reason": reason.value})
