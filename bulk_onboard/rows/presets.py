"""The provider preset table: IMAP/SMTP settings of the big mailbox providers, as data.

A preset is found by the email's domain (`gmail.com`), by the domain's MX host (a custom domain on
Google Workspace has MX `aspmx.l.google.com`) or by a server host name (`imap.gmail.com`).

Domain entries are either exact (`gmail.com`), `brand.*` (the brand under a country or generic
suffix of at most two short labels: `hotmail.co.uk`, `yahoo.fr`) or `*.suffix` (any subdomain:
`contoso.onmicrosoft.com`).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from bulk_onboard.rows.request import AuthType, Provider


@dataclass(frozen=True, slots=True)
class Preset:
    """One provider's connection settings and how to recognise its mailboxes."""

    name: str
    provider: Provider
    imap_host: str
    imap_port: int
    smtp_host: str
    smtp_port: int
    smtp_starttls: bool
    domains: tuple[str, ...] = ()
    mx_suffixes: tuple[str, ...] = ()
    oauth_only: bool = False  # password sign-in is refused for third-party apps
    # The SMTP auth type to send when the sheet names none, for servers that don't offer PLAIN.
    smtp_auth_type: AuthType | None = None


def _tls(
    name: str,
    imap: str,
    smtp: str,
    *,
    domains: tuple[str, ...] = (),
    mx_suffixes: tuple[str, ...] = (),
) -> Preset:
    """A custom-provider preset whose SMTP is implicit TLS on 465."""
    return Preset(name, "custom", imap, 993, smtp, 465, False, domains, mx_suffixes)


def _starttls(
    name: str,
    provider: Provider,
    imap: str,
    smtp: str,
    *,
    domains: tuple[str, ...] = (),
    mx_suffixes: tuple[str, ...] = (),
    oauth_only: bool = False,
) -> Preset:
    """A preset whose SMTP is STARTTLS on 587."""
    return Preset(name, provider, imap, 993, smtp, 587, True, domains, mx_suffixes, oauth_only)


GMAIL = _starttls(
    "Gmail / Google Workspace",
    "gmail",
    "imap.gmail.com",
    "smtp.gmail.com",
    domains=("gmail.com", "googlemail.com"),
    mx_suffixes=("aspmx.l.google.com", "googlemail.com", "smtp.google.com"),
)
MICROSOFT_365 = dataclasses.replace(
    _starttls(
        "Microsoft 365",
        "outlook",
        "outlook.office365.com",
        "smtp.office365.com",
        domains=("*.onmicrosoft.com",),
        mx_suffixes=("mail.protection.outlook.com",),
    ),
    # smtp.office365.com offers AUTH LOGIN and XOAUTH2, not PLAIN.
    smtp_auth_type="login",
)

PRESETS: tuple[Preset, ...] = (
    GMAIL,
    MICROSOFT_365,
    _starttls(
        "Outlook.com",
        "outlook",
        "outlook.office365.com",
        "smtp-mail.outlook.com",
        domains=("outlook.*", "hotmail.*", "live.*", "msn.com", "windowslive.com", "passport.com"),
        mx_suffixes=("olc.protection.outlook.com",),
        oauth_only=True,
    ),
    _tls(
        "Yahoo Mail",
        "imap.mail.yahoo.com",
        "smtp.mail.yahoo.com",
        domains=("yahoo.*", "ymail.com", "rocketmail.com"),
        mx_suffixes=("am0.yahoodns.net",),
    ),
    _tls(
        "AOL Mail",
        "imap.aol.com",
        "smtp.aol.com",
        domains=("aol.*", "aim.com"),
        mx_suffixes=("mx-aol.mail.gm0.yahoodns.net",),
    ),
    _starttls(
        "iCloud Mail",
        "custom",
        "imap.mail.me.com",
        "smtp.mail.me.com",
        domains=("icloud.com", "me.com", "mac.com"),
        mx_suffixes=("mail.icloud.com",),
    ),
    # Zoho: personal @zoho addresses use imap/smtp.zoho.*; custom domains (found by MX) are
    # organisation accounts, which Zoho serves from imappro/smtppro.zoho.*.
    _tls("Zoho Mail", "imap.zoho.com", "smtp.zoho.com", domains=("zoho.com", "zohomail.com")),
    _tls("Zoho Mail EU", "imap.zoho.eu", "smtp.zoho.eu", domains=("zoho.eu", "zohomail.eu")),
    _tls("Zoho Mail India", "imap.zoho.in", "smtp.zoho.in", domains=("zoho.in", "zohomail.in")),
    _tls(
        "Zoho Mail Australia",
        "imap.zoho.com.au",
        "smtp.zoho.com.au",
        domains=("zoho.com.au", "zohomail.com.au"),
    ),
    _tls("Zoho Mail Pro", "imappro.zoho.com", "smtppro.zoho.com", mx_suffixes=("zoho.com",)),
    _tls("Zoho Mail Pro EU", "imappro.zoho.eu", "smtppro.zoho.eu", mx_suffixes=("zoho.eu",)),
    _tls("Zoho Mail Pro India", "imappro.zoho.in", "smtppro.zoho.in", mx_suffixes=("zoho.in",)),
    _tls(
        "Zoho Mail Pro Australia",
        "imappro.zoho.com.au",
        "smtppro.zoho.com.au",
        mx_suffixes=("zoho.com.au",),
    ),
    _tls(
        "GoDaddy Workspace Email",
        "imap.secureserver.net",
        "smtpout.secureserver.net",
        mx_suffixes=("secureserver.net",),
    ),
    _tls(
        "Hostinger Email",
        "imap.hostinger.com",
        "smtp.hostinger.com",
        mx_suffixes=("hostinger.com",),
    ),
    _tls(
        "Namecheap Private Email",
        "mail.privateemail.com",
        "mail.privateemail.com",
        mx_suffixes=("privateemail.com",),
    ),
    _tls("Titan Email", "imap.titan.email", "smtp.titan.email", mx_suffixes=("titan.email",)),
    _tls(
        "Yandex Mail",
        "imap.yandex.com",
        "smtp.yandex.com",
        domains=("yandex.com", "yandex.ru", "ya.ru", "yandex.by", "yandex.kz", "yandex.ua"),
        mx_suffixes=("yandex.net", "yandex.ru"),
    ),
    _starttls(
        "GMX",
        "custom",
        "imap.gmx.com",
        "mail.gmx.com",
        domains=("gmx.com", "gmx.us", "gmx.co.uk", "gmx.fr", "gmx.es"),
    ),
    _starttls(
        "GMX Germany",
        "custom",
        "imap.gmx.net",
        "mail.gmx.net",
        domains=("gmx.de", "gmx.net", "gmx.at", "gmx.ch"),
    ),
    _tls(
        "Mail.ru",
        "imap.mail.ru",
        "smtp.mail.ru",
        domains=("mail.ru", "inbox.ru", "list.ru", "bk.ru", "internet.ru"),
        mx_suffixes=("mail.ru",),
    ),
    _tls(
        "Fastmail",
        "imap.fastmail.com",
        "smtp.fastmail.com",
        domains=("fastmail.com", "fastmail.fm", "fastmail.us"),
        mx_suffixes=("messagingengine.com",),
    ),
)

