"""What the tool reads of MailReach's account object: report columns and the tracked fields.

The shape is the published example's (docs/mailreach/imap_auth.txt): the domain's name is
`domain.domain`, `domain.mx_records` is a list of `[host, ip, priority]` string triples, `tags`
a list of `{id, name}`. Read tolerantly: more, fewer or null fields are fine. A value of an
unexpected kind (an object where a number was expected) is left blank rather than shown as
Python or JSON text. The listing, `sync`'s drift and the reports all read accounts through here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bulk_onboard.rows.account_settings import SETTINGS

SCORE_FIELDS = ("score", "score_gmail", "score_outlook", "score_custom")
FLAG_FIELDS = ("alive", "suspended", "imap_issue", "spf_valid", "dkim_valid", "dmarc_valid")
# The warm-up settings a sheet may set (the integer fields of the update table): `sync` reports
# them changed in MailReach behind the sheet's back, as it does scores.
WARMUP_FIELDS = tuple(f.name for f in SETTINGS if f.kind is int)
TRACKED_FIELDS = SCORE_FIELDS + FLAG_FIELDS + WARMUP_FIELDS

_ACCOUNT_KEYS = (
    "provider", "score", "score_gmail", "score_outlook", "score_custom", "alive", "suspended",
    "warming_enabled", "imap_issue", "detected_sending_provider",
)  # fmt: skip
_DOMAIN_KEYS = ("spf_valid", "dkim_valid", "dmarc_valid")
# succeeded.csv's columns read from the account beyond SPEC.md's, as (column, key path).
EXTRA_COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("domain_avg_score", ("domain", "avg_score")),
    ("sending_ip", ("sending_ip",)),
    ("sending_reverse_dns", ("sending_reverse_dns_value",)),
)


def account_fields(account: Mapping[str, Any], email: str) -> dict[str, Any]:
    """succeeded.csv columns from an account object; more, fewer or null fields are fine."""
    get = account.get
    account_id = get("id")
    fields: dict[str, Any] = {
        "account_id": account_id if isinstance(account_id, int) and _is_number(account_id) else None
    }
    for key in _ACCOUNT_KEYS:
        fields[key] = _scalar(get(key))
    domain = get("domain")
    name = domain if isinstance(domain, str) else None
    if not isinstance(domain, Mapping):
        domain = {}
    name = name or _scalar(domain.get("domain"))
    fields["domain"] = name if isinstance(name, str) and name else email.rpartition("@")[2]
    for key in _DOMAIN_KEYS:
        fields[key] = _scalar(domain.get(key))
    fields["mx_records"] = " ".join(mx_hosts(domain.get("mx_records")))
    for column, path in EXTRA_COLUMNS:
        fields[column] = _scalar(_at(account, path))
    fields["tags"] = ", ".join(tag_names(get("tags")))
    for key in WARMUP_FIELDS:  # not report columns: what `sync` tracks (tracked, below)
        fields[key] = _scalar(get(key))
    return fields


def mx_hosts(records: Any) -> list[str]:
    """The MX host names of `domain.mx_records`, most preferred (lowest priority) first.

    Each record is `[host, ip, priority]` as published; a bare host name or an object with a
    `host` (or `exchange`) is read too. Records without a host are left out.
    """
    if not isinstance(records, list):
        return []
    found: list[tuple[float, int, str]] = []
    for position, record in enumerate(records):
        host: Any = None
        priority: Any = None
        if isinstance(record, str):
            host = record
        elif isinstance(record, list) and record:
            host = record[0]
            priority = record[2] if len(record) > 2 else None
        elif isinstance(record, Mapping):
            host = record.get("host") or record.get("exchange")
            priority = record.get("priority", record.get("preference"))
        if isinstance(host, str) and host.strip():
            found.append((_priority(priority), position, host.strip().rstrip(".").lower()))
    return [host for _, _, host in sorted(found)]


def tag_names(tags: Any) -> list[str]:
    """The names of an account's `tags` ({id, name} objects; bare names are read too)."""
    if not isinstance(tags, list):
        return []
    names = (tag.get("name") if isinstance(tag, Mapping) else tag for tag in tags)
    return [name.strip() for name in names if isinstance(name, str) and name.strip()]


def _priority(value: Any) -> float:
    """An MX priority ("0", 10, ...) as a number to sort by; unreadable ones sort last."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("inf")


def _at(account: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = account
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _scalar(value: Any) -> Any:
    """A CSV-ready value; an object or list where a scalar was expected is left blank."""
    return value if type(value) in _SCALARS else None


def tracked(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The tracked fields of an account's report columns (account_fields), nulls left out."""
    values = {}
    for name in SCORE_FIELDS:
        value = fields.get(name)
        if _is_number(value):
            values[name] = value
    for name in FLAG_FIELDS:
        value = fields.get(name)
        if isinstance(value, bool):
            values[name] = value
    for name in WARMUP_FIELDS:
        value = fields.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            values[name] = value
    return values
