"""A row the API accepted, as its Outcome: succeeded.csv's columns read from the account."""

from __future__ import annotations

from bulk_onboard.api.accounts import account_fields
from bulk_onboard.api.submit import Submission
from bulk_onboard.base.outcomes import Outcome, Status


def succeeded(row: int, email: str, sub: Submission) -> Outcome:
    """The succeeded outcome of a row: the account's report columns, attempts and time."""
    fields = account_fields(sub.account or {}, email)
    fields |= {"attempts": sub.attempts, "elapsed_ms": sub.elapsed_ms}
    return Outcome(row, email, Status.SUCCEEDED, fields)
