"""A mail domain's DNS health: MX, SPF, DMARC and DKIM, as MailReach's `domain` object has them.

The record checks are pure functions; `inspect_domain` asks DNS for everything at once.
A domain that does not exist or has no MX can't receive mail (so warm-up replies bounce): that
fails the row. Missing SPF, DKIM or DMARC does not; it shows in the report's columns.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from bulk_onboard.preflight.failures import CheckFailed, Code
from bulk_onboard.preflight.resolver import Dns
from bulk_onboard.preflight.settings import COMMON_DKIM_SELECTORS

T = TypeVar("T")
_DMARC_POLICIES = frozenset({"none", "quarantine", "reject"})


def tags(record: str) -> dict[str, str]:
    """`k=v; k2=v2` tag lists (DKIM, DMARC) as a dict; names lower-cased."""
    found: dict[str, str] = {}
    for part in record.split(";"):
        name, sep, value = part.partition("=")
        if sep:
            found.setdefault(name.strip().lower(), "".join(value.split()))
    return found


def spf_record(txts: Iterable[str]) -> tuple[bool, str | None]:
    """(valid, value): exactly one `v=spf1` record is valid; two or more are a permanent error."""
    spf = [t for t in txts if t.strip().lower() == "v=spf1" or t.lower().startswith("v=spf1 ")]
    return len(spf) == 1, spf[0] if spf else None


def dmarc_record(txts: Iterable[str]) -> tuple[bool, str | None]:
    """(valid, value): one `v=DMARC1` record with a policy (`p=none|quarantine|reject`)."""
    dmarc = [t for t in txts if t.replace(" ", "").upper().startswith("V=DMARC1")]
    if len(dmarc) != 1:
        return False, dmarc[0] if dmarc else None
    policy = tags(dmarc[0]).get("p", "").lower()
    return policy in _DMARC_POLICIES, dmarc[0]


def dkim_key(txts: Iterable[str]) -> bool:
    """A DKIM key record publishes a non-empty `p=` (an empty one means the key was revoked)."""
    for txt in txts:
        found = tags(txt)
        if found.get("p") and found.get("v", "DKIM1").upper() == "DKIM1":
            return True
    return False


@dataclass(frozen=True, slots=True)
class DomainReport:
    """What DNS says about one mail domain; `failure` is set when the domain can't get mail."""

    domain: str
    mx_records: tuple[str, ...] = ()
    spf_valid: bool | None = None  # None: not known (the lookup itself failed)
    spf_value: str | None = None
    dmarc_valid: bool | None = None
    dmarc_value: str | None = None
    dkim_valid: bool | None = None
    dkim_selector: str | None = None
    failure: CheckFailed | None = None
    elapsed_ms: int = 0

    def columns(self) -> dict[str, Any]:
        """The report columns MailReach's `domain` object fills."""
        return {
            "domain": self.domain,
            "spf_valid": self.spf_valid,
            "dkim_valid": self.dkim_valid,
            "dmarc_valid": self.dmarc_valid,
            "mx_records": " ".join(self.mx_records),
        }

    def as_api_domain(self) -> Mapping[str, Any]:
        """The DNS fields of an account's `domain` object, in the API's shape: strings, never
        null, and `mx_records` as `[host, ip, priority]` (this lookup knows only the host)."""
        return {
            "domain": self.domain,
            "spf_valid": bool(self.spf_valid),
            "spf_value": self.spf_value or "",
            "dkim_valid": bool(self.dkim_valid),
            "dkim_selector": self.dkim_selector or "",
            "dmarc_valid": bool(self.dmarc_valid),
            "dmarc_value": self.dmarc_value or "",
            "mx_records": [[host, "", ""] for host in self.mx_records],
        }

    def gaps(self) -> list[str]:
        """One short sentence per missing record, for the report's notes."""
        missing = [
            f"no valid {name} record"
            for name, valid in (
                ("SPF", self.spf_valid), ("DKIM", self.dkim_valid), ("DMARC", self.dmarc_valid)
            )
            if valid is False
        ]  # fmt: skip
        return [f"{self.domain}: {', '.join(missing)}."] if missing else []


async def _settled(job: Awaitable[T]) -> T | CheckFailed:
    try:
        return await job
    except CheckFailed as failed:
        return failed


async def _dkim(dns: Dns, domain: str, selectors: tuple[str, ...]) -> str | None:
    """The first selector (in the order given) that publishes a DKIM key, if any."""
    found = await asyncio.gather(
        *(_settled(dns.txt(f"{s}._domainkey.{domain}")) for s in selectors)
    )
    for selector, txts in zip(selectors, found, strict=True):
        if not isinstance(txts, CheckFailed) and dkim_key(txts):
            return selector
    if any(isinstance(txts, CheckFailed) for txts in found):
        raise next(txts for txts in found if isinstance(txts, CheckFailed))
    return None


async def inspect_domain(dns: Dns, domain: str, dkim_selector: str | None = None) -> DomainReport:
    """Look up MX, SPF, DMARC and DKIM of `domain` concurrently (bounded by the caller)."""
    started = time.monotonic()
    selectors = (dkim_selector,) if dkim_selector else COMMON_DKIM_SELECTORS
    mx, txt, dmarc, dkim = await asyncio.gather(
        _settled(dns.mx(domain)),
        _settled(dns.txt(domain)),
        _settled(dns.txt(f"_dmarc.{domain}")),
        _settled(_dkim(dns, domain, selectors)),
    )
    elapsed_ms = round((time.monotonic() - started) * 1000)
    if isinstance(mx, CheckFailed):
        return DomainReport(domain, failure=mx, elapsed_ms=elapsed_ms)
    failure = None
    if not mx:
        failure = CheckFailed(Code.NO_MX, f"{domain} has no MX record, so it can't receive mail.")
    spf_valid, spf_value = (None, None) if isinstance(txt, CheckFailed) else spf_record(txt)
    dmarc_valid, dmarc_value = (
        (None, None) if isinstance(dmarc, CheckFailed) else dmarc_record(dmarc)
    )
    return DomainReport(
        domain,
        mx_records=tuple(mx),
        spf_valid=spf_valid,
        spf_value=spf_value,
        dmarc_valid=dmarc_valid,
        dmarc_value=dmarc_value,
        dkim_valid=None if isinstance(dkim, CheckFailed) else dkim is not None,
        dkim_selector=None if isinstance(dkim, CheckFailed) else dkim,
        failure=failure,
        elapsed_ms=elapsed_ms,
    )
