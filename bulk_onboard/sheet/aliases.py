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
- daily sending limits (Instantly's `Daily Limit`, Smartlead's `max_email_per_day`) and
  warm-up on/off switches: MailReach has no such account setting (warming is on while the
  account is alive; `alive` pauses it, which is not what a "warmup disabled" column meant).

The account settings (rows/account_settings.py) are sent after the connect, in
`POST /v1/accounts/{id}`. Each is recognised under its MailReach name, and under the other tools'
names for the same thing where one exists (README, "Warm-up settings and tags"):
- Instantly's `Warmup Limit` (warm-up emails per day once ramped up) and `Warmup Increment`
  (added per day) are MailReach's `config_rampup_target` and `config_rampup_increase`;
- Smartlead's account API names the same pair `total_warmup_per_day` and `daily_rampup`
  (api.smartlead.ai, "Email warmup"), and its `signature` is MailReach's `signature`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
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
        # Account settings, sent after the connect (rows/account_settings.py).
        "config_rampup_target": (
            "config_rampup_target",
            "Warmup Limit",  # Instantly
            "total_warmup_per_day",  # Smartlead
            "Warmup Per Day",
            "Warmup Target",
            "Rampup Target",
        ),
        "config_rampup_increase": (
            "config_rampup_increase",
            "Warmup Increment",  # Instantly
            "daily_rampup",  # Smartlead
            "Warmup Increase",
            "Rampup Increase",
        ),
        "config_max_conversation_running": (
            "config_max_conversation_running",
            "Max Conversations Running",
        ),
        "config_smtp_append_after_sent": ("config_smtp_append_after_sent",),
        "time_zone": ("time_zone", "Timezone"),
        "signature": ("signature", "Email Signature"),
        "desc": ("desc", "Description"),
        "autopilot": ("autopilot",),
        "alive": ("alive",),
        "tags": ("Tags", "Tag", "Tag IDs", "MailReach Tags"),
        # An email workspace's id: the row is linked through it (rows/workspace_route.py).
        "workspace": ("Workspace", "Email Workspace", "Workspace ID", "email_workspace_id"),
    }
)

PASSWORD_FIELDS = frozenset({"imap_server_password", "smtp_server_password", "password"})


def header_key(header: str) -> str:
    """The comparable form of a header: letters and digits only, case-folded, without accents
    and in their usual width.

    `SMTP Host`, `smtp_host`, `smtpHost` and `SMTP-Host` all give `smtphost`; `Prénom` gives
    `prenom` whether its é is one character or e and an accent (as macOS writes file text),
    and a full-width PASSWORD (as East Asian keyboards type it) gives `password`.
    """
    if not header.isascii():
        # NFKD splits é into e and the accent (not alphanumeric: dropped below) and maps
        # full-width and other compatibility forms to the usual characters.
        header = unicodedata.normalize("NFKD", header)
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
# Rows above the header that an export adds (a title, a date, a note) are looked past, among the
# first this many rows with a value, when each holds one cell at most: the header is then the
# first of them that names an email column. A row of several cells above it is a header.
HEADER_SEARCH_ROWS = 10
BOM_REMNANTS = ("\ufeff", "ï»¿")  # the second is a UTF-8 BOM read as Windows-1252


def names_email(cells: Iterable[str]) -> bool:
    """Whether a row could be the header: one of its cells names the email column."""
    for cell in cells:
        for remnant in BOM_REMNANTS:
            cell = cell.removeprefix(remnant)
        if FIELD_BY_KEY.get(header_key(cell)) == "email":
            return True
    return False


def header_like(cells: Iterable[str]) -> bool:
    """Whether a row that names the email column reads as a whole header: two cells or more
    that name fields, and at least half of those with a value. A data row holding the word
    `Mailbox`, or an instructions row (`Email`, `the mailbox address`), does not."""
    valued = [cell for cell in cells if cell.strip()]
    known = sum(1 for cell in valued if header_key(cell) in FIELD_BY_KEY)
    return known >= 2 and 2 * known >= len(valued)


def title_like(cells: Iterable[str]) -> bool:
    """Whether a row may sit above the header, skipped: one cell with a value at most (a title,
    a date, a note) and no address, which is data."""
    cells = list(cells)
    return sum(1 for cell in cells if cell.strip()) <= 1 and not any("@" in c for c in cells)


def title_rows_skipped(header_row: int) -> str:
    """The warning for the rows looked past above the header (nothing of them is shown: they are
    not ours to judge)."""
    rows = "row above it was" if header_row == 2 else f"{header_row - 1} rows above it were"
    return f"The header is on row {header_row}: the {rows} skipped (none names an email column)."


def header_below_notes(name: str, header_row: int) -> str:
    """The refusal of a sheet whose first row names no email column while row `header_row`
    does, under rows that are not all titles (the rows above are never shown: they may hold
    a shared password)."""
    return (
        f"{name}: row {header_row} names an email column, but a row above it holds more than a "
        "title (two cells or more): delete the rows above the header, or move them below the "
        "table."
    )
