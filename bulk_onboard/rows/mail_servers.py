"""The IMAP and SMTP servers a row's mailbox signs in to: host, port, encryption and passwords.

Pure functions: no I/O. What the row leaves out comes from the provider preset or the protocol's
usual port, with a note saying so; what can't be filled in is a problem naming the column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bulk_onboard.base.redaction import MIN_ANYWHERE_CHARS
from bulk_onboard.rows.presets import Preset, provider_for_host
from bulk_onboard.rows.request import Provider
from bulk_onboard.rows.values import HIGHEST_PORT, Cells, app_password, as_text, is_email

DEFAULT_IMAP_PORT = 993
DEFAULT_SMTP_PORT = 587

_STARTTLS_BY_PORT = {25: True, 587: True, 2525: True, 465: False}
_WAY = {True: "STARTTLS", False: "TLS from the first byte"}
_LONGEST_HOST = 253
_remembered_provider = lru_cache(maxsize=4096)(provider_for_host)
# A workbook's date cell, as sheet/xlsx.py writes it (ISO 8601; openpyxl reads dates as datetimes).
_WORKBOOK_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?")
# The text cells a request sends as they are, where a password must never be.
_SENT_TEXT_FIELDS = (
    "first_name",
    "last_name",
    "name",
    "username",
    "imap_server_username",
    "smtp_server_username",
)


@dataclass(frozen=True, slots=True)
class Protocol:
    """One protocol's fields in the request, and the port it uses when none is given."""

    label: str
    host_field: str
    port_field: str
    username_field: str
    password_field: str
    default_port: int


IMAP = Protocol(
    "IMAP",
    "imap_server",
    "imap_server_port",
    "imap_server_username",
    "imap_server_password",
    DEFAULT_IMAP_PORT,
)
SMTP = Protocol(
    "SMTP",
    "smtp_server",
    "smtp_server_port",
    "smtp_server_username",
    "smtp_server_password",
    DEFAULT_SMTP_PORT,
)


def host_and_port(
    c: Cells,
    notes: list[str],
    filled: list[str],
    proto: Protocol,
    host: str,
    preset: Preset | None,
    required: bool,
    default_port: int | None = None,
) -> tuple[str, int | None]:
    """The host and port to use for one protocol, from the row or else from the preset.

    Adds the protocol's label to `filled` when the preset supplied the host.
    """
    port = c.whole(proto.port_field, "invalid_port", HIGHEST_PORT, proto.default_port)
    if c.host_ports is not None and proto.host_field in c.host_ports:
        port = _port_in_host(c, notes, proto, host, port, c.host_ports[proto.host_field])
    if preset is None:
        known = None
    elif proto is IMAP:
        known = (preset.imap_host, preset.imap_port)
    else:
        known = (preset.smtp_host, preset.smtp_port)
    if not host:
        if known is not None and required:
            filled.append(proto.label)
            return known[0], port or known[1]
        if required:
            c.fail(
                "missing_field",
                proto.host_field,
                f"{{column}} is empty and the email's domain is not a known provider's; fill in "
                f"the {proto.label} server's host name.",
            )
        return "", port
    if port is None and not c.failed(proto.port_field):
        if known is not None and known[0] == host:
            port = known[1]
        else:
            port = default_port or proto.default_port
        tls = "STARTTLS" if _STARTTLS_BY_PORT.get(port) else "TLS"
        notes.append(f"'{c.columns.header_for(proto.port_field)}' was empty; used {port} ({tls}).")
    return host, port


def _port_in_host(
    c: Cells, notes: list[str], proto: Protocol, host: str, port: int | None, in_host: int
) -> int | None:
    """The port of a row whose host cell named one (`smtp.example.com:587`): that one, with a
    note, when the port column is blank; the port column's when it says the same (or could not
    be read, and failed); None and a problem when the two differ."""
    host_column = c.columns.header_for(proto.host_field)
    if port is None and not c.failed(proto.port_field):
        notes.append(f"'{host_column}' held a port too; used {host} and port {in_host}.")
        return in_host
    if port is not None and port != in_host:
        c.fail(
            "invalid_port",
            proto.port_field,
            f"{{column}} says {port} but '{as_text(host_column)}' names port {in_host}: write the "
            "port in {column} only.",
        )
        return None
    return port