# Host names that are not a preset's default but still say which provider a mailbox is on.
EXTRA_PROVIDER_HOSTS: dict[str, Provider] = {
    "imap.googlemail.com": "gmail",
    "smtp.googlemail.com": "gmail",
    "smtp-relay.gmail.com": "gmail",
    "imap-mail.outlook.com": "outlook",
    "smtp.outlook.com": "outlook",
}

# `brand.*` matches only a public-suffix-like tail (`com`, `co.uk`), so `live.example.test` is not
# taken for Outlook.com.
_SUFFIX_TAIL = re.compile(r"[a-z]{2,3}(?:\.[a-z]{2,3})?")


def _domain_indexes() -> tuple[
    dict[str, Preset], dict[str, Preset], tuple[tuple[str, Preset], ...]
]:
    exact: dict[str, Preset] = {}
    brands: dict[str, Preset] = {}
    subdomains: list[tuple[str, Preset]] = []
    for preset in PRESETS:
        for domain in preset.domains:
            if domain.endswith(".*"):
                brands[domain[:-2]] = preset
            elif domain.startswith("*."):
                subdomains.append((domain[1:], preset))
            else:
                exact[domain] = preset
    return exact, brands, tuple(subdomains)


_BY_DOMAIN, _BY_BRAND, _BY_SUBDOMAIN = _domain_indexes()
# Longest suffix first, so AOL's MX beats Yahoo's and `zoho.com.au` is not read as `zoho.com`.
_BY_MX = sorted(
    ((suffix, preset) for preset in PRESETS for suffix in preset.mx_suffixes),
    key=lambda item: -len(item[0]),
)
_PROVIDER_BY_HOST: dict[str, Provider] = {
    **{host: p.provider for p in PRESETS for host in (p.imap_host, p.smtp_host)},
    **EXTRA_PROVIDER_HOSTS,
}
_BY_PROVIDER: dict[str, Preset] = {"gmail": GMAIL, "outlook": MICROSOFT_365}


def _clean_host(name: str) -> str:
    return name.strip().lower().rstrip(".")


def preset_for_domain(domain: str) -> Preset | None:
    """The preset of a mail domain (`gmail.com`, `hotmail.co.uk`), if it is a known provider's."""
    domain = _clean_host(domain)
    found = _BY_DOMAIN.get(domain)
    if found is not None:
        return found
    brand, _, tail = domain.partition(".")
    found = _BY_BRAND.get(brand)
    if found is not None and _SUFFIX_TAIL.fullmatch(tail):
        return found
    for suffix, preset in _BY_SUBDOMAIN:
        if domain.endswith(suffix):
            return preset
    return None


def preset_for_email(email: str) -> Preset | None:
    """The preset of the provider hosting `email`, judged by its domain alone (no DNS)."""
    return preset_for_domain(email.rpartition("@")[2])


def preset_for_mx(mx_host: str) -> Preset | None:
    """The preset whose MX host names end like `mx_host` (`alt1.aspmx.l.google.com` → Gmail)."""
    host = _clean_host(mx_host)
    for suffix, preset in _BY_MX:
        if host == suffix or host.endswith("." + suffix):
            return preset
    return None


def preset_for_provider(provider: str) -> Preset | None:
    """The settings to assume for a `gmail` or `outlook` row on a custom domain."""
    return _BY_PROVIDER.get(provider)


def provider_for_host(host: str) -> Provider | None:
    """The provider a known IMAP/SMTP host belongs to (`imap.gmail.com` → gmail), else None."""
    return _PROVIDER_BY_HOST.get(_clean_host(host))


_AUTH_TYPE_BY_SMTP_HOST = {p.smtp_host: p.smtp_auth_type for p in PRESETS if p.smtp_auth_type}


def auth_type_for_smtp_host(host: str) -> AuthType | None:
    """The auth type a preset's SMTP host needs (`login` for smtp.office365.com), if any."""
    return _AUTH_TYPE_BY_SMTP_HOST.get(_clean_host(host))
