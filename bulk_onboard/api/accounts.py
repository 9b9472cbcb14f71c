"""What the tool reads of MailReach's account object: report columns and the tracked fields.

Read tolerantly: more, fewer or null fields are fine, and nested values a newer API may return
are kept as text. The listing, `sync`'s drift and the reports all read accounts through here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SCORE_FIELDS = ("score", "score_gmail", "score_outlook", "score_custom")
FLAG_FIELDS = ("alive", "suspended", "imap_issue", "spf_valid", "dkim_valid", "dmarc_valid")
TRACKED_FIELDS = SCORE_FIELDS + FLAG_FIELDS

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


def tracked(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The tracked fields of an account's report columns (account_fields), nulls left out."""
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
