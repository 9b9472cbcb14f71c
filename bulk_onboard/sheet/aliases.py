"""The header alias table: which spreadsheet headers mean which field.

Field names are the MailReach body names where the field goes into the body as it is, plus four of
our own: `name` (a full name split into first/last), `username` and `password` (one login for both
protocols; Smartlead's `user_name`/`password` are these), `smtp_security` (an ssl/starttls/none or
"secure" flag column) and `dkim_selector` (for the preflight's DKIM lookup).

Headers are compared through `header_key`, so each spelling below also stands for its other
casings and punctuations (`SMTP Host` covers `smtp_host`, `smtpHost`, `SMTP-Host`).

Deliberately not mapped, so they stay as unknown columns:
- a bare `id`: exports of other tools carry their own ids under that name, and sending one as
  MailReach's `id` would update an unrelated account. `run` learns MailReach's own ids from
  its account listing instead.
- `IMAP Secure` / `imapTls`: the body has no IMAP TLS setting.
- daily limits and warm-up settings: not part of `imap_auth`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

FIELD_ALIASES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "email": (
            "Email",
            "Email Address",
            "E-mail Address",
            "Mailbox",
            "Mailbox Address",
            "from_email",
            "Sender Email",
            "Email Account",
            "Account Email",
        ),
        "first_name": ("First Name", "Given Name", "fname", "First"),
        "last_name": ("Last Name", "Surname", "Family Name", "lname", "Last"),
        "name": ("Name", "Full Name", "from_name", "Sender Name", "Display Name"),
        "provider": (
            "Provider",
            "Type",
            "Account Type",
            "Provider Type",
            "Provider Code",
            "Email Provider",
            "Mailbox Provider",
            "ESP",
        ),
        "id": ("MailReach ID", "MailReach Account ID"),
        "imap_server": (
            "IMAP Host",
            "IMAP Server",
            "imap_server",
            "IMAP Hostname",
            "IMAP Server Name",
            "IMAP Address",
            "Incoming Server",
            "Incoming Host",
            "Incoming Mail Server",
        ),
        "imap_server_port": ("IMAP Port", "imap_server_port", "Incoming Port"),
        "imap_server_username": (
            "IMAP Username",
            "IMAP User",
            "imap_server_username",
            "IMAP Login",
        ),
        "imap_server_password": ("IMAP Password", "IMAP Pass", "imap_server_password", "IMAP Pwd"),
        "smtp_server": (
            "SMTP Host",
            "SMTP Server",
            "smtp_server",
            "SMTP Hostname",
            "SMTP Server Name",
            "SMTP Address",
            "Outgoing Server",
            "Outgoing Host",
            "Outgoing Mail Server",
        ),
        "smtp_server_port": ("SMTP Port", "smtp_server_port", "Outgoing Port"),
        "smtp_server_username": (
            "SMTP Username",
            "SMTP User",
            "smtp_server_username",
            "SMTP Login",
        ),
        "smtp_server_password": ("SMTP Password", "SMTP Pass", "smtp_server_password", "SMTP Pwd"),
        "smtp_server_auth_type": (
            "Auth Type",
            "SMTP Auth Type",
            "smtp_server_auth_type",
            "SMTP Auth",
            "SMTP Authentication",
            "Authentication",
            "Authentication Type",
            "Auth Method",
            "SMTP Auth Method",
        ),
        "smtp_server_starttls": (
            "smtp_server_starttls",
            "STARTTLS",
            "SMTP STARTTLS",
            "Use STARTTLS",
        ),
        "smtp_security": (
            "SMTP Security",
            "SMTP Encryption",
            "SMTP Secure",
            "SMTP SSL",
            "SMTP TLS",
            "SMTP SSL/TLS",
            "SSL",
            "TLS",
            "SSL/TLS",
            "Security",
            "Encryption",
            "Secure",
        ),
        "smtp_only": ("smtp_only",),
        "imap_issue": ("imap_issue",),
        "spamchecker_only": ("spamchecker_only", "Spam Checker Only"),
        "password": (
            "Password",
            "App Password",
            "IMAP/SMTP Password",
            "SMTP/IMAP Password",
            "Email Password",
            "Mailbox Password",
            "Account Password",
            "pass",
            "pwd",
            "Passwort",  # German exports
            "Kennwort",
            "Mot de passe",  # French
        ),
        "username": (
            "Username",
            "User",
            "Login",
            "IMAP/SMTP Username",
            "SMTP/IMAP Username",
            "Email Username",
            "Mailbox Username",
        ),
        "dkim_selector": ("DKIM Selector", "DKIM"),
    }
)

PASSWORD_FIELDS = frozenset({"imap_server_password", "smtp_server_password", "password"})


def header_key(header: str) -> str:
    """The comparable form of a header: letters and digits only, case-folded.

    `SMTP Host`, `smtp_host`, `smtpHost` and `SMTP-Host` all give `smtphost`.
    """
    return "".join(ch for ch in header.casefold() if ch.isalnum())


def _field_by_key() -> Mapping[str, str]:
    table: dict[str, str] = {}
    for field, spellings in FIELD_ALIASES.items():
        for spelling in spellings:
            key = header_key(spelling)
            other = table.setdefault(key, field)
            if other != field:
                raise ValueError(f"alias {spelling!r} means both {other} and {field}")
    return MappingProxyType(table)


FIELD_BY_KEY: Mapping[str, str] = _field_by_key()
