"""A row the API accepted, as its Outcome: succeeded.csv's columns read from the account, and
what the connect did to it: `created`, `updated` or `tested`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bulk_onboard.api.accounts import account_fields
from bulk_onboard.api.resend import AFTER_TAKEN
from bulk_onboard.api.submit import Submission
from bulk_onboard.base.outcomes import Outcome, Status

# An account whose `created_at` is older than the run's start by more than this existed before
# the run. The margin absorbs a difference between MailReach's clock and this machine's.
CLOCK_MARGIN = timedelta(minutes=5)


class Action(StrEnum):
    """succeeded.csv's `action`: what the accepted connect did."""

    CREATED = "created"  # a new account
    UPDATED = "updated"  # an account that existed before the row was sent
    TESTED = "tested"  # a dry run (`test: true`): MailReach tested the logins, saved nothing


@dataclass(frozen=True, slots=True)
class Sent:
    """What the tool itself put in a row's first body, as far as reports need it (no secret)."""

    account_id: int | None  # the id it carried: MailReach had the email before the run sent
    test: bool
    auth_type: str | None

    @classmethod
    def of(cls, body: Mapping[str, object]) -> Sent:
        account_id = body.get("id")
        auth_type = body.get("smtp_server_auth_type")
        return cls(
            account_id if isinstance(account_id, int) else None,
            body.get("test") is True,
            auth_type if isinstance(auth_type, str) else None,
        )


def action_of(sent: Sent, sub: Submission, run_started: datetime | None) -> Action:
    """Created, updated or tested.

    Updated: the row was sent with the id of an account MailReach had before (the listing or
    the sheet named it), or MailReach said the email was taken before any try of this row could
    have made it. Otherwise created, unless the account's `created_at` predates the run (an API
    that matched an unlisted account by email).
    """
    if sent.test:
        return Action.TESTED
    if sent.account_id is not None or sub.learned_from == AFTER_TAKEN:
        return Action.UPDATED
    created = _timestamp((sub.account or {}).get("created_at"))
    if run_started is not None and created is not None and created < run_started - CLOCK_MARGIN:
        return Action.UPDATED
    return Action.CREATED


def succeeded(
    row: int, email: str, sub: Submission, sent: Sent, run_started: datetime | None = None
) -> Outcome:
    """The succeeded outcome of a row: the account's report columns, attempts and time.

    A dry run claims no account id: nothing was saved, whatever the answer carried.
    """
    fields = account_fields(sub.account or {}, email)
    action = action_of(sent, sub, run_started)
    if action is Action.TESTED:
        fields["account_id"] = None
    fields |= {
        "attempts": sub.attempts,
        "elapsed_ms": sub.elapsed_ms,
        "action": action.value,
        "smtp_server_auth_type": sent.auth_type,
    }
    return Outcome(row, email, Status.SUCCEEDED, fields)


def _timestamp(value: Any) -> datetime | None:
    """An ISO 8601 time with its zone (`2026-02-14T09:30:00.000Z`), or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
