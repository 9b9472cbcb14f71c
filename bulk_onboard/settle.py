"""Turning what happened to a row into its Outcome: the report columns, read tolerantly."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bulk_onboard.hints import hint_for
from bulk_onboard.outcomes import Outcome, Stage, Status, Unprocessed
from bulk_onboard.submit import Submission

_ACCOUNT_KEYS = (
    "provider", "score", "score_gmail", "score_outlook", "score_custom", "alive", "suspended",
    "warming_enabled", "imap_issue", "detected_sending_provider",
)  # fmt: skip
_DOMAIN_KEYS = ("spf_valid", "dkim_valid", "dmarc_valid")


def account_fields(account: Mapping[str, Any], email: str) -> dict[str, Any]:
    """succeeded.csv columns from an account object; more, fewer or null fields are fine."""
    get = account.get
    fields: dict[str, Any] = {"account_id": _scalar(get("id"))}
    for key in _ACCOUNT_KEYS:
        fields[key] = _scalar(get(key))
    domain = get("domain")
    if not isinstance(domain, Mapping):
        domain = {}
    fields["domain"] = _scalar(domain.get("name")) or email.rpartition("@")[2]
    for key in _DOMAIN_KEYS:
        fields[key] = _scalar(domain.get(key))
    mx = domain.get("mx_records")
    fields["mx_records"] = " ".join(map(str, mx)) if isinstance(mx, list) else _scalar(mx)
    return fields


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _scalar(value: Any) -> Any:
    """A CSV-ready value: nested objects a newer API may return are kept as text."""
    return value if type(value) in _SCALARS else str(value)


def succeeded(row: int, email: str, sub: Submission) -> Outcome:
    fields = account_fields(sub.account or {}, email)
    fields |= {"attempts": sub.attempts, "elapsed_ms": sub.elapsed_ms}
    return Outcome(row, email, Status.SUCCEEDED, fields)


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
    return Outcome(row, email, Status.UNPROCESSED, {"reason": reason.value})
