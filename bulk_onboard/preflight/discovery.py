"""Finding the IMAP and SMTP servers of a mailbox whose row names none.

In order: the preset of the email's domain; the preset whose MX host names match the domain's MX
(`aspmx.l.google.com` -> Google, `*.mail.protection.outlook.com` -> Microsoft 365...); RFC 6186
SRV records (`_imaps._tcp`, `_imap._tcp`, `_submissions._tcp`, `_submission._tcp`); and last a
guess, `mail.<domain>`, which the report marks as guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bulk_onboard.preflight.failures import CheckFailed
from bulk_onboard.preflight.resolver import Dns
from bulk_onboard.rows.presets import Preset, preset_for_domain, preset_for_mx

GUESS_PREFIX = "mail."
IMAP_TLS_PORT, IMAP_STARTTLS_PORT = 993, 143
SMTP_TLS_PORT, SMTP_STARTTLS_PORT = 465, 587
# RFC 6186 services, preferred first (RFC 8314: TLS from the first byte beats STARTTLS).
IMAP_SERVICES = (("_imaps._tcp", IMAP_TLS_PORT), ("_imap._tcp", IMAP_STARTTLS_PORT))
SMTP_SERVICES = (("_submissions._tcp", SMTP_TLS_PORT), ("_submission._tcp", SMTP_STARTTLS_PORT))


@dataclass(frozen=True, slots=True)
class Server:
    host: str
    port: int
    source: str  # "preset <name>", "MX <name>", "SRV", "guessed"

    @property
    def guessed(self) -> bool:
        return self.source == "guessed"

    def describe(self, label: str) -> str:
        """`IMAP server mail.example.com:993 (guessed)`, for the report."""
        how = "guessed" if self.guessed else f"from {self.source}"
        return f"{label} server {self.host}:{self.port} ({how})"


@dataclass(frozen=True, slots=True)
class Servers:
    imap: Server
    smtp: Server


def _from_preset(preset: Preset, source: str) -> Servers:
    return Servers(
        Server(preset.imap_host, preset.imap_port, f"{source} {preset.name}"),
        Server(preset.smtp_host, preset.smtp_port, f"{source} {preset.name}"),
    )


def preset_servers(domain: str, mx_records: Sequence[str]) -> Servers | None:
    """The servers a known provider gives this domain (by the domain, then by its MX), if any."""
    preset = preset_for_domain(domain)
    if preset is not None:
        return _from_preset(preset, "preset")
    for mx in mx_records:
        preset = preset_for_mx(mx)
        if preset is not None:
            return _from_preset(preset, "MX")
    return None


async def _srv(dns: Dns, domain: str, services: tuple[tuple[str, int], ...]) -> Server | None:
    for service, _ in services:
        try:
            found = await dns.srv(f"{service}.{domain}")
        except CheckFailed:
            continue  # SRV is optional: a failed lookup just means guessing
        if found:
            host, port = found[0]
            return Server(host, port, "SRV")
    return None


async def discover(dns: Dns, domain: str, mx_records: Sequence[str]) -> Servers:
    """The servers of `domain`: preset, MX fingerprint, SRV, then the `mail.<domain>` guess."""
    known = preset_servers(domain, mx_records)
    if known is not None:
        return known
    guess = GUESS_PREFIX + domain
    imap = await _srv(dns, domain, IMAP_SERVICES) or Server(guess, IMAP_TLS_PORT, "guessed")
    smtp = await _srv(dns, domain, SMTP_SERVICES) or Server(guess, SMTP_STARTTLS_PORT, "guessed")
    return Servers(imap, smtp)