def smtp_starttls(c: Cells, security: str | None, smtp_port: int | None) -> bool | None:
    """MailReach's own column first, then the security column read against the port.

    A plain "encrypted" word (TLS, SSL, SSL/TLS, true) takes the port's way: STARTTLS on 587, 25
    and 2525, TLS from the first byte on 465 (and on any other port). A word that names one
    way, against a port that uses the other, is a conflict only the user can settle: a problem.
    """
    explicit = c.flag("smtp_server_starttls") if "smtp_server_starttls" in c.index else None
    if explicit is not None:
        return explicit
    by_port = _STARTTLS_BY_PORT.get(smtp_port) if smtp_port else None
    if security is None:
        return by_port
    if security == "secure":
        return False if by_port is None else by_port
    starttls = security == "starttls"
    if security != "none" and by_port is not None and by_port != starttls:
        c.fail(
            "smtp_security_conflict",
            "smtp_security",
            f"{{column}} asks for {_WAY[starttls]}, but port {smtp_port} uses {_WAY[by_port]}: "
            "correct the port or the security cell, or leave the security cell blank.",
        )
        return None
    return starttls


def host_provider(host: str) -> Provider | None:
    """`provider_for_host`, remembered: a sheet names the same few hosts on thousands of rows."""
    if len(host) > _LONGEST_HOST:  # not a host name, and too long to keep
        return provider_for_host(host)
    return _remembered_provider(host)


def passwords(
    c: Cells,
    notes: list[str],
    provider: Provider,
    hosts: tuple[str, str],
    imap_needed: bool,
) -> tuple[str, str]:
    """The IMAP and SMTP passwords, each its own column's or else the shared one.

    Google app passwords lose the spaces Google displays in them; a missing one is a problem.
    """
    shared = c.secret("password")
    imap, smtp = c.secret(IMAP.password_field) or shared, c.secret(SMTP.password_field) or shared
    if "@" in imap or "@" in smtp:
        _addresses_for_passwords(c)
    _passwords_in_sent_text(c, (imap, smtp))
    if imap[:1].isdigit() or smtp[:1].isdigit():
        _dates_for_passwords(c)
    if provider == "gmail" or "gmail" in (host_provider(hosts[0]), host_provider(hosts[1])):
        fixed = app_password(imap), app_password(smtp)
        if fixed != (imap, smtp):
            notes.append("Removed the spaces Google shows inside its 16-letter app password.")
        imap, smtp = fixed
    if smtp and (imap or not imap_needed):
        return imap, smtp
    both_missing = not smtp and not (imap_needed and imap)
    for proto, password, needed in ((IMAP, imap, imap_needed), (SMTP, smtp, True)):
        if needed and not password:
            own_column = proto.password_field in c.columns.index
            what = f"{proto.label} password" if own_column or not both_missing else "password"
            c.fail(
                "missing_field",
                proto.password_field if own_column else "password",
                f"No {what} given; fill in {{column}}.",
            )
    return imap, smtp


def _passwords_in_sent_text(c: Cells, passwords: tuple[str, str]) -> None:
    """Fail a name or username cell that holds the row's password: the request would send it
    as the sender's name or the login, and valid.csv would show it. Columns shifted or swapped
    by one put it there; no one names a mailbox after its password."""
    exact = {password.strip() for password in passwords} - {""}
    if not exact:
        return
    long = [password for password in exact if len(password) >= MIN_ANYWHERE_CHARS]
    for field in _SENT_TEXT_FIELDS:
        if field not in c.index:
            continue
        text = c.text(field)
        if text and (text in exact or any(password in text for password in long)):
            c.fail(
                "invalid_value",
                field,
                "{column} holds the row's password: the columns look shifted or swapped; keep "
                "the password in its own column only.",
            )
            c.withhold(field)


def _dates_for_passwords(c: Cells) -> None:
    """Fail a password cell a workbook stored as a date: Excel turns a typed password such as
    `5/6/2024` into one, and its text (`2024-05-06T00:00:00`) is no password anyone chose."""
    for field in (IMAP.password_field, SMTP.password_field, "password"):
        if _WORKBOOK_DATE.fullmatch(c.secret(field).strip()):
            c.fail(
                "invalid_value",
                field,
                "{column} is a date in the workbook, as Excel stores a password it took for one: "
                "format the column as Text, type the password again, and save.",
            )


def _addresses_for_passwords(c: Cells) -> None:
    """Fail a password cell that holds an email address: the password and the username (or
    email) columns were swapped, so the password is in one of those, which no report may then
    echo."""
    for field in (IMAP.password_field, SMTP.password_field, "password"):
        if is_email(c.secret(field).strip().lower()):
            c.fail(
                "invalid_value",
                field,
                "{column} holds an email address, not a password: the username and password "
                "columns look swapped; put each in its own column.",
            )
            c.withhold("username", IMAP.username_field, SMTP.username_field, "email")
            return  # one sentence says it for the row
